/**
 * Splits a byte stream into lines (`\n`, with an optional `\r` before it), with a cap on line
 * length so that input without newlines cannot grow memory without bound.
 */
import { addAbortSignal, Readable } from 'node:stream'

export type Line =
  | { readonly number: number; readonly bytes: Buffer; readonly tooLong?: undefined }
  /** A line longer than the cap: its bytes were dropped. */
  | { readonly number: number; readonly bytes?: undefined; readonly tooLong: true }

const NEWLINE = 0x0a
const CARRIAGE_RETURN = 0x0d

/**
 * Yields the complete lines of each chunk together (so a caller can send them and then wait for
 * the socket once per chunk). Line numbers start at 1 and count every line, blank ones included.
 * A last line without a newline is yielded at the end. Stops (without an error) when `signal`
 * aborts.
 */
export async function* readLines(
  input: NodeJS.ReadableStream,
  maxLineBytes: number,
  signal: AbortSignal,
): AsyncGenerator<Line[]> {
  const stream = input instanceof Readable ? addAbortSignal(signal, input) : input
  let pending: Buffer[] = []
  let pendingBytes = 0
  let overflow = false
  let number = 0

  const finish = (tail: Buffer | undefined): Line => {
    number++
    if (overflow || pendingBytes + (tail?.length ?? 0) > maxLineBytes) {
      pending = []
      pendingBytes = 0
      overflow = false
      return { number, tooLong: true }
    }
    let bytes =
      pending.length === 0 ? (tail ?? Buffer.alloc(0)) : Buffer.concat(tail ? [...pending, tail] : pending)
    pending = []
    pendingBytes = 0
    if (bytes.at(-1) === CARRIAGE_RETURN) bytes = bytes.subarray(0, -1)
    return { number, bytes }
  }

  try {
    for await (const chunk of stream) {
      if (signal.aborted) return
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
      const lines: Line[] = []
      let from = 0
      for (let at = data.indexOf(NEWLINE); at !== -1; at = data.indexOf(NEWLINE, from)) {
        lines.push(finish(data.subarray(from, at)))
        from = at + 1
      }
      if (from < data.length) {
        const rest = data.subarray(from)
        if (overflow || pendingBytes + rest.length > maxLineBytes) {
          overflow = true
          pending = []
          pendingBytes = 0
        } else {
          pending.push(Buffer.from(rest)) // a copy: the stream may reuse its chunk
          pendingBytes += rest.length
        }
      }
      if (lines.length > 0) yield lines
    }
  } catch (error) {
    if (signal.aborted) return
    throw error
  }
  if (pendingBytes > 0 || overflow) yield [finish(undefined)]
}

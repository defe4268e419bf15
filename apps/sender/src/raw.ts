/**
 * Raw mode, for programs that speak plain UDP (the seed tutorials): each line of stdin, or the
 * bytes of a file, goes out as one datagram with no Shoal framing. Plain replies to the sender's
 * socket are printed on stdout as they arrive, and after the last datagram the sender waits
 * `--ack-timeout` for more before it exits.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { CONTROL_CHARACTER } from '@shoal/service'
import type { RawDatagram } from '@shoal/transport'
import { readLines } from './line-reader.js'
import { isAbort, type Source } from './source.js'

export interface RawOptions {
  /** `-` for stdin, or the file's name, for messages. */
  readonly name: string
  /** Lines of stdin, or the whole file as one datagram. */
  readonly input: { readonly lines: NodeJS.ReadableStream } | { readonly bytes: Uint8Array }
  /** Largest datagram: 65,507 bytes over IPv4, 65,488 over IPv6. */
  readonly maxDatagramBytes: number
  /** How long to wait for replies after the last datagram, ms. */
  readonly replyWaitMs: number
  /** `--count`: datagrams to send in all. */
  readonly limit: number | undefined
}

/** One line of stdout per reply: `{"from":"127.0.0.1:5000","bytes":9,"text":"ack:hello"}`. */
export function formatReply(reply: RawDatagram): string {
  const { address, port } = reply.from
  const from = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`
  const text = utf8Text(reply.data)
  const body = text === undefined ? { base64: reply.data.toString('base64') } : { text }
  return `${JSON.stringify({ from, bytes: reply.data.length, ...body })}\n`
}

export function rawSource(options: RawOptions): Source {
  let datagrams = 0
  let bytes = 0
  let replies = 0
  let badLines = 0

  return {
    kind: 'raw',
    batched: false,
    describe: {
      raw: options.name === '-' ? 'stdin, one datagram per line' : `${options.name}, one datagram`,
      replyWaitMs: options.replyWaitMs,
    },
    async run(context) {
      const { publisher, stdout, signal, logger } = context
      const onReply = (reply: RawDatagram) => {
        replies++
        stdout.write(formatReply(reply))
      }
      publisher.on('reply', onReply)
      /** Sends one datagram; false once `--count` datagrams were sent. */
      const send = async (data: Uint8Array) => {
        try {
          await publisher.sendRaw(data)
          datagrams++
          bytes += data.length
        } catch (error) {
          context.onSendError(error)
        }
        return options.limit === undefined || datagrams < options.limit
      }
      try {
        if ('bytes' in options.input) {
          await send(options.input.bytes)
        } else {
          const where = options.name === '-' ? 'stdin' : options.name
          lines: for await (const chunk of readLines(options.input.lines, options.maxDatagramBytes, signal)) {
            for (const line of chunk) {
              if (line.tooLong || line.bytes.length > options.maxDatagramBytes) {
                badLines++
                const reason = `longer than a datagram holds (${options.maxDatagramBytes} bytes); not sent`
                logger.warn({ line: line.number, reason }, `${where}:${line.number}: ${reason}`)
                continue
              }
              if (line.bytes.length === 0) continue
              if (signal.aborted || !(await send(line.bytes))) break lines
            }
          }
        }
        if (signal.aborted) return undefined
        logger.info(
          { datagrams, waitMs: options.replyWaitMs },
          `sent ${datagrams} datagrams; waiting ${options.replyWaitMs} ms for replies`,
        )
        await sleep(options.replyWaitMs, undefined, { signal })
        return options.limit !== undefined && datagrams >= options.limit ? 'count reached' : 'end of input'
      } catch (error) {
        if (isAbort(error)) return undefined
        throw error
      } finally {
        publisher.off('reply', onReply)
      }
    },
    summary: () => ({ datagrams, bytes, replies, ...(badLines > 0 ? { badLines } : {}) }),
  }
}

/**
 * The bytes as text when they are valid UTF-8 without control characters other than tab: no C0,
 * DEL or C1 controls, no bidirectional formatting (see `escapeControls` of @shoal/service). A reply
 * comes from the network, and stdout may be a terminal.
 */
function utf8Text(data: Buffer): string | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(data)
    return text.replaceAll('\t', ' ').match(CONTROL_CHARACTER) === null ? text : undefined
  } catch {
    return undefined
  }
}

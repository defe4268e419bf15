import type { OutputStream } from '@shoal/service'

/** Lines are gathered and written in chunks of about this many bytes (one write per chunk). */
export const OUTPUT_CHUNK_BYTES = 64 * 1024
/**
 * Bytes stdout may hold unwritten (a slow reader) before new lines are dropped and counted.
 * Pipes and files are written synchronously by Node on Linux, so this bounds the other cases.
 */
export const OUTPUT_BACKLOG_BYTES = 16 * 1024 * 1024

/**
 * Writes lines to stdout in chunks: lines of one event-loop turn go out in one write (at the end
 * of the turn, or as soon as a chunk is full), which keeps thousands of frames a second cheap.
 * Lines that would grow the stream's backlog past {@link OUTPUT_BACKLOG_BYTES} are dropped and
 * counted in `dropped`, so a stalled reader cannot exhaust memory.
 */
export class LineWriter {
  dropped = 0
  readonly #out: OutputStream
  #pending: string[] = []
  #pendingBytes = 0
  #scheduled: NodeJS.Immediate | undefined
  readonly #onDrop: (() => void) | undefined

  constructor(out: OutputStream, onFirstDrop?: () => void) {
    this.#out = out
    this.#onDrop = onFirstDrop
  }

  /** Queues one line (without its newline). */
  line(text: string): void {
    if (backlog(this.#out) + this.#pendingBytes > OUTPUT_BACKLOG_BYTES) {
      if (this.dropped++ === 0) this.#onDrop?.()
      return
    }
    this.#pending.push(text)
    this.#pendingBytes += text.length + 1
    if (this.#pendingBytes >= OUTPUT_CHUNK_BYTES) this.flush()
    else this.#scheduled ??= setImmediate(() => this.flush())
  }

  /** Writes text as it is, after the queued lines (cursor movements of the terminal view). */
  write(text: string): void {
    this.flush()
    this.#out.write(text)
  }

  /**
   * Writes what is queued and resolves once the stream has handed everything to the OS, or after
   * {@link OUTPUT_DRAIN_MS}: the process exits right after `stop()`, and a write still queued in
   * Node (a pipe whose reader lags) would be lost.
   */
  async drain(): Promise<void> {
    this.flush()
    if (backlog(this.#out) === 0) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      new Promise<void>((resolve) => this.#out.write('', () => resolve())),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, OUTPUT_DRAIN_MS)
      }),
    ])
    clearTimeout(timer)
  }

  flush(): void {
    if (this.#scheduled !== undefined) {
      clearImmediate(this.#scheduled)
      this.#scheduled = undefined
    }
    if (this.#pending.length === 0) return
    const chunk = `${this.#pending.join('\n')}\n`
    this.#pending = []
    this.#pendingBytes = 0
    this.#out.write(chunk)
  }
}

/** Longest `stop()` waits for stdout to take the last lines, ms: within the 2 s stop deadline. */
export const OUTPUT_DRAIN_MS = 1500

function backlog(out: OutputStream): number {
  return (out as { writableLength?: number }).writableLength ?? 0
}

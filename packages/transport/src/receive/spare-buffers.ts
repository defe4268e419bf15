/**
 * Spare reassembly buffers: the buffers of partial messages given up, kept to be reused for the
 * next message of the same length, so a stream of large frames that loses some allocates no new
 * buffer for each. Bounded by count and bytes; the oldest spare makes room.
 */

/**
 * Spare reassembly buffers kept for reuse, at most this many. Only the buffer of a partial message
 * that was given up (expired, evicted, or complete with the wrong byte count) is kept: it was never
 * handed out. A completed message's buffer never is: it is the payload the subscriber delivers (and
 * a decoded message's `bytes` fields are views into it), which the user may keep for as long as
 * they like.
 */
export const SPARE_BUFFERS_MAX = 8
/** Bytes of spare reassembly buffers kept, at most (see {@link SPARE_BUFFERS_MAX}). */
export const SPARE_BYTES_MAX = 16 * 1024 * 1024
/**
 * A buffer for a message being reassembled, without zero-filling it first (a 1 MiB image costs a
 * full memset otherwise): it completes only once every byte has been written.
 */
function allocateUninitialised(length: number): Uint8Array {
  const memory = Buffer.allocUnsafeSlow(length)
  // A plain Uint8Array view: the codec hands out Uint8Arrays, whose slice() copies (Buffer's does not).
  return new Uint8Array(memory.buffer, memory.byteOffset, length)
}

export class SpareBuffers {
  readonly #spare: Uint8Array[] = []
  bytes = 0
  /** Buffers handed out again instead of new ones. */
  reused = 0

  get count(): number {
    return this.#spare.length
  }

  /** A buffer for a partial message: a spare of that exact length, else a new one. */
  take(length: number): Uint8Array {
    const spare = this.#spare
    for (let i = 0; i < spare.length; i++) {
      const buffer = spare[i]!
      if (buffer.length !== length) continue
      spare.splice(i, 1)
      this.bytes -= length
      this.reused++
      return buffer
    }
    return allocateUninitialised(length)
  }

  /**
   * Keeps the buffer of a partial message given up, for reuse, within the caps; the oldest spare
   * makes room. Never called with a buffer that was handed out.
   */
  keep(buffer: Uint8Array): void {
    if (buffer.length > SPARE_BYTES_MAX) return
    const spare = this.#spare
    while (
      spare.length > 0 &&
      (spare.length >= SPARE_BUFFERS_MAX || this.bytes + buffer.length > SPARE_BYTES_MAX)
    )
      this.bytes -= spare.shift()!.length
    spare.push(buffer)
    this.bytes += buffer.length
  }

  clear(): void {
    this.#spare.length = 0
    this.bytes = 0
  }
}

/**
 * Whole frames for one-datagram sends, cut from a shared slab the way Node's Buffer pool cuts small
 * Buffers: one `new Uint8Array` per frame cost about 200 ns on the bench machine, a view of a slab
 * about 20 ns. With a codec that can encode in place, the message is written straight after its
 * header, so a frame costs no buffer of its own and no copy.
 *
 * A slab is never written twice: a frame handed out stays valid for as long as anyone holds it
 * (node:dgram holds it until the kernel has it). A new slab is started when the current one has less
 * than {@link SLAB_MIN_FREE_BYTES} left, so at most that much of each slab goes unused.
 */
import type { MessageCodec } from '../message-codec.js'
import { CRC_LENGTH, FIXED_HEADER_LENGTH } from './constants.js'
import { encodeFrameInPlace, writeCrc, writeWholeFrame } from './frame.js'

/**
 * Bytes per slab: under glibc's mmap threshold (128 KiB), so a slab comes from the heap and, once
 * garbage-collected, is handed out again already faulted in, where a larger one is mapped fresh
 * each time (a first touch per page; p99.9 of the latency bench 250–311 µs with 64 KiB slabs,
 * 292–377 µs with 256 KiB).
 */
export const SLAB_BYTES = 64 * 1024
/** A slab with less room than this is retired before the next frame. */
export const SLAB_MIN_FREE_BYTES = 4096

/** A message whose frame would exceed the budget, encoded: the caller fragments it. */
export class Unframed {
  constructor(readonly payload: Uint8Array) {}
}

export class FrameSlab {
  #slab = Buffer.allocUnsafeSlow(SLAB_BYTES)
  #at = 0

  /**
   * Encodes `message` as one whole DATA frame of at most `budget` bytes. Returns the frame, or
   * {@link Unframed} with the encoded message when it does not fit one datagram.
   */
  encodeFrame<T>(
    codec: MessageCodec<T>,
    message: T,
    flags: number,
    hops: number,
    sessionId: number,
    sequence: number,
    topicBytes: Uint8Array,
    budget: number,
  ): Uint8Array | Unframed {
    this.#reserve(Math.min(budget, SLAB_MIN_FREE_BYTES))
    const slab = this.#slab
    const start = this.#at
    const end = encodeFrameInPlace(codec, message, slab, start, flags, hops, sessionId, sequence, topicBytes)
    let payload: Uint8Array
    if (typeof end === 'number') {
      const total = end - start + CRC_LENGTH
      if (total <= budget && start + total <= slab.length) {
        writeCrc(slab, start, total)
        return this.#take(start, total)
      }
      // Too large for one datagram, or for the slab's tail: the message is copied out, since the
      // next frame reuses this space.
      payload = Uint8Array.prototype.slice.call(slab, start + FIXED_HEADER_LENGTH + topicBytes.length, end)
    } else payload = end // the codec cannot encode in place, or it ran past the slab
    return FIXED_HEADER_LENGTH + topicBytes.length + payload.length + CRC_LENGTH > budget
      ? new Unframed(payload)
      : this.copyFrame(flags, hops, sessionId, sequence, codec.fingerprint, topicBytes, payload)
  }

  /** One whole DATA frame around an already-encoded payload (which must fit the budget). */
  copyFrame(
    flags: number,
    hops: number,
    sessionId: number,
    sequence: number,
    fingerprint: number,
    topicBytes: Uint8Array,
    payload: Uint8Array,
  ): Uint8Array {
    this.#reserve(FIXED_HEADER_LENGTH + topicBytes.length + payload.length + CRC_LENGTH)
    const start = this.#at
    const total = writeWholeFrame(
      this.#slab,
      start,
      flags,
      hops,
      sessionId,
      sequence,
      fingerprint,
      topicBytes,
      payload,
    )
    return this.#take(start, total)
  }

  /** Makes sure `room` bytes are free from the current position (a frame larger than a slab gets its own). */
  #reserve(room: number): void {
    if (this.#slab.length - this.#at >= Math.max(room, SLAB_MIN_FREE_BYTES)) return
    this.#slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, room))
    this.#at = 0
  }

  #take(start: number, total: number): Uint8Array {
    // 8-byte aligned starts, as Buffer's pool keeps them.
    this.#at = (start + total + 7) & ~7
    return this.#slab.subarray(start, start + total)
  }
}

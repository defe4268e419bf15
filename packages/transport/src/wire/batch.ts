/**
 * BATCH frames: several small DATA frames in one datagram. See WIRE.md (“BATCH”).
 *
 * Datagram = outer header (kind BATCH, topic "*", the publisher's session, a batch sequence)
 *          · payload: ( u16 length L · inner DATA frame of L bytes, without its own CRC )*
 *          · CRC-32 over everything before it.
 * Inner frames are whole (one fragment each); sequence and loss accounting stay per inner frame.
 */

import type { MessageCodec } from '../message-codec.js'
import {
  CRC_LENGTH,
  FIXED_HEADER_LENGTH,
  Flag,
  FrameKind,
  KNOWN_FLAGS,
  LITTLE_ENDIAN,
  MUST_UNDERSTAND_FLAGS,
} from './constants.js'
import { crc32 } from './crc.js'
import { encodeFrameInPlace } from './frame.js'
import { decodeHeader, encodeTopic, type FrameHeader, writeHeader, writeWholeFrameHeader } from './header.js'

/** The outer frame's topic. */
export const BATCH_TOPIC = '*'
const BATCH_TOPIC_BYTES = encodeTopic(BATCH_TOPIC)
/** Outer header: fixed part and the one-byte topic. */
export const BATCH_HEADER_LENGTH = FIXED_HEADER_LENGTH + BATCH_TOPIC_BYTES.length
/** Each inner frame is preceded by its length. */
export const BATCH_LENGTH_PREFIX = 2

/** Bytes an inner frame with this topic and payload takes in a batch, prefix included. */
export function batchEntryLength(topicBytes: number, payloadLength: number): number {
  return BATCH_LENGTH_PREFIX + FIXED_HEADER_LENGTH + topicBytes + payloadLength
}

/** Payload room in a batch datagram of this budget. */
export function batchCapacity(budget: number): number {
  return budget - BATCH_HEADER_LENGTH - CRC_LENGTH
}

/**
 * A batch's buffer, not zero-filled (a memset of 64 KiB per batch showed as 11 % of a batched
 * sender): only the bytes written before `finish` are ever sent. `bytes` is a plain Uint8Array
 * (the codec hands out Uint8Arrays, whose slice() copies; Buffer's does not); `encodeTarget` is a
 * Buffer over the same memory that ends where the CRC would start, for codecs encoding in place.
 */
function datagramBuffer(budget: number): { bytes: Uint8Array; encodeTarget: Buffer } {
  const memory = Buffer.allocUnsafeSlow(budget)
  return {
    bytes: new Uint8Array(memory.buffer, memory.byteOffset, budget),
    encodeTarget: memory.subarray(0, budget - CRC_LENGTH),
  }
}

/**
 * Packs inner frames into one datagram buffer. Writes straight into the datagram with one
 * DataView; `finish` seals it with the outer header and CRC.
 */
export class BatchBuilder {
  readonly #budget: number
  #buf!: Uint8Array
  #encodeTarget!: Buffer
  #view!: DataView
  #at = BATCH_HEADER_LENGTH
  count = 0

  constructor(budget: number) {
    this.#budget = budget
    this.#newBuffer()
  }

  #newBuffer(): void {
    const { bytes, encodeTarget } = datagramBuffer(this.#budget)
    this.#buf = bytes
    this.#encodeTarget = encodeTarget
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
  }

  /** Whether an entry of `entryLength` bytes still fits. */
  fits(entryLength: number): boolean {
    return this.#at + entryLength + CRC_LENGTH <= this.#budget
  }

  /** Appends one whole DATA frame. The caller checked `fits(batchEntryLength(...))`. */
  append(
    flags: number,
    hops: number,
    sessionId: number,
    sequence: number,
    fingerprint: number,
    topicBytes: Uint8Array,
    payload: Uint8Array,
  ): void {
    const at = this.#at + BATCH_LENGTH_PREFIX
    const hl = writeWholeFrameHeader(
      this.#buf,
      at,
      flags,
      hops,
      sessionId,
      sequence,
      fingerprint,
      topicBytes,
      payload.length,
    )
    this.#view.setUint16(this.#at, hl + payload.length, LITTLE_ENDIAN)
    this.#buf.set(payload, at + hl)
    this.#at = at + hl + payload.length
    this.count++
  }

  /**
   * Encodes `message` straight into the batch as one whole DATA frame when the codec can encode in
   * place and the frame fits what is left. Returns the payload length when it was appended;
   * otherwise the message, encoded, for the caller to place (after a flush, or unbatched if too large).
   */
  appendMessage<T>(
    codec: MessageCodec<T>,
    message: T,
    flags: number,
    hops: number,
    sessionId: number,
    sequence: number,
    topicBytes: Uint8Array,
  ): number | Uint8Array {
    const at = this.#at + BATCH_LENGTH_PREFIX
    const end = encodeFrameInPlace(
      codec,
      message,
      this.#encodeTarget,
      at,
      flags,
      hops,
      sessionId,
      sequence,
      topicBytes,
    )
    if (typeof end !== 'number') return end
    this.#view.setUint16(this.#at, end - at, LITTLE_ENDIAN)
    this.#at = end
    this.count++
    return end - at - FIXED_HEADER_LENGTH - topicBytes.length
  }

  /** Appends an already-encoded whole frame (with its CRC, which is dropped), e.g. when relaying. */
  appendFrame(frame: Uint8Array): void {
    const inner = frame.length - CRC_LENGTH
    this.#view.setUint16(this.#at, inner, LITTLE_ENDIAN)
    this.#buf.set(frame.subarray(0, inner), this.#at + BATCH_LENGTH_PREFIX)
    this.#at += BATCH_LENGTH_PREFIX + inner
    this.count++
  }

  /** Seals the batch and returns the datagram; the builder starts a new, empty batch. */
  finish(sessionId: number, sequence: number): Uint8Array {
    const v = this.#view
    const payloadLength = this.#at - BATCH_HEADER_LENGTH
    writeHeader(
      this.#buf,
      0,
      FrameKind.BATCH,
      0,
      0,
      sessionId,
      sequence,
      0,
      payloadLength,
      0,
      0,
      1,
      BATCH_TOPIC_BYTES,
      0,
      payloadLength,
    )
    const total = this.#at + CRC_LENGTH
    v.setUint32(this.#at, crc32(this.#buf.subarray(0, this.#at)), LITTLE_ENDIAN)
    const datagram = this.#buf.subarray(0, total)
    this.#newBuffer()
    this.#at = BATCH_HEADER_LENGTH
    this.count = 0
    return datagram
  }
}

/**
 * Calls `onFrame` for every inner frame of a BATCH payload (already CRC-checked as part of the
 * outer frame). Returns false at the first malformed entry; the entries before it were delivered.
 */
export function forEachInnerFrame(
  payload: Uint8Array,
  onFrame: (header: FrameHeader, innerPayload: Uint8Array, innerStart: number, innerLength: number) => void,
): boolean {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length)
  let at = 0
  while (at < payload.length) {
    if (payload.length - at < BATCH_LENGTH_PREFIX) return false
    const length = view.getUint16(at, LITTLE_ENDIAN)
    const start = at + BATCH_LENGTH_PREFIX
    if (length > payload.length - start) return false
    const parsed = decodeHeader(payload, start, length)
    if (!parsed.ok) return false
    const { header, headerLength } = parsed
    if (
      header.kind !== FrameKind.DATA ||
      header.fragmentCount !== 1 ||
      headerLength + header.payloadLength !== length ||
      header.messageLength !== header.payloadLength ||
      (header.flags & MUST_UNDERSTAND_FLAGS & ~KNOWN_FLAGS) !== 0 ||
      // A batch is sealed as a whole, never its inner frames (WIRE.md “Sealing”).
      (header.flags & (Flag.AUTHENTICATED | Flag.ENCRYPTED)) !== 0
    )
      return false
    // The inner frame's own bytes are payload[start, start + length): a view is made only by
    // callers that need one (relays), since a subarray per frame shows in profiles.
    onFrame(header, payload.subarray(start + headerLength, start + length), start, length)
    at = start + length
  }
  return true
}

/** A whole frame (with a valid CRC) from an inner frame of a batch: what a relay forwards. */
export function sealInner(inner: Uint8Array): Uint8Array {
  const frame = new Uint8Array(inner.length + CRC_LENGTH)
  frame.set(inner)
  new DataView(frame.buffer).setUint32(inner.length, crc32(inner), LITTLE_ENDIAN)
  return frame
}

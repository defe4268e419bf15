/**
 * A whole frame: header, payload and CRC32 trailer. One frame is one UDP datagram.
 * See WIRE.md (“Frame”).
 */

import type { MessageCodec } from '../message-codec.js'
import {
  CRC_LENGTH,
  FIXED_HEADER_LENGTH,
  Flag,
  KNOWN_FLAGS,
  Limits,
  MAX_FRAME_KIND,
  MUST_UNDERSTAND_FLAGS,
} from './constants.js'
import { crc32Range } from './crc.js'
import {
  decodeHeader,
  encodeHeaderInto,
  type FrameHeader,
  headerLength,
  writeWholeFrameHeader,
} from './header.js'
import { SEAL_EXTENSION_LENGTH, TAG_LENGTH } from './seal.js'

/** Reasons a received datagram is dropped. Counted by the subscriber, never thrown. */
export const DROP_REASONS = [
  'truncated',
  'bad-magic',
  'bad-version',
  'bad-header',
  'bad-length',
  'bad-crc',
  'unknown-kind',
  'unsupported-flags',
  'too-large',
  'unknown-type',
  'fingerprint-mismatch',
  'decode-failed',
  'reassembly-expired',
  'reassembly-evicted',
  /** A fragmented message still incomplete when the subscriber closed. */
  'reassembly-unfinished',
  'fragment-mismatch',
  'queue-overflow',
  'bad-batch',
  /**
   * A control frame (ACK, NACK, HEARTBEAT, STATUS, NACK_FRAMES) where it has no use: at a
   * subscriber, or a relay's input.
   */
  'unexpected-kind',
  /** A new stream from a sender address that already has as many established streams as it may. */
  'streams-full',
  /** From a sender address the subscriber was told not to take datagrams from (`allow`). */
  'not-allowed',
  /** A HEARTBEAT whose payload is not whole `[topic, sequence]` entries. */
  'bad-heartbeat',
  /** Publisher side: an ACK whose payload is not a receiver session and a UTF-8 name. */
  'bad-ack',
  /** Publisher side: a NACK whose payload is not 1 to 64 non-empty ranges. */
  'bad-nack',
  /** Publisher side: a STATUS whose payload is not a receiver session, a window and whole entries. */
  'bad-status',
  /** Publisher side: a NACK by sequence whose payload is not 1 to 64 non-empty sequence ranges. */
  'bad-nack-frames',
  /** Publisher side: an ACK for a frame that asked for none (or whose wait is over). */
  'ack-unrequested',
  /** Publisher side: an ACK in a known receiver's name from another address (see WIRE.md “Security”). */
  'ack-impostor',
  /** Publisher side: an ACK from a new receiver while the publisher knows as many as it keeps. */
  'ack-receivers-full',
  /** Publisher side: an ACK or NACK for another publisher's session. */
  'foreign-session',
  /** Send side: the kernel refused a datagram (e.g. no route); its frames did not go out. */
  'send-failed',
  /** Keyed side: a frame that is not sealed (WIRE.md “Sealing”). */
  'unauthenticated',
  /** Keyless side: a sealed frame (it cannot be read without the group's key). */
  'no-key',
  /** Sealed under a key id the keyring does not have, or one past its not-after. */
  'unknown-key',
  /** Sealed, but its tag does not match: forged, tampered with, or another key under that id. */
  'bad-tag',
  /** Sealed with a counter seen already, or older than the replay window. */
  'replayed',
  /** A new sender's seal counter too far from this host's clock: an old session replayed, or a bad clock. */
  'clock-skew',
  /** Publisher side: a SCHEMA_REQUEST whose payload is not a u32 receiver session, or whose fingerprint is 0. */
  'bad-schema-request',
  /** A SCHEMA announce whose topic is not a type name or whose descriptor set does not parse. */
  'bad-schema',
  /** A SCHEMA announce whose descriptor set does not define the type it names. */
  'schema-missing-type',
  /** A SCHEMA announce whose fingerprint is not the one its descriptor gives the type: forged or broken. */
  'schema-mismatch',
  /** A SCHEMA announce larger than `SCHEMA_MAX_BYTES`, or that defines more than the schema package allows. */
  'schema-too-large',
  /** A SCHEMA announce for a new type while the receiver holds as many learned types as it may. */
  'schemas-full',
  /** A SCHEMA announce of a new type past the receiver's verify budget (bytes of descriptor sets per second). */
  'schema-limited',
] as const
export type DropReason = (typeof DROP_REASONS)[number]

/** Bytes a frame with this header and topic occupies on the wire. */
export function encodedFrameLength(
  header: Pick<FrameHeader, 'payloadLength' | 'extensionLength'>,
  topicBytes: Uint8Array,
): number {
  return headerLength(topicBytes.length, header.extensionLength) + header.payloadLength + CRC_LENGTH
}

/**
 * Encodes header + payload + CRC into `buf` at `offset`; returns the bytes written.
 * `header.payloadLength` must equal `payload.length`.
 */
export function encodeFrameInto(
  header: FrameHeader,
  topicBytes: Uint8Array,
  payload: Uint8Array,
  buf: Uint8Array,
  offset: number,
): number {
  if (payload.length !== header.payloadLength)
    throw new RangeError('payloadLength does not match the payload')
  const total = encodedFrameLength(header, topicBytes)
  if (offset < 0 || offset + total > buf.length) throw new RangeError('frame does not fit the buffer')
  const h = encodeHeaderInto(header, topicBytes, buf, offset)
  buf.set(payload, offset + h)
  writeCrc(buf, offset, total)
  return total
}

/** (Re)computes the CRC trailer of the `total`-byte frame at `offset`. */
export function writeCrc(buf: Uint8Array, offset: number, total: number): void {
  const end = offset + total - CRC_LENGTH
  const crc = crc32Range(buf, offset, end)
  // Big-endian, by hand: a DataView per frame shows in profiles.
  buf[end] = crc >>> 24
  buf[end + 1] = crc >>> 16
  buf[end + 2] = crc >>> 8
  buf[end + 3] = crc
}

export type FrameResult =
  | { ok: true; header: FrameHeader; payload: Uint8Array }
  | { ok: false; reason: DropReason }

export interface DecodeFrameOptions {
  /** Largest message length accepted in a header; larger frames are `too-large`. */
  maxMessageBytes?: number
}

/**
 * Decodes and validates the frame in `buf[offset, offset + length)`. `payload` is a view into
 * `buf`, not a copy. Never throws on bad input: returns the reason instead.
 */
export function decodeFrame(
  buf: Uint8Array,
  offset = 0,
  length = buf.length - offset,
  options: DecodeFrameOptions = {},
): FrameResult {
  const parsed = decodeHeader(buf, offset, length)
  if (!parsed.ok) return parsed
  const { header, headerLength: h } = parsed
  const total = h + header.payloadLength + CRC_LENGTH
  if (total > length) return { ok: false, reason: 'truncated' }
  if (total < length) return { ok: false, reason: 'bad-length' }
  const end = offset + length
  // The trailer, big-endian, read by hand (a DataView per datagram shows in profiles).
  const trailer = ((buf[end - 4]! << 24) | (buf[end - 3]! << 16) | (buf[end - 2]! << 8) | buf[end - 1]!) >>> 0
  if (crc32Range(buf, offset, end - CRC_LENGTH) !== trailer) return { ok: false, reason: 'bad-crc' }
  if (header.kind > MAX_FRAME_KIND) return { ok: false, reason: 'unknown-kind' }
  if ((header.flags & MUST_UNDERSTAND_FLAGS & ~KNOWN_FLAGS) !== 0)
    return { ok: false, reason: 'unsupported-flags' }
  if (header.messageLength > (options.maxMessageBytes ?? Limits.MAX_MESSAGE_BYTES))
    return { ok: false, reason: 'too-large' }
  // A sealed frame's payload ends in its tag; its geometry is the plaintext's (WIRE.md “Sealing”).
  const sealed = (header.flags & Flag.AUTHENTICATED) !== 0
  const plainLength = sealed ? header.payloadLength - TAG_LENGTH : header.payloadLength
  if (
    (sealed
      ? plainLength < 0 || header.extensionLength < SEAL_EXTENSION_LENGTH
      : (header.flags & Flag.ENCRYPTED) !== 0) ||
    header.fragmentCount === 0 ||
    header.fragmentIndex >= header.fragmentCount ||
    header.fragmentOffset + plainLength > header.messageLength ||
    (header.fragmentCount === 1 && (header.fragmentOffset !== 0 || plainLength !== header.messageLength))
  )
    return { ok: false, reason: 'bad-header' }
  return { ok: true, header, payload: buf.subarray(offset + h, offset + h + header.payloadLength) }
}

/** One whole DATA frame (header, payload, CRC) in a new buffer. */
export function encodeWholeFrame(
  flags: number,
  hops: number,
  sessionId: number,
  sequence: number,
  fingerprint: number,
  topicBytes: Uint8Array,
  payload: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(FIXED_HEADER_LENGTH + topicBytes.length + payload.length + CRC_LENGTH)
  writeWholeFrame(out, 0, flags, hops, sessionId, sequence, fingerprint, topicBytes, payload)
  return out
}

/** Writes one whole DATA frame (header, payload, CRC) at `start`; returns its length. */
export function writeWholeFrame(
  buf: Uint8Array,
  start: number,
  flags: number,
  hops: number,
  sessionId: number,
  sequence: number,
  fingerprint: number,
  topicBytes: Uint8Array,
  payload: Uint8Array,
): number {
  const total = FIXED_HEADER_LENGTH + topicBytes.length + payload.length + CRC_LENGTH
  const h = writeWholeFrameHeader(
    buf,
    start,
    flags,
    hops,
    sessionId,
    sequence,
    fingerprint,
    topicBytes,
    payload.length,
  )
  buf.set(payload, start + h)
  writeCrc(buf, start, total)
  return total
}

/**
 * Encodes `message` in place as a whole DATA frame at `start`: header, then the message written by
 * the codec straight after it (no CRC: the caller adds one, or the frame goes into a batch). Returns
 * the frame's end, or the message encoded in a new buffer when the frame does not fit before
 * `buf.length` (or the codec cannot encode in place).
 */
export function encodeFrameInPlace<T>(
  codec: MessageCodec<T>,
  message: T,
  buf: Uint8Array,
  start: number,
  flags: number,
  hops: number,
  sessionId: number,
  sequence: number,
  topicBytes: Uint8Array,
): number | Uint8Array {
  if (codec.encodeInto === undefined) return codec.encode(message)
  const payloadStart = start + FIXED_HEADER_LENGTH + topicBytes.length
  const end = codec.encodeInto(message, buf, payloadStart)
  if (typeof end !== 'number') return end
  // An empty message "fits" even when its header would not: check the end.
  if (end > buf.length) return new Uint8Array(0)
  writeWholeFrameHeader(
    buf,
    start,
    flags,
    hops,
    sessionId,
    sequence,
    codec.fingerprint,
    topicBytes,
    end - payloadStart,
  )
  return end
}

/**
 * The frame header codec. Layout and field meanings: see WIRE.md (“Frame header”).
 * Pure functions over Uint8Array/DataView; no sockets, no Buffer.
 */
import { transportError } from '../errors.js'
import {
  FIXED_HEADER_LENGTH,
  type FrameKind,
  LITTLE_ENDIAN,
  MAGIC,
  MAX_FRAGMENTS,
  MAX_TOPIC_BYTES,
  Offset,
  WIRE_VERSION,
} from './constants.js'

export interface FrameHeader {
  kind: FrameKind
  flags: number
  /** Relays this frame has crossed; the publisher sends 0. */
  hops: number
  topic: string
  /** Random per publisher start: a restart is a new session. */
  sessionId: number
  /** Per (session, topic), starting at 0, wrapping at 2^32. */
  sequence: number
  /** Type fingerprint of the payload's message type (0 for control frames). */
  fingerprint: number
  /** Length of the whole message, before fragmentation. */
  messageLength: number
  /** Byte offset of this fragment's payload within the message. */
  fragmentOffset: number
  fragmentIndex: number
  fragmentCount: number
  /** Bytes of payload in this datagram. */
  payloadLength: number
  /** Bytes between the topic and the payload (reserved for authentication; 0 in v1). */
  extensionLength: number
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** UTF-8 bytes of a topic, checked against the wire limit. Publishers cache the result. */
export function encodeTopic(topic: string): Uint8Array {
  const bytes = encoder.encode(topic)
  if (bytes.length === 0 || bytes.length > MAX_TOPIC_BYTES) {
    throw transportError(
      'SHOAL_BAD_TOPIC',
      `topic ${JSON.stringify(topic)} is ${bytes.length} bytes of UTF-8; valid: 1-${MAX_TOPIC_BYTES}`,
    )
  }
  return bytes
}

/** Header length of a frame with this topic and extension. */
export function headerLength(topicBytes: number, extensionLength = 0): number {
  return FIXED_HEADER_LENGTH + topicBytes + extensionLength
}

/** Writes the header at `offset`; returns its length. `topicBytes` is `encodeTopic(header.topic)`. */
export function encodeHeaderInto(
  header: FrameHeader,
  topicBytes: Uint8Array,
  buf: Uint8Array,
  offset: number,
): number {
  const length = headerLength(topicBytes.length, header.extensionLength)
  if (offset < 0 || offset + length > buf.length) throw new RangeError('header does not fit the buffer')
  if (header.fragmentCount < 1 || header.fragmentCount > MAX_FRAGMENTS)
    throw new RangeError(`fragment count ${header.fragmentCount} outside 1-${MAX_FRAGMENTS}`)
  const view = new DataView(buf.buffer, buf.byteOffset + offset, length)
  view.setUint16(Offset.MAGIC, MAGIC, LITTLE_ENDIAN)
  view.setUint8(Offset.VERSION, WIRE_VERSION)
  view.setUint8(Offset.KIND, header.kind)
  view.setUint16(Offset.FLAGS, header.flags, LITTLE_ENDIAN)
  view.setUint8(Offset.HOPS, header.hops)
  view.setUint8(Offset.TOPIC_LENGTH, topicBytes.length)
  view.setUint32(Offset.SESSION, header.sessionId, LITTLE_ENDIAN)
  view.setUint32(Offset.SEQUENCE, header.sequence, LITTLE_ENDIAN)
  view.setUint32(Offset.FINGERPRINT, header.fingerprint, LITTLE_ENDIAN)
  view.setUint32(Offset.MESSAGE_LENGTH, header.messageLength, LITTLE_ENDIAN)
  view.setUint32(Offset.FRAGMENT_OFFSET, header.fragmentOffset, LITTLE_ENDIAN)
  view.setUint16(Offset.FRAGMENT_INDEX, header.fragmentIndex, LITTLE_ENDIAN)
  view.setUint16(Offset.FRAGMENT_COUNT, header.fragmentCount, LITTLE_ENDIAN)
  view.setUint16(Offset.HEADER_LENGTH, length, LITTLE_ENDIAN)
  view.setUint16(Offset.PAYLOAD_LENGTH, header.payloadLength, LITTLE_ENDIAN)
  buf.set(topicBytes, offset + Offset.TOPIC)
  if (header.extensionLength > 0) buf.fill(0, offset + Offset.TOPIC + topicBytes.length, offset + length)
  return length
}

/** Why a header could not be read. */
export type HeaderProblem = 'truncated' | 'bad-magic' | 'bad-version' | 'bad-header'

export type HeaderResult =
  | { ok: true; header: FrameHeader; headerLength: number }
  | { ok: false; reason: HeaderProblem }

/**
 * Reads the header of the frame in `buf[offset, offset + length)`. Checks every length before the
 * read it guards; never throws on bad input.
 */
export function decodeHeader(buf: Uint8Array, offset = 0, length = buf.length - offset): HeaderResult {
  if (length < FIXED_HEADER_LENGTH || offset < 0 || offset + length > buf.length)
    return { ok: false, reason: 'truncated' }
  const view = new DataView(buf.buffer, buf.byteOffset + offset, length)
  if (view.getUint16(Offset.MAGIC, LITTLE_ENDIAN) !== MAGIC) return { ok: false, reason: 'bad-magic' }
  if (view.getUint8(Offset.VERSION) !== WIRE_VERSION) return { ok: false, reason: 'bad-version' }
  const topicLength = view.getUint8(Offset.TOPIC_LENGTH)
  const hdrLength = view.getUint16(Offset.HEADER_LENGTH, LITTLE_ENDIAN)
  if (hdrLength > length) return { ok: false, reason: 'truncated' }
  if (topicLength === 0 || hdrLength < FIXED_HEADER_LENGTH + topicLength)
    return { ok: false, reason: 'bad-header' }
  let topic: string
  try {
    topic = decodeTopic(buf, offset + Offset.TOPIC, topicLength)
  } catch {
    return { ok: false, reason: 'bad-header' }
  }
  return {
    ok: true,
    headerLength: hdrLength,
    header: {
      kind: view.getUint8(Offset.KIND) as FrameKind,
      flags: view.getUint16(Offset.FLAGS, LITTLE_ENDIAN),
      hops: view.getUint8(Offset.HOPS),
      topic,
      sessionId: view.getUint32(Offset.SESSION, LITTLE_ENDIAN),
      sequence: view.getUint32(Offset.SEQUENCE, LITTLE_ENDIAN),
      fingerprint: view.getUint32(Offset.FINGERPRINT, LITTLE_ENDIAN),
      messageLength: view.getUint32(Offset.MESSAGE_LENGTH, LITTLE_ENDIAN),
      fragmentOffset: view.getUint32(Offset.FRAGMENT_OFFSET, LITTLE_ENDIAN),
      fragmentIndex: view.getUint16(Offset.FRAGMENT_INDEX, LITTLE_ENDIAN),
      fragmentCount: view.getUint16(Offset.FRAGMENT_COUNT, LITTLE_ENDIAN),
      payloadLength: view.getUint16(Offset.PAYLOAD_LENGTH, LITTLE_ENDIAN),
      extensionLength: hdrLength - FIXED_HEADER_LENGTH - topicLength,
    },
  }
}

// Topic strings repeat on every frame of a stream: remember the last few decodings.
const topicCache = new Map<string, string>()
const TOPIC_CACHE_MAX = 1024

function decodeTopic(buf: Uint8Array, start: number, length: number): string {
  const bytes = buf.subarray(start, start + length)
  // latin1 is a 1:1 byte→char mapping, so it is a safe cache key for any byte string.
  let key = ''
  for (let i = 0; i < bytes.length; i++) key += String.fromCharCode(bytes[i]!)
  const hit = topicCache.get(key)
  if (hit !== undefined) return hit
  const topic = decoder.decode(bytes)
  if (topicCache.size >= TOPIC_CACHE_MAX) topicCache.clear()
  topicCache.set(key, topic)
  return topic
}

/** Rewrites the hop count of an encoded frame in place (relays); the caller recomputes the CRC. */
export function setHops(buf: Uint8Array, offset: number, hops: number): void {
  buf[offset + Offset.HOPS] = hops
}

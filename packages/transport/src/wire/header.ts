/**
 * The frame header codec. Layout and field meanings: see WIRE.md (“Frame header”).
 * Pure functions over Uint8Array/DataView; no sockets, no Buffer.
 */
import { transportError } from '../errors.js'
import {
  FIXED_HEADER_LENGTH,
  FrameKind,
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
  return writeHeader(
    buf,
    offset,
    header.kind,
    header.flags,
    header.hops,
    header.sessionId,
    header.sequence,
    header.fingerprint,
    header.messageLength,
    header.fragmentOffset,
    header.fragmentIndex,
    header.fragmentCount,
    topicBytes,
    header.extensionLength,
    header.payloadLength,
  )
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
  // Big-endian reads by hand: this runs once per frame, and a DataView per call costs more.
  const o = offset
  if (u16(buf, o + Offset.MAGIC) !== MAGIC) return { ok: false, reason: 'bad-magic' }
  if (buf[o + Offset.VERSION] !== WIRE_VERSION) return { ok: false, reason: 'bad-version' }
  const topicLength = buf[o + Offset.TOPIC_LENGTH]!
  const hdrLength = u16(buf, o + Offset.HEADER_LENGTH)
  if (hdrLength > length) return { ok: false, reason: 'truncated' }
  if (topicLength === 0 || hdrLength < FIXED_HEADER_LENGTH + topicLength)
    return { ok: false, reason: 'bad-header' }
  const topic = decodeTopic(buf, o + Offset.TOPIC, topicLength)
  if (topic === undefined) return { ok: false, reason: 'bad-header' }
  return {
    ok: true,
    headerLength: hdrLength,
    header: {
      kind: buf[o + Offset.KIND] as FrameKind,
      flags: u16(buf, o + Offset.FLAGS),
      hops: buf[o + Offset.HOPS]!,
      topic,
      sessionId: u32(buf, o + Offset.SESSION),
      sequence: u32(buf, o + Offset.SEQUENCE),
      fingerprint: u32(buf, o + Offset.FINGERPRINT),
      messageLength: u32(buf, o + Offset.MESSAGE_LENGTH),
      fragmentOffset: u32(buf, o + Offset.FRAGMENT_OFFSET),
      fragmentIndex: u16(buf, o + Offset.FRAGMENT_INDEX),
      fragmentCount: u16(buf, o + Offset.FRAGMENT_COUNT),
      payloadLength: u16(buf, o + Offset.PAYLOAD_LENGTH),
      extensionLength: hdrLength - FIXED_HEADER_LENGTH - topicLength,
    },
  }
}

/**
 * Writes the header of a whole (unfragmented) DATA frame at `at`: the hot path of small frames,
 * batched or not. Returns the header length.
 */
export function writeWholeFrameHeader(
  buf: Uint8Array,
  at: number,
  flags: number,
  hops: number,
  sessionId: number,
  sequence: number,
  fingerprint: number,
  topicBytes: Uint8Array,
  payloadLength: number,
): number {
  return writeHeader(
    buf,
    at,
    FrameKind.DATA,
    flags,
    hops,
    sessionId,
    sequence,
    fingerprint,
    payloadLength,
    0,
    0,
    1,
    topicBytes,
    0,
    payloadLength,
  )
}

/**
 * The one writer of the header layout (WIRE.md “Frame”): every DATA, BATCH and control frame's
 * header is written here, unchecked (callers check what they take from outside). A non-zero
 * `extensionLength` is zero-filled after the topic. Returns the header length.
 */
export function writeHeader(
  buf: Uint8Array,
  at: number,
  kind: FrameKind,
  flags: number,
  hops: number,
  sessionId: number,
  sequence: number,
  fingerprint: number,
  messageLength: number,
  fragmentOffset: number,
  fragmentIndex: number,
  fragmentCount: number,
  topicBytes: Uint8Array,
  extensionLength: number,
  payloadLength: number,
): number {
  const length = FIXED_HEADER_LENGTH + topicBytes.length + extensionLength
  put16(buf, at + Offset.MAGIC, MAGIC)
  buf[at + Offset.VERSION] = WIRE_VERSION
  buf[at + Offset.KIND] = kind
  put16(buf, at + Offset.FLAGS, flags)
  buf[at + Offset.HOPS] = hops
  buf[at + Offset.TOPIC_LENGTH] = topicBytes.length
  put32(buf, at + Offset.SESSION, sessionId)
  put32(buf, at + Offset.SEQUENCE, sequence)
  put32(buf, at + Offset.FINGERPRINT, fingerprint)
  put32(buf, at + Offset.MESSAGE_LENGTH, messageLength)
  put32(buf, at + Offset.FRAGMENT_OFFSET, fragmentOffset)
  put16(buf, at + Offset.FRAGMENT_INDEX, fragmentIndex)
  put16(buf, at + Offset.FRAGMENT_COUNT, fragmentCount)
  put16(buf, at + Offset.HEADER_LENGTH, length)
  put16(buf, at + Offset.PAYLOAD_LENGTH, payloadLength)
  buf.set(topicBytes, at + Offset.TOPIC)
  if (extensionLength > 0) buf.fill(0, at + Offset.TOPIC + topicBytes.length, at + length)
  return length
}

function put16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value >>> 8
  buf[at + 1] = value
}

function put32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value >>> 24
  buf[at + 1] = value >>> 16
  buf[at + 2] = value >>> 8
  buf[at + 3] = value
}

/** Big-endian u16 at `at` (network byte order, as LITTLE_ENDIAN = false says for DataViews). */
function u16(buf: Uint8Array, at: number): number {
  return (buf[at]! << 8) | buf[at + 1]!
}

/** Big-endian u32 at `at`. */
function u32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0
}

// Topic strings repeat on every frame of a stream: remember recent decodings and find them by
// comparing bytes, without allocating.
const TOPIC_CACHE_SIZE = 64
const cachedBytes: Uint8Array[] = []
const cachedTopics: string[] = []
let cacheNext = 0

function decodeTopic(buf: Uint8Array, start: number, length: number): string | undefined {
  for (let i = 0; i < cachedBytes.length; i++) {
    const bytes = cachedBytes[i]!
    if (bytes.length !== length) continue
    let j = 0
    while (j < length && bytes[j] === buf[start + j]) j++
    if (j === length) return cachedTopics[i]
  }
  let topic: string
  try {
    topic = decoder.decode(buf.subarray(start, start + length))
  } catch {
    return undefined
  }
  cachedBytes[cacheNext] = buf.slice(start, start + length)
  cachedTopics[cacheNext] = topic
  cacheNext = (cacheNext + 1) % TOPIC_CACHE_SIZE
  return topic
}

/** Rewrites the hop count of an encoded frame in place (relays); the caller recomputes the CRC. */
export function setHops(buf: Uint8Array, offset: number, hops: number): void {
  buf[offset + Offset.HOPS] = hops
}

/** Clears `flags` (bits of the u16 flags field) of the frame at `offset`, in place (no CRC update). */
/** Sets `flags` in the frame at `offset` (bit 15 … 0 over bytes 4–5); the CRC must be rewritten after. */
export function setFlags(buf: Uint8Array, offset: number, flags: number): void {
  buf[offset + Offset.FLAGS] = buf[offset + Offset.FLAGS]! | (flags >>> 8)
  buf[offset + Offset.FLAGS + 1] = buf[offset + Offset.FLAGS + 1]! | (flags & 0xff)
}

export function clearFlags(buf: Uint8Array, offset: number, flags: number): void {
  buf[offset + Offset.FLAGS] = buf[offset + Offset.FLAGS]! & ~(flags >>> 8)
  buf[offset + Offset.FLAGS + 1] = buf[offset + Offset.FLAGS + 1]! & ~flags
}

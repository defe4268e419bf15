/**
 * NACK frames: a receiver's request for fragments of one message it is missing. The header names
 * the message (the publisher's session, its sequence and topic); the payload is the receiver's
 * session id, then ranges of fragment indices. See WIRE.md (“Repair”).
 */
import { encodeControlFrame } from './ack.js'
import { FrameKind, LITTLE_ENDIAN, MAX_FRAGMENTS } from './constants.js'
import type { FrameHeader } from './header.js'

/** u32 receiver session id, then ( u16 first fragment · u16 count )*. */
export const NACK_RANGES_OFFSET = 4
export const NACK_RANGE_BYTES = 4
/** Ranges in one NACK, at most; a receiver missing more asks for the rest in a later NACK. */
export const MAX_NACK_RANGES = 64
/** The range that asks for a whole message (a receiver that saw none of it cannot know its count). */
export const WHOLE_MESSAGE: FragmentRange = [0, MAX_FRAGMENTS]

/** Fragment indices `[first, first + count)`. */
export type FragmentRange = readonly [first: number, count: number]

export interface NackBody {
  receiverSession: number
  ranges: FragmentRange[]
}

/**
 * A publisher answers a NACK with at most this many times the NACK's own datagram length of
 * resent datagrams (per holdoff: a fragment resent lately costs nothing), so that a forged NACK
 * cannot make it send much more than it costs to send. A receiver asking for more pads its NACK
 * (header extension, zeros) to 1/this of what it asks for, or asks in several NACKs. See WIRE.md
 * (“Repair”, “Security”).
 */
export const NACK_AMPLIFICATION = 16

/** The datagram length a NACK asking for `requested` bytes of datagrams must have. */
export function nackLengthFor(requested: number): number {
  return Math.ceil(requested / NACK_AMPLIFICATION)
}

/**
 * A NACK datagram. `length`: pad it (with a zero header extension) to at least this many bytes,
 * so that the publisher answers with up to {@link NACK_AMPLIFICATION} times as much.
 */
export function encodeNack(
  about: Pick<FrameHeader, 'sessionId' | 'sequence' | 'topic'>,
  body: NackBody,
  length = 0,
): Uint8Array {
  const ranges = body.ranges.slice(0, MAX_NACK_RANGES)
  const payload = new Uint8Array(NACK_RANGES_OFFSET + ranges.length * NACK_RANGE_BYTES)
  const view = new DataView(payload.buffer)
  view.setUint32(0, body.receiverSession, LITTLE_ENDIAN)
  ranges.forEach(([first, count], i) => {
    view.setUint16(NACK_RANGES_OFFSET + i * NACK_RANGE_BYTES, first, LITTLE_ENDIAN)
    view.setUint16(NACK_RANGES_OFFSET + i * NACK_RANGE_BYTES + 2, count, LITTLE_ENDIAN)
  })
  return encodeControlFrame(FrameKind.NACK, about, payload, length)
}

/**
 * Reads a NACK payload; undefined when its length is not a whole number of ranges (at least one,
 * at most {@link MAX_NACK_RANGES}) or a range is empty.
 */
export function decodeNackBody(payload: Uint8Array): NackBody | undefined {
  const rangeBytes = payload.length - NACK_RANGES_OFFSET
  if (rangeBytes < NACK_RANGE_BYTES || rangeBytes % NACK_RANGE_BYTES !== 0) return undefined
  if (rangeBytes / NACK_RANGE_BYTES > MAX_NACK_RANGES) return undefined
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length)
  const ranges: FragmentRange[] = []
  for (let at = NACK_RANGES_OFFSET; at < payload.length; at += NACK_RANGE_BYTES) {
    const count = view.getUint16(at + 2, LITTLE_ENDIAN)
    if (count === 0) return undefined
    ranges.push([view.getUint16(at, LITTLE_ENDIAN), count])
  }
  return { receiverSession: view.getUint32(0, LITTLE_ENDIAN), ranges }
}

/** The indices in [start, end) that `isSeen` denies, as ranges (at most {@link MAX_NACK_RANGES}). */
export function missingRanges(
  isSeen: (index: number) => boolean,
  start: number,
  end: number,
): FragmentRange[] {
  const ranges: FragmentRange[] = []
  let i = start
  while (i < end && ranges.length < MAX_NACK_RANGES) {
    if (isSeen(i)) {
      i++
      continue
    }
    const first = i
    while (i < end && !isSeen(i)) i++
    ranges.push([first, i - first])
  }
  return ranges
}

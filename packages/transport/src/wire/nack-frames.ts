/**
 * NACK_FRAMES frames (“NACK by sequence”): a receiver's request for whole frames of one stream by
 * sequence ranges — small frames, batched frames, and fragmented messages it saw nothing of, which
 * a fragment NACK cannot name. The header names the stream (the publisher's session and the topic);
 * the payload is the receiver's session id, then ranges of sequences. See WIRE.md (“NACK by
 * sequence”).
 *
 * Datagram = header (kind NACK_FRAMES, topic = the stream's, session = the publisher's, sequence =
 * the first range's first, fingerprint 0, one fragment) · payload: u32 receiver session ·
 * ( u32 first sequence · u16 count )* · CRC-32.
 */
import { encodeControlFrame } from './ack.js'
import { FrameKind, LITTLE_ENDIAN } from './constants.js'
import type { FrameHeader } from './header.js'

/** u32 receiver session id, then ( u32 first sequence · u16 count )*. */
export const NACK_FRAMES_RANGES_OFFSET = 4
export const NACK_FRAMES_RANGE_BYTES = 6
/**
 * Ranges in one NACK by sequence, at most (as in a fragment NACK): a receiver missing more asks for
 * the rest in a later one. A longer payload is refused (`bad-nack-frames`).
 */
export const MAX_NACK_FRAME_RANGES = 64
/** Sequences in one range, at most (u16 count); a longer run is asked for as several ranges. */
export const MAX_NACK_FRAME_COUNT = 0xffff
/** Sequences in the u32 space: a scan never visits one twice. */
const SEQUENCE_SPACE = 2 ** 32

/**
 * Sequences `first, first + 1, …` (`count` of them, at least 1), in u32 arithmetic: a range may
 * wrap past 2^32 − 1 to 0.
 */
export type SequenceRange = readonly [first: number, count: number]

export interface NackFramesBody {
  receiverSession: number
  ranges: SequenceRange[]
}

/**
 * A NACK-by-sequence datagram for the stream `about` names (its header sequence is the first
 * range's first). At most {@link MAX_NACK_FRAME_RANGES} ranges are sent, the rest dropped: a
 * receiver asks for them in a later one. `length`: pad it (with a zero header extension) to at
 * least this many bytes, so that the publisher answers with up to `NACK_AMPLIFICATION` times as
 * much, as for a fragment NACK. Throws a RangeError for no range or a count outside
 * 1–{@link MAX_NACK_FRAME_COUNT}: every publisher would refuse that datagram.
 */
export function encodeNackFrames(
  about: Pick<FrameHeader, 'sessionId' | 'topic'>,
  body: NackFramesBody,
  length = 0,
): Uint8Array {
  const ranges = body.ranges.slice(0, MAX_NACK_FRAME_RANGES)
  if (ranges.length === 0) throw new RangeError('a NACK by sequence needs at least one range')
  const payload = new Uint8Array(NACK_FRAMES_RANGES_OFFSET + ranges.length * NACK_FRAMES_RANGE_BYTES)
  const view = new DataView(payload.buffer)
  view.setUint32(0, body.receiverSession, LITTLE_ENDIAN)
  ranges.forEach(([first, count], i) => {
    if (!Number.isInteger(count) || count < 1 || count > MAX_NACK_FRAME_COUNT)
      throw new RangeError(`sequence range count ${count} outside 1-${MAX_NACK_FRAME_COUNT}`)
    const at = NACK_FRAMES_RANGES_OFFSET + i * NACK_FRAMES_RANGE_BYTES
    view.setUint32(at, first >>> 0, LITTLE_ENDIAN)
    view.setUint16(at + 4, count, LITTLE_ENDIAN)
  })
  const sequence = ranges[0]![0] >>> 0
  return encodeControlFrame(FrameKind.NACK_FRAMES, { ...about, sequence }, payload, length)
}

/**
 * Reads a NACK-by-sequence payload; undefined when its length is not a whole number of ranges (at
 * least one, at most {@link MAX_NACK_FRAME_RANGES}) or a range is empty.
 */
export function decodeNackFramesBody(payload: Uint8Array): NackFramesBody | undefined {
  const rangeBytes = payload.length - NACK_FRAMES_RANGES_OFFSET
  if (rangeBytes < NACK_FRAMES_RANGE_BYTES || rangeBytes % NACK_FRAMES_RANGE_BYTES !== 0) return undefined
  if (rangeBytes / NACK_FRAMES_RANGE_BYTES > MAX_NACK_FRAME_RANGES) return undefined
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length)
  const ranges: SequenceRange[] = []
  for (let at = NACK_FRAMES_RANGES_OFFSET; at < payload.length; at += NACK_FRAMES_RANGE_BYTES) {
    const count = view.getUint16(at + 4, LITTLE_ENDIAN)
    if (count === 0) return undefined
    ranges.push([view.getUint32(at, LITTLE_ENDIAN), count])
  }
  return { receiverSession: view.getUint32(0, LITTLE_ENDIAN), ranges }
}

/**
 * The sequences among the `count` from `first` on (u32, wrapping past 2^32 − 1 to 0) that `isSeen`
 * denies, as ranges: at most {@link MAX_NACK_FRAME_RANGES}, each at most
 * {@link MAX_NACK_FRAME_COUNT} long (a longer run takes several). The sequence analogue of
 * `missingRanges` for fragments.
 */
export function missingSequenceRanges(
  isSeen: (sequence: number) => boolean,
  first: number,
  count: number,
): SequenceRange[] {
  const ranges: SequenceRange[] = []
  const end = Math.min(count, SEQUENCE_SPACE)
  let i = 0
  while (i < end && ranges.length < MAX_NACK_FRAME_RANGES) {
    if (isSeen((first + i) >>> 0)) {
      i++
      continue
    }
    const start = i
    while (i < end && i - start < MAX_NACK_FRAME_COUNT && !isSeen((first + i) >>> 0)) i++
    ranges.push([(first + start) >>> 0, i - start])
  }
  return ranges
}

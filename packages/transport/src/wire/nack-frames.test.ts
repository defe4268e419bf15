import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FrameKind, MAX_HEADER_LENGTH } from './constants.js'
import { decodeFrame } from './frame.js'
import {
  decodeNackFramesBody,
  encodeNackFrames,
  MAX_NACK_FRAME_COUNT,
  MAX_NACK_FRAME_RANGES,
  missingSequenceRanges,
  NACK_FRAMES_RANGE_BYTES,
  NACK_FRAMES_RANGES_OFFSET,
  type SequenceRange,
} from './nack-frames.js'

const about = { sessionId: 0xdeadbeef, topic: 'imu' }

function decode(datagram: Uint8Array) {
  const frame = decodeFrame(datagram)
  if (!frame.ok) throw new Error(frame.reason)
  return { header: frame.header, body: decodeNackFramesBody(frame.payload) }
}

/** A payload: receiver session 0, then `ranges` as (u32 first, u16 count). */
function payload(...ranges: (readonly [number, number])[]) {
  const bytes = new Uint8Array(NACK_FRAMES_RANGES_OFFSET + ranges.length * NACK_FRAMES_RANGE_BYTES)
  const view = new DataView(bytes.buffer)
  for (const [i, [first, count]] of ranges.entries()) {
    view.setUint32(NACK_FRAMES_RANGES_OFFSET + i * NACK_FRAMES_RANGE_BYTES, first)
    view.setUint16(NACK_FRAMES_RANGES_OFFSET + i * NACK_FRAMES_RANGE_BYTES + 4, count)
  }
  return bytes
}

describe('NACK_FRAMES frames', () => {
  it('round-trip: header names the stream and the first sequence, payload the receiver and ranges', () => {
    const ranges: SequenceRange[] = [
      [100, 3],
      [0xfffffffe, 4], // wraps past 2^32 − 1 to 0
      [7, MAX_NACK_FRAME_COUNT],
    ]
    const { header, body } = decode(encodeNackFrames(about, { receiverSession: 9, ranges }))
    expect(header).toMatchObject({
      kind: FrameKind.NACK_FRAMES,
      flags: 0,
      ...about,
      sequence: 100,
      fingerprint: 0,
      fragmentCount: 1,
      extensionLength: 0,
    })
    expect(body).toEqual({ receiverSession: 9, ranges })
  })

  it('round-trips any 1 to 64 ranges', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.array(fc.tuple(fc.nat({ max: 0xffffffff }), fc.integer({ min: 1, max: MAX_NACK_FRAME_COUNT })), {
          minLength: 1,
          maxLength: MAX_NACK_FRAME_RANGES,
        }),
        (receiverSession, ranges) => {
          const { header, body } = decode(encodeNackFrames(about, { receiverSession, ranges }))
          expect(header.sequence).toBe(ranges[0]![0])
          expect(body).toEqual({ receiverSession, ranges })
        },
      ),
    )
  })

  it('pads with a zero header extension to the length asked for, as far as the header allows', () => {
    const body = { receiverSession: 1, ranges: [[5, 2] as const] }
    const plain = encodeNackFrames(about, body)
    expect(plain.length).toBe(36 + 3 + NACK_FRAMES_RANGES_OFFSET + NACK_FRAMES_RANGE_BYTES + 4)
    expect(encodeNackFrames(about, body, plain.length - 1)).toEqual(plain)
    const padded = encodeNackFrames(about, body, 1_000)
    expect(padded.length).toBe(1_000)
    const { header, body: read } = decode(padded)
    expect(header.extensionLength).toBe(1_000 - plain.length)
    expect(read).toEqual(body)
    expect(padded.subarray(36 + 3, 36 + 3 + header.extensionLength).every((b) => b === 0)).toBe(true)
    const most = encodeNackFrames(about, body, 200_000)
    expect(most.length).toBe(MAX_HEADER_LENGTH + NACK_FRAMES_RANGES_OFFSET + NACK_FRAMES_RANGE_BYTES + 4)
    expect(decode(most).body).toEqual(body)
  })

  it(`sends at most ${MAX_NACK_FRAME_RANGES} ranges; refuses to encode none or an empty or too long one`, () => {
    const ranges = Array.from({ length: 100 }, (_, i) => [i * 2, 1] as const)
    expect(decode(encodeNackFrames(about, { receiverSession: 1, ranges })).body?.ranges).toEqual(
      ranges.slice(0, MAX_NACK_FRAME_RANGES),
    )
    expect(() => encodeNackFrames(about, { receiverSession: 1, ranges: [] })).toThrow(RangeError)
    expect(() => encodeNackFrames(about, { receiverSession: 1, ranges: [[1, 0]] })).toThrow(RangeError)
    expect(() =>
      encodeNackFrames(about, { receiverSession: 1, ranges: [[1, MAX_NACK_FRAME_COUNT + 1]] }),
    ).toThrow(RangeError)
  })

  it('refuses payloads that are not whole ranges, have none, too many, or an empty one', () => {
    const sixtyFour = Array.from({ length: MAX_NACK_FRAME_RANGES }, (_, i) => [i, 1] as const)
    expect(decodeNackFramesBody(payload(...sixtyFour))?.ranges).toHaveLength(MAX_NACK_FRAME_RANGES)
    expect(decodeNackFramesBody(payload(...sixtyFour, [99, 1]))).toBeUndefined()
    for (let length = 0; length < NACK_FRAMES_RANGES_OFFSET + NACK_FRAMES_RANGE_BYTES; length++)
      expect(decodeNackFramesBody(new Uint8Array(length)), `length ${length}`).toBeUndefined()
    const oneAndABit = new Uint8Array(NACK_FRAMES_RANGES_OFFSET + NACK_FRAMES_RANGE_BYTES + 1)
    oneAndABit.set(payload([5, 1]))
    expect(decodeNackFramesBody(oneAndABit)).toBeUndefined()
    expect(decodeNackFramesBody(payload([5, 0]))).toBeUndefined()
    expect(decodeNackFramesBody(payload([5, 1], [9, 0]))).toBeUndefined()
    expect(decodeNackFramesBody(payload([0xffffffff, 2]))).toEqual({
      receiverSession: 0,
      ranges: [[0xffffffff, 2]],
    })
  })
})

describe('missingSequenceRanges', () => {
  const seen = Uint8Array.from([1, 0, 0, 1, 0, 1, 1, 0])
  it('lists the runs not seen among the count from first on', () => {
    const isSeen = (s: number) => seen[s] === 1
    expect(missingSequenceRanges(isSeen, 0, 8)).toEqual([
      [1, 2],
      [4, 1],
      [7, 1],
    ])
    expect(missingSequenceRanges(isSeen, 2, 3)).toEqual([
      [2, 1],
      [4, 1],
    ])
    expect(missingSequenceRanges(isSeen, 5, 2)).toEqual([])
    expect(missingSequenceRanges(isSeen, 1, 0)).toEqual([])
  })

  it('wraps past 2^32 − 1 to 0, a range across it staying one range', () => {
    const isSeen = (s: number) => s === 0xfffffffd || s === 2
    expect(missingSequenceRanges(isSeen, 0xfffffffc, 8)).toEqual([
      [0xfffffffc, 1],
      [0xfffffffe, 4],
      [3, 1],
    ])
  })

  it(`splits a run longer than ${MAX_NACK_FRAME_COUNT} and stops at ${MAX_NACK_FRAME_RANGES} ranges`, () => {
    expect(missingSequenceRanges(() => false, 10, 200_000)).toEqual([
      [10, MAX_NACK_FRAME_COUNT],
      [10 + MAX_NACK_FRAME_COUNT, MAX_NACK_FRAME_COUNT],
      [10 + 2 * MAX_NACK_FRAME_COUNT, MAX_NACK_FRAME_COUNT],
      [10 + 3 * MAX_NACK_FRAME_COUNT, 200_000 - 3 * MAX_NACK_FRAME_COUNT],
    ])
    const ranges = missingSequenceRanges((s) => s % 2 === 1, 0, 400)
    expect(ranges).toHaveLength(MAX_NACK_FRAME_RANGES)
    expect(ranges.at(-1)).toEqual([126, 1])
  })

  it('covers exactly the sequences not seen, in order (under 64 ranges)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.array(fc.boolean(), { maxLength: 120 }), (first, bits) => {
        const isSeen = (s: number) => bits[(s - first) >>> 0] === true
        const ranges = missingSequenceRanges(isSeen, first, bits.length)
        const listed = ranges.flatMap(([f, n]) => Array.from({ length: n }, (_, i) => (f + i) >>> 0))
        const missing = bits.flatMap((b, i) => (b ? [] : [(first + i) >>> 0]))
        expect(listed).toEqual(missing)
        for (const [, n] of ranges) expect(n).toBeGreaterThanOrEqual(1)
      }),
    )
  })
})

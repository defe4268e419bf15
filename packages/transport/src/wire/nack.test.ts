import { describe, expect, it } from 'vitest'
import { FrameKind } from './constants.js'
import { decodeFrame } from './frame.js'
import { decodeNackBody, encodeNack, MAX_NACK_RANGES, missingRanges, WHOLE_MESSAGE } from './nack.js'

const about = { sessionId: 0xdeadbeef, sequence: 42, topic: 'camera' }

describe('NACK frames', () => {
  it('round-trip: header names the message, payload the receiver and the ranges', () => {
    const frame = decodeFrame(encodeNack(about, { receiverSession: 9, ranges: [[3, 2], WHOLE_MESSAGE] }))
    if (!frame.ok) throw new Error(frame.reason)
    expect(frame.header).toMatchObject({ kind: FrameKind.NACK, ...about, fingerprint: 0, fragmentCount: 1 })
    expect(decodeNackBody(frame.payload)).toEqual({
      receiverSession: 9,
      ranges: [
        [3, 2],
        [0, 65_535],
      ],
    })
  })

  it(`carries at most ${MAX_NACK_RANGES} ranges`, () => {
    const ranges = Array.from({ length: 100 }, (_, i) => [i * 2, 1] as const)
    const frame = decodeFrame(encodeNack(about, { receiverSession: 1, ranges }))
    if (!frame.ok) throw new Error(frame.reason)
    expect(decodeNackBody(frame.payload)?.ranges).toHaveLength(MAX_NACK_RANGES)
  })

  it('refuses payloads that are not whole ranges, have none, too many, or an empty one', () => {
    const body = (...words: number[]) => {
      const bytes = new Uint8Array(4 + words.length * 2)
      const view = new DataView(bytes.buffer)
      for (const [i, w] of words.entries()) view.setUint16(4 + i * 2, w)
      return bytes
    }
    expect(decodeNackBody(body())).toBeUndefined()
    expect(decodeNackBody(body(1))).toBeUndefined()
    expect(decodeNackBody(body(1, 0))).toBeUndefined()
    expect(decodeNackBody(body(...new Array((MAX_NACK_RANGES + 1) * 2).fill(1)))).toBeUndefined()
    expect(decodeNackBody(body(5, 1))).toEqual({ receiverSession: 0, ranges: [[5, 1]] })
  })
})

describe('missingRanges', () => {
  const seen = Uint8Array.from([1, 0, 0, 1, 0, 1, 1, 0])
  const isSeen = (i: number) => seen[i] === 1
  it('lists the runs not seen in [start, end)', () => {
    expect(missingRanges(isSeen, 0, 8)).toEqual([
      [1, 2],
      [4, 1],
      [7, 1],
    ])
    expect(missingRanges(isSeen, 2, 5)).toEqual([
      [2, 1],
      [4, 1],
    ])
    expect(missingRanges(isSeen, 5, 7)).toEqual([])
  })

  it(`stops at ${MAX_NACK_RANGES} ranges`, () => {
    const alternate = Uint8Array.from({ length: 400 }, (_, i) => i % 2)
    expect(missingRanges((i) => alternate[i] === 1, 0, 400)).toHaveLength(MAX_NACK_RANGES)
  })
})

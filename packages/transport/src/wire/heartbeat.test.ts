import { describe, expect, it } from 'vitest'
import { FrameKind } from './constants.js'
import { decodeFrame } from './frame.js'
import { encodeTopic } from './header.js'
import { decodeHeartbeatBody, encodeHeartbeats, MAX_HEARTBEAT_ENTRIES } from './heartbeat.js'

const topics = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ topicBytes: encodeTopic(`sensors/topic-${i}`), sequence: i * 1000 }))

describe('HEARTBEAT frames', () => {
  it('round-trip: the header names the publisher, the payload each topic and its last sequence', () => {
    const [datagram] = encodeHeartbeats(
      0xabc,
      7,
      [{ topicBytes: encodeTopic('imu'), sequence: 0xffffffff }],
      1_472,
    )
    const frame = decodeFrame(datagram!)
    if (!frame.ok) throw new Error(frame.reason)
    expect(frame.header).toMatchObject({
      kind: FrameKind.HEARTBEAT,
      sessionId: 0xabc,
      sequence: 7,
      topic: '*',
    })
    expect(decodeHeartbeatBody(frame.payload)).toEqual([{ topic: 'imu', sequence: 0xffffffff }])
  })

  it('spreads many topics over datagrams that fit the budget, numbered on', () => {
    const datagrams = encodeHeartbeats(1, 10, topics(300), 1_472)
    expect(datagrams.length).toBeGreaterThan(1)
    const entries = datagrams.flatMap((d, i) => {
      expect(d.length).toBeLessThanOrEqual(1_472)
      const frame = decodeFrame(d)
      if (!frame.ok) throw new Error(frame.reason)
      expect(frame.header.sequence).toBe(10 + i)
      return decodeHeartbeatBody(frame.payload)!
    })
    expect(entries.map((e) => e.sequence)).toEqual(topics(300).map((t) => t.sequence))
  })

  it('refuses a payload that is not whole entries, has an empty or non-UTF-8 topic, or too many', () => {
    expect(decodeHeartbeatBody(Uint8Array.from([3, 105, 109, 117, 0, 0, 0]))).toBeUndefined() // short sequence
    expect(decodeHeartbeatBody(Uint8Array.from([0, 0, 0, 0, 1]))).toBeUndefined() // empty topic
    expect(decodeHeartbeatBody(Uint8Array.from([1, 0xff, 0, 0, 0, 1]))).toBeUndefined() // not UTF-8
    const many = new Uint8Array((MAX_HEARTBEAT_ENTRIES + 1) * 6)
    for (let i = 0; i < MAX_HEARTBEAT_ENTRIES + 1; i++) many.set([1, 120, 0, 0, 0, 1], i * 6)
    expect(decodeHeartbeatBody(many)).toBeUndefined()
    expect(decodeHeartbeatBody(many.subarray(6))).toHaveLength(MAX_HEARTBEAT_ENTRIES)
  })

  it('a publisher with no frame sent yet announces itself: one heartbeat with no entries', () => {
    const [announce, ...rest] = encodeHeartbeats(7, 0, [], 1_472)
    expect(rest).toEqual([])
    const frame = decodeFrame(announce!, 0, announce!.length)
    expect(frame.ok && decodeHeartbeatBody(frame.payload)).toEqual([])
  })
})

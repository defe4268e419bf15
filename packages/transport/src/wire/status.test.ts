import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FrameKind, MAX_DATAGRAM_BYTES, MIN_DATAGRAM_BUDGET } from './constants.js'
import { decodeFrame } from './frame.js'
import { encodeTopic } from './header.js'
import {
  decodeStatusBody,
  encodeStatuses,
  MAX_STATUS_ENTRIES,
  MAX_STATUS_WINDOW_BYTES,
  STATUS_ENTRIES_OFFSET,
  type StatusBody,
} from './status.js'

const topics = (n: number, name = (i: number) => `sensors/topic-${i}`) =>
  Array.from({ length: n }, (_, i) => ({ topicBytes: encodeTopic(name(i)), sequence: (i * 1000) >>> 0 }))

function decode(datagram: Uint8Array) {
  const frame = decodeFrame(datagram)
  if (!frame.ok) throw new Error(frame.reason)
  return { header: frame.header, body: decodeStatusBody(frame.payload) }
}

/** A STATUS payload: receiver session 7, window 100, then `entries` as raw bytes. */
function payload(...entries: number[]) {
  const bytes = new Uint8Array(STATUS_ENTRIES_OFFSET + entries.length)
  bytes.set([0, 0, 0, 7, 0, 0, 0, 100])
  bytes.set(entries, STATUS_ENTRIES_OFFSET)
  return bytes
}

describe('STATUS frames', () => {
  it('round-trip: the header names the publisher and the counter, the payload the receiver, window, topics', () => {
    const datagrams = encodeStatuses(
      0xabc,
      0xfeedf00d,
      7,
      1_000_000,
      [
        { topicBytes: encodeTopic('imu'), sequence: 0xffffffff },
        { topicBytes: encodeTopic('caméra'), sequence: 0 },
      ],
      1_472,
    )
    expect(datagrams).toHaveLength(1)
    const { header, body } = decode(datagrams[0]!)
    expect(header).toMatchObject({
      kind: FrameKind.STATUS,
      flags: 0,
      hops: 0,
      topic: '*',
      sessionId: 0xabc,
      sequence: 7,
      fingerprint: 0,
      fragmentCount: 1,
      extensionLength: 0,
    })
    expect(body).toEqual<StatusBody>({
      receiverSession: 0xfeedf00d,
      windowBytes: 1_000_000,
      entries: [
        { topic: 'imu', sequence: 0xffffffff },
        { topic: 'caméra', sequence: 0 },
      ],
    })
  })

  it('with no topics, still one datagram: the receiver announcing itself', () => {
    const datagrams = encodeStatuses(1, 2, 3, 4, [], 1_472)
    expect(datagrams).toHaveLength(1)
    expect(datagrams[0]!.length).toBe(36 + 1 + STATUS_ENTRIES_OFFSET + 4)
    expect(decode(datagrams[0]!).body).toEqual({ receiverSession: 2, windowBytes: 4, entries: [] })
  })

  it('sends a window beyond u32 as the largest, and a negative one as 0', () => {
    const windowOf = (w: number) => decode(encodeStatuses(1, 2, 3, w, [], 1_472)[0]!).body?.windowBytes
    expect(windowOf(2 ** 40)).toBe(MAX_STATUS_WINDOW_BYTES)
    expect(windowOf(Number.POSITIVE_INFINITY)).toBe(MAX_STATUS_WINDOW_BYTES)
    expect(windowOf(MAX_STATUS_WINDOW_BYTES)).toBe(MAX_STATUS_WINDOW_BYTES)
    expect(windowOf(-5)).toBe(0)
    expect(windowOf(10.7)).toBe(10)
  })

  it('spreads many topics over datagrams that fit the budget, each self-contained, numbered on', () => {
    const datagrams = encodeStatuses(1, 0x77, 0xfffffffe, 5_000, topics(300), 1_472)
    expect(datagrams.length).toBeGreaterThan(1)
    const entries = datagrams.flatMap((d, i) => {
      expect(d.length).toBeLessThanOrEqual(1_472)
      const { header, body } = decode(d)
      expect(header.sequence).toBe((0xfffffffe + i) >>> 0) // wraps past 2^32 − 1 to 0
      expect(body).toMatchObject({ receiverSession: 0x77, windowBytes: 5_000 })
      return body!.entries
    })
    expect(entries.map((e) => e.sequence)).toEqual(topics(300).map((t) => t.sequence))
  })

  it(`puts at most ${MAX_STATUS_ENTRIES} entries in one datagram, however large the budget`, () => {
    const short = (n: number) => topics(n, (i) => `t${i}`)
    const counts = (n: number) =>
      encodeStatuses(1, 2, 0, 0, short(n), MAX_DATAGRAM_BYTES).map((d) => decode(d).body?.entries.length)
    expect(counts(MAX_STATUS_ENTRIES)).toEqual([MAX_STATUS_ENTRIES])
    expect(counts(MAX_STATUS_ENTRIES + 1)).toEqual([MAX_STATUS_ENTRIES, 1])
  })

  it('round-trips any topics at any budget: every entry once, in order, every datagram within it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 80 }), fc.nat({ max: 0xffffffff })), {
          maxLength: 60,
        }),
        fc.integer({ min: MIN_DATAGRAM_BUDGET, max: 4_000 }),
        fc.nat({ max: 0xffffffff }),
        (list, budget, counter) => {
          const given = list.map(([topic, sequence]) => ({ topicBytes: encodeTopic(topic), sequence }))
          const datagrams = encodeStatuses(9, 8, counter, 7, given, budget)
          expect(datagrams.length).toBeGreaterThanOrEqual(1)
          const entries = datagrams.flatMap((d, i) => {
            expect(d.length).toBeLessThanOrEqual(budget)
            const { header, body } = decode(d)
            expect(header.sequence).toBe((counter + i) >>> 0)
            return body!.entries
          })
          expect(entries).toEqual(list.map(([topic, sequence]) => ({ topic, sequence })))
        },
      ),
    )
  })

  it('refuses a payload shorter than session and window, or whose entries are not whole and valid', () => {
    for (let length = 0; length < STATUS_ENTRIES_OFFSET; length++)
      expect(decodeStatusBody(new Uint8Array(length)), `length ${length}`).toBeUndefined()
    expect(decodeStatusBody(payload())).toEqual({ receiverSession: 7, windowBytes: 100, entries: [] })
    expect(decodeStatusBody(payload(3, 105, 109, 117, 0, 0, 0, 9))).toEqual({
      receiverSession: 7,
      windowBytes: 100,
      entries: [{ topic: 'imu', sequence: 9 }],
    })
    expect(decodeStatusBody(payload(3))).toBeUndefined() // a length byte alone
    expect(decodeStatusBody(payload(3, 105, 109))).toBeUndefined() // short topic
    expect(decodeStatusBody(payload(3, 105, 109, 117, 0, 0, 0))).toBeUndefined() // short sequence
    expect(decodeStatusBody(payload(3, 105, 109, 117, 0, 0, 0, 9, 1))).toBeUndefined() // trailing byte
    expect(decodeStatusBody(payload(0, 0, 0, 0, 1))).toBeUndefined() // empty topic
    expect(decodeStatusBody(payload(1, 0xff, 0, 0, 0, 1))).toBeUndefined() // not UTF-8
    expect(decodeStatusBody(payload(2, 0xc3, 0x28, 0, 0, 0, 1))).toBeUndefined() // bad continuation
  })

  it(`reads ${MAX_STATUS_ENTRIES} entries and refuses ${MAX_STATUS_ENTRIES + 1}`, () => {
    const entries = (n: number) => Array.from({ length: n }, () => [1, 120, 0, 0, 0, 1]).flat()
    expect(decodeStatusBody(payload(...entries(MAX_STATUS_ENTRIES)))?.entries).toHaveLength(
      MAX_STATUS_ENTRIES,
    )
    expect(decodeStatusBody(payload(...entries(MAX_STATUS_ENTRIES + 1)))).toBeUndefined()
  })

  it('reads a payload that is a view into a larger buffer', () => {
    const inner = payload(1, 120, 0, 0, 0, 5)
    const big = new Uint8Array(inner.length + 10).fill(0xee)
    big.set(inner, 3)
    expect(decodeStatusBody(big.subarray(3, 3 + inner.length))).toEqual({
      receiverSession: 7,
      windowBytes: 100,
      entries: [{ topic: 'x', sequence: 5 }],
    })
  })
})

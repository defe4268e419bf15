import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { base, decodeAll, pattern, topicBytes } from '../../test/fragments.js'
import { Limits } from '../wire/constants.js'
import { fragmentMessage } from '../wire/fragment.js'
import type { FrameHeader } from '../wire/header.js'
import {
  ALLOCATE_AT_FRACTION,
  FRAGMENT_OVERHEAD_BYTES,
  Reassembler,
  SPARE_BUFFERS_MAX,
  SPARE_BYTES_MAX,
} from './reassembler.js'

describe('Reassembler', () => {
  it('round-trips 0 B to 8 MiB through random order, duplicates and loss', () => {
    const sizes = fc.oneof(
      fc.integer({ min: 0, max: 5_000 }),
      fc.integer({ min: 5_000, max: 300_000 }),
      fc.constantFrom(1024 * 1024, 8 * 1024 * 1024),
    )
    fc.assert(
      fc.property(
        sizes,
        fc.constantFrom(1472, 1452, 9000, 65_507),
        fc.integer(),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        (size, budget, seed, dupRate, lossRate) => {
          const message = pattern(size, seed)
          const fragments = decodeAll(fragmentMessage(base, topicBytes, message, budget))
          const rand = fc.sample(fc.integer({ min: 0, max: 999_999 }), {
            seed,
            numRuns: fragments.length * 3 + 3,
          })
          let r = 0
          const next = () => rand[r++ % rand.length]! / 1_000_000
          // loss
          const lost = new Set<number>()
          if (fragments.length > 1)
            for (let i = 0; i < fragments.length; i++) if (next() < lossRate) lost.add(i)
          const delivered = fragments.filter((_, i) => !lost.has(i))
          // duplicates, then shuffle
          const withDups = [...delivered]
          for (const f of delivered) if (next() < dupRate) withDups.push(f)
          for (let i = withDups.length - 1; i > 0; i--) {
            const j = Math.floor(next() * (i + 1))
            ;[withDups[i], withDups[j]] = [withDups[j]!, withDups[i]!]
          }
          const reassembler = new Reassembler()
          const complete: Uint8Array[] = []
          for (const f of withDups) {
            const result = reassembler.accept('s', f.header, f.payload)
            if (result.status === 'complete') complete.push(result.message)
            expect(result.status).not.toBe('dropped')
          }
          if (lost.size === 0) {
            expect(complete).toHaveLength(fragments.length === 1 ? withDups.length : 1)
            expect(Buffer.compare(complete[0]!, message)).toBe(0)
          } else {
            expect(complete).toHaveLength(0)
          }
        },
      ),
      { numRuns: 60, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) },
    )
  })

  it('never completes a message from a duplicated fragment (the LCM bug)', () => {
    const fragments = decodeAll(fragmentMessage(base, topicBytes, pattern(5000, 1), 1472))
    expect(fragments.length).toBe(4)
    const r = new Reassembler()
    // fragments 0,1,2 and fragment 2 again: 4 datagrams, but fragment 3 is missing
    for (const i of [0, 1, 2])
      expect(r.accept('k', fragments[i]!.header, fragments[i]!.payload).status).toBe('pending')
    expect(r.accept('k', fragments[2]!.header, fragments[2]!.payload).status).toBe('duplicate')
    expect(r.stats().duplicateFragments).toBe(1)
    expect(r.accept('k', fragments[3]!.header, fragments[3]!.payload).status).toBe('complete')
  })

  it('expires stale partial messages after the timeout and counts them', () => {
    let now = 0
    const r = new Reassembler({ timeoutMs: 1000, now: () => now })
    const abandoned: string[] = []
    r.onAbandon = (a) => abandoned.push(`${a.key}:${a.reason}`)
    const fragments = decodeAll(fragmentMessage(base, topicBytes, pattern(5000, 1), 1472))
    r.accept('k', fragments[0]!.header, fragments[0]!.payload)
    now = 999
    expect(r.sweep()).toBe(0)
    r.accept('k', fragments[1]!.header, fragments[1]!.payload) // activity resets the clock
    now = 1998
    expect(r.sweep()).toBe(0)
    now = 1999
    expect(r.sweep()).toBe(1)
    expect(abandoned).toEqual(['k:reassembly-expired'])
    expect(r.stats()).toMatchObject({ expired: 1, partialMessages: 0, partialBytes: 0 })
  })

  it('caps memory by message count and by bytes, evicting the oldest', () => {
    const byCount = new Reassembler({ maxPartialMessages: 2 })
    const evicted: string[] = []
    byCount.onAbandon = (a) => evicted.push(a.key)
    for (const key of ['a', 'b', 'c']) {
      const [first] = decodeAll(fragmentMessage({ ...base }, topicBytes, pattern(3000, 2), 1472))
      byCount.accept(key, first!.header, first!.payload)
    }
    expect(evicted).toEqual(['a'])
    expect(byCount.stats()).toMatchObject({ evicted: 1, partialMessages: 2 })

    // Two of three fragments of a 4,000-byte message: over half, so its buffer is allocated.
    const byBytes = new Reassembler({ maxPartialBytes: 10_000 })
    byBytes.onAbandon = (a) => evicted.push(a.key)
    for (const key of ['x', 'y', 'z']) {
      const fragments = decodeAll(fragmentMessage(base, topicBytes, pattern(4000, 2), 1472))
      expect(fragments).toHaveLength(3)
      for (const f of fragments.slice(0, 2)) byBytes.accept(key, f.header, f.payload)
    }
    expect(evicted).toEqual(['a', 'x'])
    expect(byBytes.stats()).toMatchObject({ evicted: 1, partialMessages: 2, partialBytes: 2 * (4000 + 4) })
  })

  it('holds what arrived, not what a header declares: a first fragment claiming 64 MiB costs its own bytes', () => {
    const r = new Reassembler()
    // 65,535 fragments of 1,024 bytes: the largest message the default cap takes
    const length = 65_535 * 1024
    const header: FrameHeader = {
      ...base,
      messageLength: length,
      fragmentOffset: 0,
      fragmentIndex: 0,
      fragmentCount: 65_535,
      payloadLength: 1024,
    }
    for (let k = 0; k < 1000; k++)
      expect(r.accept(`k${k}`, { ...header, sequence: k }, new Uint8Array(1024)).status).toBe('pending')
    const { partialMessages, partialBytes } = r.stats()
    expect(partialMessages).toBe(Limits.MAX_PARTIAL_MESSAGES_PER_SOURCE)
    // each: its fragment (a payload that owns its memory, and a CRC), what keeps it, one bit per fragment
    expect(partialBytes).toBe(
      Limits.MAX_PARTIAL_MESSAGES_PER_SOURCE * (1024 + 4 + FRAGMENT_OVERHEAD_BYTES + 2048 * 4),
    )
  })

  it(`allocates a message's buffer once ${ALLOCATE_AT_FRACTION * 100} % of it has arrived`, () => {
    const r = new Reassembler()
    const fragments = decodeAll(fragmentMessage(base, topicBytes, pattern(14_260, 3), 1472))
    expect(fragments).toHaveLength(10)
    const held = () => r.stats().partialBytes
    for (const f of fragments.slice(0, 4)) r.accept('k', f.header, f.payload)
    expect(held()).toBe(4 * (1426 + 4 + FRAGMENT_OVERHEAD_BYTES) + 4)
    r.accept('k', fragments[4]!.header, fragments[4]!.payload)
    expect(held()).toBe(14_260 + 4)
    let last = r.accept('k', fragments[5]!.header, fragments[5]!.payload)
    for (const f of fragments.slice(6)) last = r.accept('k', f.header, f.payload)
    expect(last).toEqual({ status: 'complete', message: pattern(14_260, 3) })
    expect(held()).toBe(0)
  })

  it('a flood of partial messages from one address pushes out its own, never another address’s', () => {
    const r = new Reassembler({ maxPartialMessages: 8, maxPartialMessagesPerSource: 8 })
    const real = decodeAll(fragmentMessage(base, topicBytes, pattern(5000, 9), 1472))
    r.accept('real', real[0]!.header, real[0]!.payload, { source: '10.0.0.1' })
    const [forged] = decodeAll(fragmentMessage(base, topicBytes, pattern(5000, 1), 1472))
    for (let k = 0; k < 10_000; k++)
      r.accept(`forged${k}`, forged!.header, forged!.payload, { source: '10.0.0.66' })
    expect(r.isPartial('real')).toBe(true)
    expect(r.stats()).toMatchObject({ partialMessages: 8, evicted: 10_000 - 7 })
    let result = r.accept('real', real[1]!.header, real[1]!.payload, { source: '10.0.0.1' })
    for (const f of real.slice(2)) result = r.accept('real', f.header, f.payload, { source: '10.0.0.1' })
    expect(result).toEqual({ status: 'complete', message: pattern(5000, 9) })
  })

  it('charges a fragment held as it came for its whole datagram, header extension and all', () => {
    const r = new Reassembler()
    const [first] = decodeAll(fragmentMessage(base, topicBytes, pattern(5000, 1), 1472))
    r.accept('k', first!.header, first!.payload, { datagramBytes: 60_000 })
    expect(r.stats().partialBytes).toBe(60_000 + FRAGMENT_OVERHEAD_BYTES + 4)
  })

  it('drops a first fragment whose count and size cannot hold the length it declares', () => {
    const r = new Reassembler()
    const [first] = decodeAll(fragmentMessage(base, topicBytes, pattern(5000, 1), 1472))
    const lying = { ...first!.header, messageLength: 60 * 1024 * 1024 }
    expect(r.accept('k', lying, first!.payload)).toEqual({ status: 'dropped', reason: 'fragment-mismatch' })
    expect(r.stats().partialMessages).toBe(0)
  })

  it('drops fragments that would overlap or leave a hole, so no unwritten byte is ever delivered', () => {
    const good = decodeAll(fragmentMessage(base, topicBytes, pattern(5000, 1), 1472))
    const cap = good[0]!.header.payloadLength
    const bad = (i: number, change: Partial<FrameHeader>) => ({
      ...good[i]!,
      header: { ...good[i]!.header, ...change },
    })
    const cases = [
      bad(1, { fragmentOffset: cap - 10 }), // overlaps fragment 0
      bad(1, { payloadLength: cap - 1 }), // a short middle fragment leaves a hole
      bad(3, { fragmentOffset: 3 * cap + 1, payloadLength: good[3]!.header.payloadLength - 1 }), // last one shifted
    ]
    for (const fragment of cases) {
      const r = new Reassembler()
      r.accept('k', good[0]!.header, good[0]!.payload)
      expect(r.accept('k', fragment.header, fragment.payload)).toEqual({
        status: 'dropped',
        reason: 'fragment-mismatch',
      })
    }
    // and as the first fragment seen
    const r = new Reassembler()
    expect(r.accept('k', cases[0]!.header, cases[0]!.payload)).toEqual({
      status: 'dropped',
      reason: 'fragment-mismatch',
    })
  })

  it('drops messages over the size cap and fragments that disagree with their message', () => {
    const r = new Reassembler({ maxMessageBytes: 4000 })
    const [big] = decodeAll(fragmentMessage(base, topicBytes, pattern(5000, 1), 1472))
    expect(r.accept('k', big!.header, big!.payload)).toEqual({ status: 'dropped', reason: 'too-large' })
    const r2 = new Reassembler()
    const a = decodeAll(fragmentMessage(base, topicBytes, pattern(5000, 1), 1472))
    const b = decodeAll(fragmentMessage({ ...base, fingerprint: 100 }, topicBytes, pattern(5000, 1), 1472))
    r2.accept('k', a[0]!.header, a[0]!.payload)
    expect(r2.accept('k', b[1]!.header, b[1]!.payload)).toEqual({
      status: 'dropped',
      reason: 'fragment-mismatch',
    })
  })
})

describe('Reassembler spare buffers', () => {
  /** Feeds every fragment of `message` under `key`; returns the final result. */
  function complete(r: Reassembler, key: string, message: Uint8Array) {
    const fragments = decodeAll(fragmentMessage(base, topicBytes, message, 1472))
    let result = r.accept(key, fragments[0]!.header, fragments[0]!.payload)
    for (const f of fragments.slice(1)) result = r.accept(key, f.header, f.payload)
    return result
  }
  /** Starts a message under `key` with all of its fragments but the last: its buffer is allocated. */
  function start(r: Reassembler, key: string, message: Uint8Array, budget = 1472) {
    const fragments = decodeAll(fragmentMessage(base, topicBytes, message, budget))
    for (const f of fragments.slice(0, -1)) expect(r.accept(key, f.header, f.payload).status).toBe('pending')
  }

  it('reuses the buffer of a given-up message, never one it delivered', () => {
    let now = 0
    const r = new Reassembler({ maxPartialMessages: 2, timeoutMs: 100, now: () => now })
    const delivered: Array<{ message: Uint8Array; copy: Uint8Array }> = []
    for (let round = 0; round < 40; round++) {
      // A message given up every round: evicted (a third partial arrives) or expired.
      start(r, `lost-a${round}`, pattern(5000, 1000 + round))
      start(r, `lost-b${round}`, pattern(5000, 2000 + round))
      if (round % 2 === 0) start(r, `lost-c${round}`, pattern(5000, 3000 + round))
      else {
        now += 1000
        r.sweep()
      }
      const result = complete(r, `ok${round}`, pattern(5000, round))
      expect(result.status).toBe('complete')
      if (result.status !== 'complete') return
      expect(result.message).toEqual(pattern(5000, round))
      delivered.push({ message: result.message, copy: result.message.slice() })
    }
    const stats = r.stats()
    expect(stats.reusedBuffers).toBeGreaterThan(40) // spares were really reused
    expect(stats.spareBuffers).toBeLessThanOrEqual(SPARE_BUFFERS_MAX)
    // Every delivered message still holds its own bytes, in a buffer no other message got.
    for (const d of delivered) expect(d.message).toEqual(d.copy)
    expect(new Set(delivered.map((d) => d.message.buffer)).size).toBe(delivered.length)
  })

  it('reuses a spare only for a message of the same length', () => {
    const r = new Reassembler({ maxPartialMessages: 1 })
    start(r, 'lost', pattern(5000, 1))
    start(r, 'other-size', pattern(6000, 2)) // evicts 'lost': a 5000-byte spare
    start(r, 'smaller', pattern(4000, 3)) // evicts 'other-size'; fits in a spare, but not its length
    expect(r.stats()).toMatchObject({ reusedBuffers: 0, spareBuffers: 2, spareBytes: 11_000 })
    start(r, 'same-size', pattern(5000, 4)) // evicts 'smaller', takes the 5000-byte spare
    expect(r.stats()).toMatchObject({ reusedBuffers: 1, spareBuffers: 2, spareBytes: 10_000 })
  })

  it(`keeps at most ${SPARE_BUFFERS_MAX} spares and ${SPARE_BYTES_MAX} bytes of them, and none after clear()`, () => {
    let now = 0
    const r = new Reassembler({ timeoutMs: 100, now: () => now })
    for (let i = 0; i < 3 * SPARE_BUFFERS_MAX; i++) start(r, `k${i}`, pattern(3000 + i, i))
    now = 1000
    expect(r.sweep()).toBe(3 * SPARE_BUFFERS_MAX)
    expect(r.stats().spareBuffers).toBe(SPARE_BUFFERS_MAX)
    // Large given-up messages: the byte cap holds, the newest spares are kept.
    for (let i = 0; i < 4; i++) start(r, `big${i}`, new Uint8Array(5 * 1024 * 1024), 65_507)
    now = 2000
    r.sweep()
    const { spareBuffers, spareBytes } = r.stats()
    expect(spareBytes).toBeLessThanOrEqual(SPARE_BYTES_MAX)
    expect(spareBytes).toBe(3 * 5 * 1024 * 1024)
    expect(spareBuffers).toBe(3)
    r.clear()
    expect(r.stats()).toMatchObject({ spareBuffers: 0, spareBytes: 0 })
  })
})

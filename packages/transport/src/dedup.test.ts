import { describe, expect, it } from 'vitest'
import { DEFAULT_DEDUP_ENTRIES, DedupCache } from './dedup.js'

const id = (sequence: number, fragmentIndex = 0, topic = 'imu', sessionId = 1) => ({
  sessionId,
  topic,
  sequence,
  fragmentIndex,
})

describe('DedupCache', () => {
  it('passes each (session, topic, sequence, fragment) once', () => {
    const cache = new DedupCache()
    expect(cache.firstTime(id(0))).toBe(true)
    expect(cache.firstTime(id(0))).toBe(false)
    for (const other of [id(1), id(0, 1), id(0, 0, 'gps'), id(0, 0, 'imu', 2)])
      expect(cache.firstTime(other)).toBe(true)
    expect(cache.size).toBe(5)
  })

  it('keys cannot collide through the topic', () => {
    const cache = new DedupCache()
    expect(cache.firstTime(id(1, 2, '3:a'))).toBe(true)
    expect(cache.firstTime(id(1, 2, '3:a'))).toBe(false)
    expect(cache.firstTime({ sessionId: 1, sequence: 2, fragmentIndex: 3, topic: 'a' })).toBe(true)
  })

  it('remembers exactly the last `capacity` identities, across many turns of the ring', () => {
    const capacity = 100
    const cache = new DedupCache(capacity)
    const total = 10 * capacity + 37
    for (let i = 0; i < total; i++) expect(cache.firstTime(id(i))).toBe(true)
    expect(cache.size).toBe(capacity)
    // the newest `capacity` are repeats; the one just before them was forgotten
    for (let i = total - capacity; i < total; i++) expect(cache.firstTime(id(i))).toBe(false)
    expect(cache.firstTime(id(total - capacity - 1))).toBe(true)
    expect(cache.size).toBe(capacity)
  })

  it('counts every identity forgotten to make room, and nothing else', () => {
    const capacity = 10
    const cache = new DedupCache(capacity)
    for (let i = 0; i < capacity; i++) cache.firstTime(id(i))
    for (let i = 0; i < capacity; i++) cache.firstTime(id(i)) // repeats: nothing new, nothing forgotten
    expect(cache.evicted).toBe(0)
    for (let i = capacity; i < 3 * capacity + 4; i++) cache.firstTime(id(i))
    expect(cache.evicted).toBe(2 * capacity + 4)
    expect(cache.size).toBe(capacity)
  })

  it(`holds ${DEFAULT_DEDUP_ENTRIES} by default and refuses a capacity below 1`, () => {
    const cache = new DedupCache()
    for (let i = 0; i <= DEFAULT_DEDUP_ENTRIES; i++) cache.firstTime(id(i))
    expect(cache.size).toBe(DEFAULT_DEDUP_ENTRIES)
    expect(cache.firstTime(id(1))).toBe(false)
    expect(cache.firstTime(id(0))).toBe(true) // the oldest, forgotten
    expect(() => new DedupCache(0)).toThrow(RangeError)
  })
})

describe('DedupCache and foreign frames', () => {
  const header = (sequence: number) => ({ sessionId: 1, topic: 'imu', sequence, fragmentIndex: 0 })

  it('a foreign copy after the stream’s own frame is a repeat; one before it does not block the real frame', () => {
    const cache = new DedupCache()
    expect(cache.firstTime(header(1))).toBe(true)
    expect(cache.firstTime(header(1), true)).toBe(false)
    // a forged frame claims sequence 2 first
    const forged = () => 0xf0
    const real = () => 0x0f
    expect(cache.firstTime(header(2), true, forged)).toBe(true)
    expect(cache.firstTime(header(2), true, forged)).toBe(false)
    expect(cache.firstTime(header(2), false, real)).toBe(true)
    expect(cache.firstTime(header(2), false, real)).toBe(false)
  })

  it('the stream’s own datagram after a foreign copy with the same payload is a repeat (a second path)', () => {
    const cache = new DedupCache()
    expect(cache.firstTime(header(3), true, () => 0xabc)).toBe(true)
    expect(cache.firstTime(header(3), true, () => 0xabc)).toBe(false)
    expect(cache.firstTime(header(3), false, () => 0xabc)).toBe(false)
    expect(cache.firstTime(header(3), false, () => 0xabc)).toBe(false)
    // a forged copy's payload differs: the real one goes through
    expect(cache.firstTime(header(4), true, () => 0xbad)).toBe(true)
    expect(cache.firstTime(header(4), false, () => 0xabc)).toBe(true)
  })
})

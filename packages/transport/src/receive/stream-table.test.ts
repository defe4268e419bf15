import { describe, expect, it } from 'vitest'
import { DEFAULT_MAX_STREAMS, ESTABLISHED_FRAMES, STREAM_REORDER_MS, StreamTable } from './stream-table.js'

describe('StreamTable', () => {
  it('finds a stream by (session, topic), and makes one only when new', () => {
    const table = new StreamTable()
    const a = table.get(1, 'imu', '10.0.0.1', 7400, 0)!
    expect(table.get(1, 'imu', '10.0.0.1', 7400, 5)).toBe(a)
    expect(table.get(1, 'gps', '10.0.0.1', 7400, 5)).not.toBe(a)
    expect(table.get(2, 'imu', '10.0.0.1', 7400, 5)).not.toBe(a)
    expect(table.find(1, 'imu')).toBe(a)
    expect(table.find(3, 'imu')).toBeUndefined()
    expect(table.size).toBe(3)
  })

  it('one address holds at most maxStreamsPerAddress: a flood from it pushes out its own streams only', () => {
    const table = new StreamTable({ maxStreams: 100, maxStreamsPerAddress: 10 })
    const real = table.get(7, 'imu', '10.0.0.1', 7400, 0)!
    real.tracker.observe(0, 0)
    for (let session = 1_000; session < 101_000; session++) table.get(session, 't', '10.0.0.66', 9999, 1)
    expect(table.size).toBe(11)
    expect(table.find(7, 'imu')).toBe(real)
    expect(table.stats()).toMatchObject({ active: 11, evicted: 100_000 - 10, expired: 0 })
  })

  it('when full, a stream on probation goes first, the least recently heard: established ones stay', () => {
    const table = new StreamTable({ maxStreams: 6, maxStreamsPerAddress: 6 })
    const real = [table.get(1, 'a', 'A', 1, 0)!, table.get(2, 'a', 'B', 1, 0)!]
    for (const stream of real) for (let s = 0; s < ESTABLISHED_FRAMES; s++) stream.tracker.observe(s, 0)
    table.get(1, 'a', 'A', 1, 1)
    table.get(2, 'a', 'B', 1, 1)
    // a flood of one-frame streams, each from an address of its own
    for (let s = 10; s < 10_000; s++) table.get(s, 't', `C${s}`, 1, s)
    expect(table.find(1, 'a')).toBe(real[0])
    expect(table.find(2, 'a')).toBe(real[1])
    expect(table.find(9_999, 't')).toBeDefined()
    expect(table.find(9_995, 't')).toBeUndefined()
    expect(table.size).toBe(6)
    expect(table.stats().evicted).toBe(10_000 - 10 - 4)
    // a stream on probation heard again is renewed in the order once STREAM_REORDER_MS has passed
    table.get(9_996, 't', 'C9996', 1, 9_996 + STREAM_REORDER_MS)
    table.get(5, 'new', 'D', 1, 9_996 + STREAM_REORDER_MS)
    expect(table.find(9_997, 't')).toBeUndefined()
    expect(table.find(9_996, 't')).toBeDefined()
  })

  it('with only established streams, the least recently heard goes', () => {
    const table = new StreamTable({ maxStreams: 2 })
    const [a, b] = [table.get(1, 'a', 'A', 1, 0)!, table.get(2, 'a', 'B', 1, 0)!]
    for (const stream of [a!, b!]) for (let s = 0; s < ESTABLISHED_FRAMES; s++) stream.tracker.observe(s, 0)
    table.get(2, 'a', 'B', 1, 1)
    table.get(1, 'a', 'A', 1, 2)
    table.get(3, 'a', 'C', 1, 3)
    expect(table.find(2, 'a')).toBeUndefined()
    expect(table.find(1, 'a')).toBe(a)
  })

  it('lets go of streams idle for streamIdleMs, and keeps their counters in `retired`', () => {
    const table = new StreamTable({ streamIdleMs: 1_000 })
    const quiet = table.get(1, 'imu', '10.0.0.1', 1, 0)!
    for (let s = 0; s < 5; s++) quiet.tracker.observe(s, 0)
    quiet.tracker.observe(7, 0)
    quiet.bytes = 500
    quiet.drop('decode-failed')
    const busy = table.get(2, 'imu', '10.0.0.1', 1, 0)!
    table.get(2, 'imu', '10.0.0.1', 1, 900)
    const retired: string[] = []
    table.onRetire = (stream, reason) => retired.push(`${stream.source}/${stream.topic} ${reason}`)
    expect(table.sweep(999)).toBe(0)
    expect(table.sweep(1_000)).toBe(1)
    expect(retired).toEqual(['00000001/imu expired'])
    expect(table.find(2, 'imu')).toBe(busy)
    expect(table.stats()).toMatchObject({
      active: 1,
      expired: 1,
      retired: { streams: 1, frames: 6, gaps: 2, bytes: 500, drops: { 'decode-failed': 1 } },
    })
    expect(table.sweep(1_900)).toBe(1)
    expect(table.size).toBe(0)
  })

  it('holds a million streams from many addresses at the cap', () => {
    const table = new StreamTable()
    for (let i = 0; i < 1_000_000; i++) table.get(i, 'x', `10.1.${(i >> 8) & 255}.${i & 255}`, 1, i)
    expect(table.size).toBe(DEFAULT_MAX_STREAMS)
    expect(table.stats().evicted).toBe(1_000_000 - DEFAULT_MAX_STREAMS)
    expect([...table.streams()]).toHaveLength(DEFAULT_MAX_STREAMS)
  })

  it('an address at its cap gives up its quiet new streams, never an established one: then new ones are refused', () => {
    const table = new StreamTable({ maxStreams: 100, maxStreamsPerAddress: 4 })
    const real = table.get(1, 'imu', 'R', 1, 0)!
    for (let s = 0; s < ESTABLISHED_FRAMES; s++) real.tracker.observe(s, 0)
    table.get(1, 'imu', 'R', 1, 1)
    for (let session = 100; session < 200; session++) table.get(session, 't', 'R', 1, 2)
    expect(table.find(1, 'imu')).toBe(real)
    expect(table.stats()).toMatchObject({ active: 4, evicted: 100 - 3, refused: 0 })
    // every stream of the address established: a new one is not tracked at all
    for (const stream of [...table.streams()])
      for (let s = 0; s < ESTABLISHED_FRAMES; s++) stream.tracker.observe(s, 3)
    for (const stream of [...table.streams()])
      table.get(Number.parseInt(stream.source, 16), stream.topic, 'R', 1, 4)
    expect(table.get(999, 't', 'R', 1, 5)).toBeUndefined()
    expect(table.stats()).toMatchObject({ active: 4, refused: 1 })
    expect(table.get(999, 't', 'OTHER', 1, 5)).toBeDefined()
  })
})

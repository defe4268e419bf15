import { describe, expect, it } from 'vitest'
import { createReceiveClock } from './clock.js'

describe('createReceiveClock', () => {
  it('anchors where the wall clock’s millisecond turns, then adds the sub-millisecond part', () => {
    let looks = 0
    let mono = 10_000n
    const at = createReceiveClock(
      () => (++looks > 3 ? 1_700_000_000_001 : 1_700_000_000_000), // the millisecond turns on the 4th look
      () => mono,
    )
    // anchored: 1_700_000_000_001 ms at monotonic 10_000 ns
    mono += 250_000n
    expect(at(1_700_000_000_001)).toBe(1_700_000_000_001_250_000n)
  })

  it('keeps every time inside the millisecond the transport stamped', () => {
    let wall = 1_000
    let mono = 0n
    const at = createReceiveClock(
      () => wall++, // turns at the second look: anchored at 1001 ms, monotonic 0
      () => mono,
    )
    mono = 300_000n
    expect(at(1_001)).toBe(1_001_300_000n)
    // a frame held back 5 ms (--ordered): the last nanosecond of its millisecond
    mono = 6_000_000n
    expect(at(1_001)).toBe(1_001_999_999n)
    // the monotonic clock fell behind the wall clock: the millisecond's start, and it catches up
    mono = 6_100_000n
    expect(at(1_009)).toBe(1_009_000_000n)
    mono = 6_200_000n
    expect(at(1_009)).toBe(1_009_100_000n)
  })

  it('stops waiting for the millisecond to turn after 2 ms of monotonic time', () => {
    let mono = 0n
    const at = createReceiveClock(
      () => 5,
      () => (mono += 500_000n),
    )
    const t = at(5)
    expect(t).toBeGreaterThanOrEqual(5_000_000n)
    expect(t).toBeLessThan(6_000_000n)
  })
})

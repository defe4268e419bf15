import { expect, it } from 'vitest'
import { createWallClockNs } from './clock.js'

it('counts nanoseconds from the wall clock at creation with the monotonic clock', () => {
  let mono = 5_000n
  const clock = createWallClockNs(
    () => 1_700_000_000_000,
    () => mono,
  )
  expect(clock()).toBe(1_700_000_000_000_000_000n)
  mono += 1_234_567n
  expect(clock()).toBe(1_700_000_000_001_234_567n)
})

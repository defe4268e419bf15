/**
 * Wall-clock time in nanoseconds since the Unix epoch, with the resolution of the monotonic clock:
 * the wall clock is read once and the monotonic clock measures from there, so recorded receive
 * times keep their sub-millisecond spacing (a replay keeps the original timing) and never go
 * backwards when the system clock is stepped.
 */
export function createWallClockNs(
  now: () => number = Date.now,
  monotonic: () => bigint = process.hrtime.bigint,
): () => bigint {
  const epochNs = BigInt(now()) * 1_000_000n
  const start = monotonic()
  return () => epochNs + (monotonic() - start)
}

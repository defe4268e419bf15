const NS_PER_MS = 1_000_000n
/** How long {@link createReceiveClock} waits at most for the wall clock's millisecond to turn, ns. */
const ANCHOR_WAIT_NS = 2_000_000n

/**
 * Receive times in nanoseconds for recordings, that agree with the transport's: a frame's
 * `receivedAt` is `Date.now()` (ms) when its last datagram arrived, and the JSON line prints that
 * millisecond; the recorded time is that same millisecond plus a sub-millisecond part from the
 * monotonic clock, so `shoal-recv --from` prints the very line the live receiver printed and a
 * replay keeps sub-millisecond spacing. The monotonic clock is anchored where the wall clock's
 * millisecond turns (a wait of at most a millisecond, once), moved forward whenever it falls behind
 * the wall clock, and a time past the frame's millisecond (a frame `--ordered` held back) becomes
 * the last nanosecond of it: times never leave the millisecond the transport stamped.
 */
export function createReceiveClock(
  now: () => number = Date.now,
  monotonic: () => bigint = process.hrtime.bigint,
): (receivedAtMs: number) => bigint {
  const first = now()
  const start = monotonic()
  let ms = first
  let mono = start
  while (ms === first && mono - start < ANCHOR_WAIT_NS) {
    ms = now()
    mono = monotonic()
  }
  let offset = BigInt(ms) * NS_PER_MS - mono
  return (receivedAtMs: number) => {
    const low = BigInt(receivedAtMs) * NS_PER_MS
    const t = monotonic() + offset
    if (t < low) {
      offset += low - t
      return low
    }
    return t < low + NS_PER_MS ? t : low + NS_PER_MS - 1n
  }
}

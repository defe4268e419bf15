/**
 * What Cyclone DDS's `ddsperf` prints, parsed. Pure functions of its stdout text, so they can be
 * checked against recorded output (fixtures/ddsperf-0.10.2/, `pnpm --filter @shoal/bench
 * check:ddsperf`) without a namespace. The line formats are those of ddsperf 0.10.2
 * (src/tools/ddsperf/ddsperf.c, `print_stats`, `latencystat_print` and `hist_print`); every line
 * that matches none of them (discovery, rss/cpu, warnings) is ignored.
 */
import { spread } from './stats.js'

/**
 * One second of `ddsperf sub`:
 * `[pid] 2.000  size 45 total 622786 lost 0 delta 389095 lost 0 rate 389.08 kS/s 140.07 Mb/s (…)`.
 * `total`/`lost` count since the start, `delta`/`deltaLost` in this window; lost = sequence gaps the
 * reader saw.
 */
export interface SubWindow {
  /** Seconds since the process started (the window ends here). */
  at: number
  /** Payload bytes of a sample (12 fixed + the octet sequence, as `size S` asked). */
  size: number
  total: number
  lost: number
  delta: number
  deltaLost: number
}

/**
 * One second of `ddsperf ping`, per peer:
 * `[pid] 3.000  host:pid size 45 mean 65.414us min 20.247us 50% 63.027us 90% 77.879us 99% 103.112us max 1510.456us cnt 7628`.
 * ddsperf stores (now − ping's source timestamp) / 2 for every pong, so each of these times is
 * **half a round trip** (see {@link roundTripOf}).
 */
export interface PingWindow {
  at: number
  peer: string
  size: number
  meanUs: number
  minUs: number
  p50Us: number
  p90Us: number
  p99Us: number
  maxUs: number
  /** Pongs in the window; percentiles cover at most the first {@link DDSPERF_RAW_SAMPLES}. */
  count: number
}

/** One second of `ddsperf pub`: `[pid] 2.002  375k/s   0n |@___-__….|   0%  96m`: samples written per second. */
export interface PubWindow {
  at: number
  perSecond: number
}

/** PINGPONG_RAWSIZE in ddsperf.c: a window's percentiles are taken over at most its first this many round trips. */
export const DDSPERF_RAW_SAMPLES = 20_000

const median = (values: readonly number[]): number => spread(values).median

const NUM = String.raw`(\d+(?:\.\d+)?)`
const PREFIX = String.raw`^\[\d+\]\s+${NUM}\s+`
const SUB_LINE = new RegExp(
  `${PREFIX}size (\\d+) total (\\d+) lost (\\d+) delta (\\d+) lost (\\d+) rate ${NUM} kS/s ${NUM} Mb/s`,
)
// The peer is `host:pid` (or a handle in hex); a `sublat` line (latency seen by a subscriber) has
// "sublat" there and then the peer, so it does not match.
const PING_LINE = new RegExp(
  `${PREFIX}(\\S+) size (\\d+) mean ${NUM}us min ${NUM}us 50% ${NUM}us 90% ${NUM}us 99% ${NUM}us max ${NUM}us cnt (\\d+)`,
)
// hist_print: "%5.3g/s", "%4.3gk/s" or "%4.3gM/s" (%g may use an exponent).
const PUB_LINE = new RegExp(`${PREFIX}(\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?)([kM]?)/s\\s`)
const TIMEOUT_LINE = /^\[\d+\] ping timed out \(total (\d+) times\)/

/** Complete lines only: the output is read while ddsperf writes it, and a line cut short ("cnt 47" of "cnt 4725") must not count. */
function lines(text: string): string[] {
  const all = text.split('\n')
  all.pop()
  return all.map((line) => line.trim())
}

export function parseSubWindows(text: string): SubWindow[] {
  const out: SubWindow[] = []
  for (const line of lines(text)) {
    const m = SUB_LINE.exec(line)
    if (m === null) continue
    out.push({
      at: Number(m[1]),
      size: Number(m[2]),
      total: Number(m[3]),
      lost: Number(m[4]),
      delta: Number(m[5]),
      deltaLost: Number(m[6]),
    })
  }
  return out
}

export function parsePingWindows(text: string): PingWindow[] {
  const out: PingWindow[] = []
  for (const line of lines(text)) {
    const m = PING_LINE.exec(line)
    if (m === null) continue
    out.push({
      at: Number(m[1]),
      peer: m[2]!,
      size: Number(m[3]),
      meanUs: Number(m[4]),
      minUs: Number(m[5]),
      p50Us: Number(m[6]),
      p90Us: Number(m[7]),
      p99Us: Number(m[8]),
      maxUs: Number(m[9]),
      count: Number(m[10]),
    })
  }
  return out
}

const SUFFIX = { '': 1, k: 1e3, M: 1e6 } as const

export function parsePubWindows(text: string): PubWindow[] {
  const out: PubWindow[] = []
  for (const line of lines(text)) {
    const m = PUB_LINE.exec(line)
    if (m === null) continue
    out.push({ at: Number(m[1]), perSecond: Number(m[2]) * SUFFIX[m[3] as keyof typeof SUFFIX] })
  }
  return out
}

/** The total ddsperf's "ping timed out (total N times)" lines reached: pings that got no pong within 1 s. */
export function parsePingTimeouts(text: string): number {
  let total = 0
  for (const line of lines(text)) {
    const m = TIMEOUT_LINE.exec(line)
    if (m !== null) total = Math.max(total, Number(m[1]))
  }
  return total
}

export interface Throughput {
  size: number
  /** Samples delivered in the timed windows ÷ their length. */
  samplesPerSecond: number
  bytesPerSecond: number
  timedSamples: number
  timedSeconds: number
  /** Since the subscriber started, as of its last window. */
  delivered: number
  lost: number
  /** Lost (sequence gaps) within the timed windows. */
  timedLost: number
}

/**
 * The subscriber's rate over `timed` whole windows. Windows before the first sample are skipped,
 * and so is the first window with samples: the publisher started somewhere inside it. Each
 * window's length is the time since the previous line (ddsperf runs with `-1`, so every second
 * prints a line, data or not). Undefined until `timed` whole windows have been printed.
 */
export function throughputOf(windows: readonly SubWindow[], timed: number): Throughput | undefined {
  const first = windows.findIndex((w) => w.delta > 0)
  if (first < 0 || windows.length < first + 1 + timed) return undefined
  let samples = 0
  let seconds = 0
  let timedLost = 0
  for (let i = first + 1; i <= first + timed; i++) {
    samples += windows[i]!.delta
    timedLost += windows[i]!.deltaLost
    seconds += windows[i]!.at - windows[i - 1]!.at
  }
  const last = windows[windows.length - 1]!
  const size = windows[first]!.size
  const perSecond = seconds > 0 ? samples / seconds : 0
  return {
    size,
    samplesPerSecond: perSecond,
    bytesPerSecond: perSecond * size,
    timedSamples: samples,
    timedSeconds: seconds,
    delivered: last.total,
    lost: last.lost,
    timedLost,
  }
}

/**
 * Samples/s the publisher wrote: the median of its windows after the first. It writes from the
 * start of its first window (it waits for its reader before it starts the clock), so every printed
 * window is whole, and a SIGTERM ends it without printing the one it was in; the first is left out
 * as warm-up, as the subscriber's partial first window is, unless it is the only one (a one-second
 * measurement, `--quick`).
 */
export function offeredOf(windows: readonly PubWindow[]): number | undefined {
  if (windows.length === 0) return undefined
  return median((windows.length > 1 ? windows.slice(1) : windows).map((w) => w.perSecond))
}

export interface RoundTrip {
  /** Round trip, µs: twice what ddsperf printed. Medians over the timed windows. */
  p50Us: number
  p90Us: number
  p99Us: number
  /** Largest round trip of any timed window. */
  maxUs: number
  /** Over every pong of the timed windows, weighted by count. */
  meanUs: number
  /** Pongs in the timed windows. */
  roundTrips: number
  windows: number
}

/**
 * Round-trip latency from `ddsperf ping`'s windows. ddsperf prints half of each round trip
 * (`update_roundtrip(…, (tnow - source_timestamp) / 2, …)` in ddsperf.c, the source timestamp being
 * the pinger's own clock when it wrote the ping), so every figure is doubled here to compare with
 * the bench's round trips. The first window is warm-up (its first ping goes out once the pong is
 * matched, somewhere inside it); the next `timed` are used. ddsperf computes each window's
 * percentiles itself and does not print the samples, so a run's p50 (p99) is the median of its
 * windows' p50s (p99s). Undefined until `timed` windows after the warm-up have been printed.
 */
export function roundTripOf(windows: readonly PingWindow[], timed: number): RoundTrip | undefined {
  if (windows.length < 1 + timed) return undefined
  const used = windows.slice(1, 1 + timed)
  const count = used.reduce((n, w) => n + w.count, 0)
  const double = (us: number) => 2 * us
  return {
    p50Us: double(median(used.map((w) => w.p50Us))),
    p90Us: double(median(used.map((w) => w.p90Us))),
    p99Us: double(median(used.map((w) => w.p99Us))),
    maxUs: double(Math.max(...used.map((w) => w.maxUs))),
    meanUs: count > 0 ? double(used.reduce((sum, w) => sum + w.meanUs * w.count, 0) / count) : Number.NaN,
    roundTrips: count,
    windows: used.length,
  }
}

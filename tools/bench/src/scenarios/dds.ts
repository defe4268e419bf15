/**
 * Scenario `dds`: Cyclone DDS (`ddsperf`, Debian's cyclonedds-tools) as a peer, in the same
 * namespace and pinned to the same CPUs as Shoal's processes. Per run, three measurements in a
 * rotating order, each a fresh pair of ddsperf processes:
 *
 * - reliable throughput of 45-byte samples (the size of Shoal's small frame): `ddsperf sub` on the
 *   receivers' CPU, `ddsperf pub size 45` (no rate: as fast as the reliable writer may go) on the
 *   senders';
 * - the same with 1 MiB samples (`size 1048576`, the pixels of Shoal's image);
 * - round-trip latency: `ddsperf pong`, and `ddsperf ping size 45` (a ping whenever the previous
 *   pong arrived).
 *
 * ddsperf reports once a second; the rates are taken over whole windows (see ../ddsperf-output.ts)
 * and the latency is doubled, since ddsperf prints half a round trip.
 */
import type { BenchContext } from '../context.js'
import { CYCLONE_CONFIG, type DdsperfProcess, ddsperfVersion, findDdsperf, startDdsperf } from '../ddsperf.js'
import {
  offeredOf,
  parsePingTimeouts,
  parsePingWindows,
  parsePubWindows,
  parseSubWindows,
  roundTripOf,
  throughputOf,
} from '../ddsperf-output.js'
import { CpuWindow } from '../interference.js'
import type { UdpCounters } from '../protocol.js'
import { IMAGE_DATA_BYTES } from '../samples.js'
import { parseUdpCounters } from '../snmp.js'
import { type Spread, spread } from '../stats.js'
import { smallMessage } from './small.js'

export type DdsMeasurement = 'small' | 'image' | 'latency'
export const DDS_MEASUREMENTS: readonly DdsMeasurement[] = ['small', 'image', 'latency']

export interface DdsThroughputRun {
  run: number
  /** Delivered samples per second over the timed windows. */
  rate: number
  /** Delivered payload bytes per second over the timed windows. */
  bytesPerSecond: number
  timedSamples: number
  timedSeconds: number
  /** Samples the subscriber got, start to end. */
  delivered: number
  /** Sequence gaps the subscriber counted (ddsperf's `lost`), start to end. */
  lost: number
  /** Samples/s the publisher wrote (median of its whole windows). */
  offered: number | undefined
  /** Datagrams the namespace's kernel dropped for a full receive buffer meanwhile. */
  rcvbufErrors: number
  receiverPeakRss: number | undefined
  pubExit: number | null
  subExit: number | null
  othersCores: number | undefined
}

export interface DdsThroughputResult {
  sizeBytes: number
  runs: DdsThroughputRun[]
  rate: Spread
  bytesPerSecond: Spread
  lost: Spread
  receiverPeakRss: Spread
}

export interface DdsLatencyRun {
  run: number
  /** Round trip, µs (twice what ddsperf printed). */
  p50Us: number
  p90Us: number
  p99Us: number
  maxUs: number
  meanUs: number
  roundTrips: number
  /** Pings ddsperf resent after 1 s without a pong. */
  timeouts: number
  othersCores: number | undefined
}

export interface DdsLatencyResult {
  sizeBytes: number
  runs: DdsLatencyRun[]
  p50: Spread
  p99: Spread
  max: Spread
  roundTrips: Spread
  timeouts: Spread
}

export interface DdsResult {
  /** cyclonedds-tools' Debian version. */
  version: string | undefined
  /** The CYCLONEDDS_URI every ddsperf got. */
  config: string
  /** Whole 1-second windows timed per measurement. */
  timedWindows: number
  small: DdsThroughputResult
  image: DdsThroughputResult
  latency: DdsLatencyResult
}

/** Whole windows timed per throughput or latency measurement (about 20,000 round trips at full). */
const TIMED_WINDOWS = 3
const QUICK_TIMED_WINDOWS = 1
/** How long a subscriber or ponger may take to start. */
const READY_MS = 10_000
/** How long a publisher or pinger waits for its peer to match (`-Qinitwait`) before it gives up, s. */
const MATCH_S = 10
/**
 * Beyond its timed windows, what a measurement may take: matching, the partial first window (or
 * the latency warm-up window) and a second of slack, s. Past it the wait fails.
 */
const SLACK_S = MATCH_S + 3
/** After the publisher stops, how long the subscriber has to print its last window (its final totals). */
const DRAIN_MS = 2_000
const STOP_MS = 5_000
/** ddsperf's own limit (`-D`) is this much past the coordinator's, so the coordinator decides. */
const SELF_LIMIT_S = 5

export function timedWindows(ctx: BenchContext): number {
  return ctx.options.quick ? QUICK_TIMED_WINDOWS : TIMED_WINDOWS
}

async function udpCounters(ctx: BenchContext): Promise<UdpCounters | undefined> {
  const read = await ctx.host?.run('cat', ['/proc/net/snmp'])
  return read?.code === 0 ? parseUdpCounters(read.stdout) : undefined
}

/** Reliable throughput of `size`-byte samples, one run. */
export async function measureDdsThroughput(
  ctx: BenchContext,
  size: number,
  run: number,
): Promise<DdsThroughputRun> {
  const timed = timedWindows(ctx)
  const waitS = timed + SLACK_S
  const limitS = String(waitS + SELF_LIMIT_S)
  const killAfterMs = (waitS + 2 * SELF_LIMIT_S) * 1000 + READY_MS
  const before = await udpCounters(ctx)
  const window = new CpuWindow()
  // -1: a line every second, data or not, so consecutive lines are consecutive windows.
  const sub = startDdsperf(ctx, 'receiver', ['-1', '-D', limitS, 'sub'], killAfterMs)
  let pub: DdsperfProcess | undefined
  try {
    await sub.ready(READY_MS)
    pub = startDdsperf(
      ctx,
      'sender',
      ['-Qminmatch:1', `-Qinitwait:${MATCH_S}`, '-D', limitS, 'pub', 'size', String(size)],
      killAfterMs,
    )
    await sub.until(
      `${timed} whole window(s) of data`,
      (out) => throughputOf(parseSubWindows(out), timed),
      waitS * 1000,
    )
    const cpuUs = (sub.cpuUs() ?? 0) + (pub.cpuUs() ?? 0)
    const pubExit = await pub.stop(STOP_MS)
    // One more window brings in what was in flight when the publisher stopped: the final totals.
    const seen = parseSubWindows(sub.stdout()).length
    await sub
      .until('its last window', (out) => (parseSubWindows(out).length > seen ? true : undefined), DRAIN_MS)
      .catch(() => undefined)
    const measured = throughputOf(parseSubWindows(sub.stdout()), timed)!
    const receiverPeakRss = sub.peakRssBytes()
    const subExit = await sub.stop(STOP_MS)
    const after = await udpCounters(ctx)
    return {
      run,
      rate: measured.samplesPerSecond,
      bytesPerSecond: measured.bytesPerSecond,
      timedSamples: measured.timedSamples,
      timedSeconds: measured.timedSeconds,
      delivered: measured.delivered,
      lost: measured.lost,
      offered: offeredOf(parsePubWindows(pub.stdout())),
      rcvbufErrors:
        before === undefined || after === undefined ? Number.NaN : after.rcvbufErrors - before.rcvbufErrors,
      receiverPeakRss,
      pubExit,
      subExit,
      othersCores: window.othersCores(cpuUs),
    }
  } finally {
    pub?.kill()
    sub.kill()
  }
}

/** Round-trip latency, one run. */
export async function measureDdsLatency(
  ctx: BenchContext,
  size: number,
  run: number,
): Promise<DdsLatencyRun> {
  const timed = timedWindows(ctx)
  // The warm-up window comes first.
  const waitS = 1 + timed + SLACK_S
  const limitS = String(waitS + SELF_LIMIT_S)
  const killAfterMs = (waitS + 2 * SELF_LIMIT_S) * 1000 + READY_MS
  const window = new CpuWindow()
  const pong = startDdsperf(ctx, 'receiver', ['-D', limitS, 'pong'], killAfterMs)
  let ping: DdsperfProcess | undefined
  try {
    await pong.ready(READY_MS)
    ping = startDdsperf(
      ctx,
      'sender',
      ['-Qminmatch:1', `-Qinitwait:${MATCH_S}`, '-D', limitS, 'ping', 'size', String(size)],
      killAfterMs,
    )
    const measured = await ping.until(
      `a warm-up window and ${timed} timed window(s) of round trips`,
      (out) => roundTripOf(parsePingWindows(out), timed),
      waitS * 1000,
    )
    const cpuUs = (ping.cpuUs() ?? 0) + (pong.cpuUs() ?? 0)
    await ping.stop(STOP_MS)
    await pong.stop(STOP_MS)
    return {
      run,
      p50Us: measured.p50Us,
      p90Us: measured.p90Us,
      p99Us: measured.p99Us,
      maxUs: measured.maxUs,
      meanUs: measured.meanUs,
      roundTrips: measured.roundTrips,
      timeouts: parsePingTimeouts(ping.stdout()),
      othersCores: window.othersCores(cpuUs),
    }
  } finally {
    ping?.kill()
    pong.kill()
  }
}

function summariseThroughput(sizeBytes: number, runs: DdsThroughputRun[]): DdsThroughputResult {
  return {
    sizeBytes,
    runs,
    rate: spread(runs.map((r) => r.rate)),
    bytesPerSecond: spread(runs.map((r) => r.bytesPerSecond)),
    lost: spread(runs.map((r) => r.lost)),
    receiverPeakRss: spread(runs.map((r) => r.receiverPeakRss ?? Number.NaN)),
  }
}

export async function runDds(ctx: BenchContext): Promise<DdsResult> {
  if (findDdsperf() === undefined)
    throw new Error('ddsperf is not installed (the bench installs it before it starts)')
  const smallBytes = smallMessage().messageBytes
  const small: DdsThroughputRun[] = []
  const image: DdsThroughputRun[] = []
  const latency: DdsLatencyRun[] = []
  const mb = (bytesPerSecond: number) => (bytesPerSecond / 1e6).toFixed(0)
  for (let run = 0; run < ctx.options.runs; run++) {
    // Rotate the order so that no measurement always goes first (or last) in a run.
    const order = DDS_MEASUREMENTS.map((_, i) => DDS_MEASUREMENTS[(i + run) % DDS_MEASUREMENTS.length]!)
    for (const what of order) {
      const tag = `dds    run ${run + 1}/${ctx.options.runs}  ${what.padEnd(9)}`
      if (what === 'latency') {
        const m = await measureDdsLatency(ctx, smallBytes, run)
        latency.push(m)
        ctx.log(
          `${tag} round trip p50 ${m.p50Us.toFixed(1)} µs, p99 ${m.p99Us.toFixed(1)} µs ` +
            `(${m.roundTrips} round trips), ${m.timeouts} ping timeouts`,
        )
        continue
      }
      const m = await measureDdsThroughput(ctx, what === 'small' ? smallBytes : IMAGE_DATA_BYTES, run)
      ;(what === 'small' ? small : image).push(m)
      ctx.log(
        `${tag} ${Math.round(m.rate).toLocaleString('en-US')} samples/s delivered (${mb(m.bytesPerSecond)} MB/s, ` +
          `written ${m.offered === undefined ? '?' : Math.round(m.offered).toLocaleString('en-US')}/s), lost ${m.lost}`,
      )
    }
  }
  return {
    version: ddsperfVersion(),
    config: CYCLONE_CONFIG,
    timedWindows: timedWindows(ctx),
    small: summariseThroughput(smallBytes, small),
    image: summariseThroughput(IMAGE_DATA_BYTES, image),
    latency: {
      sizeBytes: smallBytes,
      runs: latency,
      p50: spread(latency.map((r) => r.p50Us)),
      p99: spread(latency.map((r) => r.p99Us)),
      max: spread(latency.map((r) => r.maxUs)),
      roundTrips: spread(latency.map((r) => r.roundTrips)),
      timeouts: spread(latency.map((r) => r.timeouts)),
    },
  }
}

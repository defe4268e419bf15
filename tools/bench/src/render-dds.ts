/**
 * The Cyclone DDS peer in the report: a row in the small-frame, image, latency and memory tables
 * (same columns as Shoal's rows, a dash where ddsperf has no such number) and a note under each
 * table saying how it was measured.
 */
import { compact, fixed, int, withSpread } from './format.js'
import type { DdsResult, DdsThroughputResult } from './scenarios/dds.js'
import { type Spread, scaled, spread } from './stats.js'

/** Cyclone's ratio to a raw row of the same bench run: between medians, its runs not being interleaved with raw's. */
const medianRatio = (value: number, raw: number | undefined) =>
  raw === undefined || !Number.isFinite(raw) || raw <= 0 ? '—' : `${(value / raw).toFixed(2)}×`
const median = (values: ReadonlyArray<number | undefined>) =>
  spread(values.filter((v): v is number => v !== undefined && Number.isFinite(v))).median

function version(dds: DdsResult): string {
  return dds.version === undefined ? '' : ` ${dds.version}`
}

function windows(dds: DdsResult): string {
  return `${dds.timedWindows} whole second${dds.timedWindows === 1 ? '' : 's'}`
}

export function ddsSmallName(dds: DdsResult): string {
  return `Cyclone DDS reliable (\`ddsperf pub size ${dds.small.sizeBytes}\`), as fast as possible`
}

/** Columns: variant, delivered/s, × raw, loss, gaps, offered/s, datagrams, kernel drops. */
export function ddsSmallRow(dds: DdsResult, rawRate: number | undefined): string[] {
  const s = dds.small
  return [
    ddsSmallName(dds),
    withSpread(s.rate, compact),
    medianRatio(s.rate.median, rawRate),
    withSpread(s.lost, int),
    withSpread(s.lost, int),
    compact(median(s.runs.map((r) => r.offered))),
    '—',
    int(median(s.runs.map((r) => r.rcvbufErrors))),
  ]
}

function throughputNote(dds: DdsResult, t: DdsThroughputResult, unit: string): string {
  return (
    `Cyclone DDS row: Eclipse Cyclone DDS${version(dds)} (\`ddsperf\`, Debian's cyclonedds-tools) in the same namespace on \`lo\` ` +
    '(`CYCLONEDDS_URI` names `lo` as its only interface), publisher pinned like the senders, subscriber like the receivers: ' +
    `\`ddsperf pub size ${t.sizeBytes}\` (reliable, KEEP_ALL, no rate: the writer waits whenever its reader falls behind) to ` +
    `\`ddsperf -1 sub\`. Delivered ${unit} is taken over ${windows(dds)} of the subscriber's once-a-second report, after the ` +
    "partial second the publisher started in. Loss and gaps are the sequence gaps its subscriber counted (ddsperf's `lost`; " +
    'the publisher does not print what it wrote); offered is what the publisher wrote per second. × raw is between medians: ' +
    'Cyclone runs in its own scenario, not interleaved with raw.'
  )
}

export function ddsSmallNote(dds: DdsResult): string {
  return throughputNote(dds, dds.small, 'samples/s')
}

export function ddsImageName(dds: DdsResult): string {
  return `Cyclone DDS reliable (\`ddsperf pub size ${dds.image.sizeBytes}\`), as fast as possible`
}

/** Columns: variant, goodput MB/s, × raw, lost, lost of the first N, gaps, offered MB/s, datagrams/image, kernel drops, repair. */
export function ddsImageRow(dds: DdsResult, rawGoodput: number | undefined): string[] {
  const i = dds.image
  const mb = scaled(i.bytesPerSecond, 1e-6)
  return [
    ddsImageName(dds),
    withSpread(mb, fixed(0)),
    medianRatio(mb.median, rawGoodput),
    withSpread(i.lost, int),
    '—',
    withSpread(i.lost, int),
    fixed(0)((median(i.runs.map((r) => r.offered)) * i.sizeBytes) / 1e6),
    '—',
    int(median(i.runs.map((r) => r.rcvbufErrors))),
    '—',
  ]
}

export function ddsImageNote(dds: DdsResult): string {
  return `${throughputNote(dds, dds.image, 'MB/s')} Cyclone sends each sample in DDSI messages of at most 14,720 B (its default \`MaxMessageSize\`).`
}

/** Columns: variant, p50, p99, p99.9, p50 − raw, p99 ÷ raw, lost. */
export function ddsLatencyRow(dds: DdsResult, raw: { p50: number; p99: number } | undefined): string[] {
  const l = dds.latency
  const us = fixed(1)
  const delta = raw === undefined ? Number.NaN : l.p50.median - raw.p50
  return [
    `Cyclone DDS reliable (\`ddsperf ping size ${l.sizeBytes}\` / \`pong\`)`,
    withSpread(l.p50, us),
    withSpread(l.p99, us),
    '—',
    Number.isFinite(delta) ? `${delta >= 0 ? '+' : ''}${delta.toFixed(1)}` : '—',
    medianRatio(l.p99.median, raw?.p99),
    withSpread(l.timeouts, int),
  ]
}

export function ddsLatencyNote(dds: DdsResult): string {
  const l = dds.latency
  return (
    `Cyclone DDS row: \`ddsperf ping size ${l.sizeBytes}\` pinned like the pingers, \`ddsperf pong\` like the pongers, reliable; ` +
    'a ping goes out as soon as the previous pong is in. Both legs are unicast (Cyclone sends to a single matched reader by ' +
    'unicast by default). **ddsperf prints half a round trip**: for each pong it records (now − the ping’s source timestamp) / 2, ' +
    "both on the pinger's clock (`update_roundtrip` in ddsperf.c), so the row shows twice what it printed: a round trip, like " +
    "the other rows. ddsperf computes its percentiles per 1-second window (over at most the window's first 20,000 round trips) " +
    'and prints no samples and no p99.9: per run the first window is warm-up, and p50 (p99) is the median of the p50s (p99s) of ' +
    `the ${windows(dds)} after it, ${int(l.roundTrips.median)} round trips per run (median). Lost = pings ddsperf resent after 1 s ` +
    'without a pong. Its differences and ratios to raw are between medians.'
  )
}

/** Rows for the memory table (during, variant, peak RSS MiB, RSS before traffic), one per throughput measurement. */
export function ddsMemoryRows(dds: DdsResult): { small: string[]; image: string[] } {
  const mib = (s: Spread) => withSpread(scaled(s, 1 / 2 ** 20), fixed(0))
  return {
    small: ['small frames', `${ddsSmallName(dds)}: \`ddsperf sub\``, mib(dds.small.receiverPeakRss), '—'],
    image: ['1 MiB images', `${ddsImageName(dds)}: \`ddsperf sub\``, mib(dds.image.receiverPeakRss), '—'],
  }
}

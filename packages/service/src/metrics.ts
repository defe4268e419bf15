import { Counter, Gauge, type Registry } from 'prom-client'
import { registerSealMetrics } from './seal-metrics.js'
import type { StreamStatsLike, TransportStatsLike } from './transport-stats.js'

export {
  type FlowStatsLike,
  mergeTransportStats,
  type StreamStatsLike,
  type StreamTableLike,
  type TransportStatsLike,
} from './transport-stats.js'

/**
 * Streams given series of their own on `/metrics`, by default: the busiest by frames. The rest,
 * and every stream let go, are added up in one series labelled `source="*", topic="*"`, so the
 * number of series (and a scrape's cost) never grows with the streams a stranger can make up.
 */
export const DEFAULT_METRICS_STREAMS = 64
/** The labels of the series that adds up every stream without one of its own. */
export const OTHER_STREAMS = { source: '*', topic: '*' } as const

export interface TransportMetricsOptions {
  /** Metric name prefix; `shoal_` by default. */
  readonly prefix?: string
  /** Streams with series of their own, the busiest; default {@link DEFAULT_METRICS_STREAMS}. */
  readonly maxStreams?: number
}

type Direction = 'in' | 'out'
type StreamField = 'frames' | 'bytes' | 'gaps' | 'duplicates' | 'reordered'

/** One scrape's view of a snapshot: the streams with series of their own, and the rest added up. */
interface Scrape {
  readonly stats: TransportStatsLike
  readonly streams: Record<
    Direction,
    { shown: StreamStatsLike[]; other: Record<StreamField, number> | undefined }
  >
}

const STREAM_FIELDS: readonly StreamField[] = ['frames', 'bytes', 'gaps', 'duplicates', 'reordered']

/** The `limit` busiest streams by frames, and the rest (with `retired`) added up. */
function splitStreams(
  streams: readonly StreamStatsLike[],
  limit: number,
  retired?: Partial<Record<StreamField, number>> & { streams?: number },
): Scrape['streams'][Direction] {
  const shown =
    streams.length <= limit ? [...streams] : [...streams].sort((a, b) => b.frames - a.frames).slice(0, limit)
  const rest = streams.length <= limit ? [] : streams.filter((stream) => !shown.includes(stream))
  if (rest.length === 0 && (retired?.streams ?? 0) === 0) return { shown, other: undefined }
  const other = { frames: 0, bytes: 0, gaps: 0, duplicates: 0, reordered: 0 }
  for (const field of STREAM_FIELDS) {
    other[field] = retired?.[field] ?? 0
    for (const stream of rest) other[field] += stream[field]
  }
  return { shown, other }
}

/**
 * Registers counters that read `snapshot()` at scrape time, so `/metrics` shows the transport's exact
 * counts rather than a copy kept in step by hand. The snapshot is taken once per scrape.
 *
 * - `shoal_frames_total{direction,topic,source}`, `shoal_bytes_total{direction,topic,source}`
 * - `shoal_gaps_total`, `shoal_duplicates_total`, `shoal_reordered_total` `{topic,source}` (received)
 *   — per stream for the {@link DEFAULT_METRICS_STREAMS} busiest; every other stream, and every
 *   stream let go, added up under `source="*", topic="*"`
 * - `shoal_drops_total{reason}`, `shoal_datagrams_total{direction}`
 * - `shoal_datagram_outcomes_total{outcome}`: what became of every datagram read (one outcome each)
 * - `shoal_kernel_drops_total`: datagrams the kernel dropped, the socket's receive buffer full
 * - `shoal_streams` (gauge) and `shoal_stream_evictions_total{reason}` (`evicted`, `expired`)
 * - `shoal_sources{state}` (gauge: `alive`, `gone`) and `shoal_heartbeats_total{direction}`
 * - `shoal_status_total{event}`: STATUS frames a receiver sent (`sent`), publishers it did not
 *   report to, its table full (`sessions_refused`)
 * - `shoal_sequence_jumps_total`, `shoal_sequence_resyncs_total`: frames far from their stream's
 *   position, and streams moved to a confirmed new position
 * - `shoal_repair_events_total{event}`: NACKs sent and received, fragments resent and repaired,
 *   whole frames asked for, given up on and not asked for, datagrams resent from the sent log,
 *   NACKs for what is no longer held, NACKs cut short by their credit or a rate cap
 *   (`nacks_sent`, `nacks_received`, `fragments_resent`, `fragments_repaired`, `frames_asked`,
 *   `frames_given_up`, `frames_not_asked`, `datagrams_resent`, `unavailable`, `credit_limited`,
 *   `rate_limited`, `order_skipped`, `forwarded_evicted`)
 * - flow control (publishers): `shoal_flow_receivers` (gauge), `shoal_flow_receivers_timed_out_total`,
 *   `shoal_flow_receivers_left_total`,
 *   `shoal_backpressure_seconds_total`, `shoal_backpressure_waits_total`, `shoal_sends_refused_total`
 * - in-band schemas (WIRE.md “Schemas”): `shoal_schema_events_total{event}` (`announced`,
 *   `announced_bytes`, `requested`, `limited`, `unknown`, `accepted`, `known`, `rejected`,
 *   `requests_suppressed`, `pending_evicted`; rejections by reason are in `shoal_drops_total`) and `shoal_schemas_pending`
 * - keyed (WIRE.md “Sealing”): `shoal_sealing_key{key_id}`, `shoal_seal_datagrams_total{event}`,
 *   `shoal_seal_senders`, `shoal_seal_sender_evictions_total{reason}` (see seal-metrics.ts)
 *
 * Returns a function that removes them again.
 */
export function registerTransportMetrics(
  registry: Registry,
  snapshot: () => TransportStatsLike,
  options: TransportMetricsOptions = {},
): () => void {
  const prefix = options.prefix ?? 'shoal_'
  const limit = options.maxStreams ?? DEFAULT_METRICS_STREAMS
  const streamLabels = ['topic', 'source'] as const
  const names: string[] = []

  // A scrape collects every metric in the order they were registered: the first takes the
  // snapshot, the others read the same one.
  let current: Scrape | undefined
  const scrape = (fresh = false): Scrape => {
    if (current !== undefined && !fresh) return current
    const stats = snapshot()
    current = {
      stats,
      streams: {
        out: splitStreams(stats.sent, limit),
        in: splitStreams(stats.received, limit, stats.streams?.retired),
      },
    }
    return current
  }
  const read = () => scrape().stats

  const perStream = (name: string, help: string, field: StreamField, directions: readonly Direction[]) => {
    names.push(`${prefix}${name}`)
    const labelNames = directions.length > 1 ? (['direction', ...streamLabels] as const) : streamLabels
    new Counter({
      name: `${prefix}${name}`,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset()
        const { streams } = scrape(names.length > 0 && names[0] === `${prefix}${name}`)
        for (const direction of directions) {
          const labelled = (labels: { topic: string; source: string }) =>
            directions.length > 1 ? { direction, ...labels } : labels
          const { shown, other } = streams[direction]
          for (const stream of shown)
            this.inc(labelled({ topic: stream.topic, source: stream.source }), counted(stream[field]))
          if (other !== undefined) this.inc(labelled(OTHER_STREAMS), counted(other[field]))
        }
      },
    })
  }

  perStream('frames_total', 'Frames sent (out) or received (in), by topic and source.', 'frames', [
    'out',
    'in',
  ])
  perStream('bytes_total', 'Frame payload bytes sent (out) or received (in), by topic and source.', 'bytes', [
    'out',
    'in',
  ])
  perStream('gaps_total', 'Frames missing from received streams, by topic and source.', 'gaps', ['in'])
  perStream('duplicates_total', 'Duplicate frames received, by topic and source.', 'duplicates', ['in'])
  perStream('reordered_total', 'Frames received out of order, by topic and source.', 'reordered', ['in'])

  /** A counter with one label, a sample per key of the record `pick` returns at scrape time. */
  const perKey = (
    name: string,
    help: string,
    label: string,
    pick: (stats: TransportStatsLike) => Readonly<Partial<Record<string, number>>> | undefined,
    labelValue: (key: string) => string = (key) => key,
  ) => {
    names.push(`${prefix}${name}`)
    new Counter({
      name: `${prefix}${name}`,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        this.reset()
        for (const [key, count] of Object.entries(pick(read()) ?? {}))
          this.inc({ [label]: labelValue(key) }, counted(count ?? 0))
      },
    })
  }

  /** A metric with no labels, its value read at scrape time. */
  const single = (
    name: string,
    help: string,
    value: (stats: TransportStatsLike) => number,
    gauge = false,
  ) => {
    names.push(`${prefix}${name}`)
    const Metric = gauge ? Gauge : Counter
    new Metric({
      name: `${prefix}${name}`,
      help,
      registers: [registry],
      collect() {
        this.reset()
        const v = value(read())
        if (gauge) (this as Gauge).set(v)
        else (this as Counter).inc(counted(v))
      },
    })
  }

  perKey('drops_total', 'Datagrams and frames dropped, by reason.', 'reason', (stats) => stats.drops)
  perKey(
    'datagram_outcomes_total',
    'What became of every datagram read: delivered, fragment, batch, forwarded, filtered, duplicate, ack, nack, reply, or the drop reason.',
    'outcome',
    (stats) => stats.outcomes,
  )
  perKey('datagrams_total', 'UDP datagrams received (in) and sent (out).', 'direction', (stats) => ({
    in: stats.datagramsIn,
    out: stats.datagramsOut,
  }))
  single(
    'kernel_drops_total',
    'Datagrams the kernel dropped before they could be read: the receive buffer was full (Linux, /proc/net/udp).',
    (stats) => stats.kernelDrops ?? 0,
  )
  single(
    'streams',
    'Streams (source × topic) tracked now, receive side.',
    (stats) => stats.streams?.active ?? 0,
    true,
  )
  names.push(`${prefix}sources`)
  new Gauge({
    name: `${prefix}sources`,
    help: 'Publishers (sessions) heard, by state: alive, or gone (not heard, no frame and no heartbeat, for 3 s).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset()
      const sources = read().sources
      this.set({ state: 'alive' }, sources?.alive ?? 0)
      this.set({ state: 'gone' }, sources?.gone ?? 0)
    },
  })
  perKey('heartbeats_total', 'HEARTBEAT frames sent (out) and taken (in).', 'direction', (stats) => ({
    out: stats.heartbeats?.sent ?? 0,
    in: stats.heartbeats?.received ?? 0,
  }))
  perKey(
    'status_total',
    'Flow control, receive side: STATUS frames sent to publishers (sent), and publishers not reported to because the table was full (sessions_refused).',
    'event',
    (stats) => ({ sent: stats.status?.sent ?? 0, sessions_refused: stats.status?.sessionsRefused ?? 0 }),
  )
  perKey(
    'stream_evictions_total',
    'Streams let go: evicted (past the caps, least recently heard first) or expired (idle).',
    'reason',
    (stats) => ({ evicted: stats.streams?.evicted ?? 0, expired: stats.streams?.expired ?? 0 }),
  )
  single(
    'sequence_jumps_total',
    'Frames that arrived far from their stream’s position: a stranger’s claim, or a publisher heard again after a long loss.',
    (stats) => sumStreams(stats.received, 'jumps') + (stats.streams?.retired.jumps ?? 0),
  )
  single(
    'sequence_resyncs_total',
    'Times a stream moved to a confirmed new position.',
    (stats) => sumStreams(stats.received, 'resyncs') + (stats.streams?.retired.resyncs ?? 0),
  )
  single(
    'flow_receivers',
    'Receivers reporting to the publisher (STATUS) now: flow control waits for them.',
    (stats) => stats.flow?.receivers ?? 0,
    true,
  )
  single(
    'flow_receivers_timed_out_total',
    'Receivers that stopped reporting and no longer hold the publisher back.',
    (stats) => stats.flow?.timedOut ?? 0,
  )
  single(
    'flow_receivers_left_total',
    'Receivers that said they were leaving (closing): dropped at once, without waiting for their timeout.',
    (stats) => stats.flow?.left ?? 0,
  )
  single(
    'backpressure_seconds_total',
    'Time the publisher waited for its receivers’ flow-control window.',
    (stats) => (stats.flow?.backPressure.totalMs ?? 0) / 1000,
  )
  single(
    'backpressure_waits_total',
    'Times the publisher had to wait for its receivers’ flow-control window.',
    (stats) => stats.flow?.backPressure.episodes ?? 0,
  )
  single(
    'sends_refused_total',
    'send() calls refused (BACK_PRESSURED) while the flow-control window was closed.',
    (stats) => stats.flow?.sendsRefused ?? 0,
  )
  perKey(
    'repair_events_total',
    'Repair: NACKs sent and received, fragments resent and repaired, whole frames asked for, given up and not asked for, datagrams resent from the sent log, NACKs for what is no longer held, NACKs cut short by their credit or a rate cap.',
    'event',
    (stats) => stats.repair,
    snakeCase,
  )
  perKey(
    'schema_events_total',
    'In-band schemas: announces sent (and their bytes), requests sent or received, requests not answered for the interval or budget (limited) or for a type not sent (unknown), announces accepted, of a known type, rejected (by reason in shoal_drops_total), requests not sent (rate spent), pending fingerprints let go to make room (pending_evicted).',
    'event',
    (stats) => {
      const { pending: _pending, ...events } = stats.schemas ?? {}
      return events
    },
    snakeCase,
  )
  single(
    'schemas_pending',
    'Fingerprints a receiver asked for and does not know yet.',
    (stats) => stats.schemas?.pending ?? 0,
    true,
  )
  names.push(...registerSealMetrics(registry, () => read().seal, prefix))

  return () => {
    for (const name of names) registry.removeSingleMetric(name)
  }
}

/**
 * A count as a Prometheus counter takes it: prom-client throws (and the whole scrape fails) on a
 * negative increment, so a count that ever went below 0 through a bug shows as 0, not as a 500.
 */
function counted(value: number): number {
  return Math.max(value, 0)
}

function sumStreams(streams: readonly StreamStatsLike[], field: 'jumps' | 'resyncs'): number {
  let sum = 0
  for (const stream of streams) sum += stream[field] ?? 0
  return sum
}

/** `nacksSent` → `nacks_sent`: Prometheus label values in the house style of metric names. */
function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
}

/** `shoal_build_info{service,version} 1`, so dashboards can tell which build they are scraping. */
export function registerBuildInfo(
  registry: Registry,
  service: string,
  version: string,
  prefix = 'shoal_',
): void {
  const gauge = new Gauge({
    name: `${prefix}build_info`,
    help: 'Always 1; labelled with the service name and version.',
    labelNames: ['service', 'version'],
    registers: [registry],
  })
  gauge.set({ service, version }, 1)
}

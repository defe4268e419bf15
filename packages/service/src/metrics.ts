import { Counter, Gauge, type Registry } from 'prom-client'

/** One (source, topic) stream's counts; the shape `@shoal/transport` reports. */
export interface StreamStatsLike {
  readonly source: string
  readonly topic: string
  readonly frames: number
  readonly bytes: number
  readonly gaps: number
  readonly duplicates: number
  readonly reordered: number
}

/** A transport's counters at one instant; structurally the `StatsSnapshot` of `@shoal/transport`. */
export interface TransportStatsLike {
  readonly sent: readonly StreamStatsLike[]
  readonly received: readonly StreamStatsLike[]
  /** Datagrams dropped, by reason; reasons never seen may be absent. */
  readonly drops: Readonly<Partial<Record<string, number>>>
  readonly datagramsIn: number
  readonly datagramsOut: number
  /** Repair counters by event (`nacksSent`, `fragmentsResent`, …); absent from older transports. */
  readonly repair?: Readonly<Record<string, number>>
}

export interface TransportMetricsOptions {
  /** Metric name prefix; `shoal_` by default. */
  readonly prefix?: string
}

type Direction = 'in' | 'out'

/**
 * Registers counters that read `snapshot()` at scrape time, so `/metrics` shows the transport's exact
 * counts rather than a copy kept in step by hand:
 *
 * - `shoal_frames_total{direction,topic,source}`, `shoal_bytes_total{direction,topic,source}`
 * - `shoal_gaps_total`, `shoal_duplicates_total`, `shoal_reordered_total` `{topic,source}` (received)
 * - `shoal_drops_total{reason}`, `shoal_datagrams_total{direction}`
 * - `shoal_repair_events_total{event}`: NACKs sent and received, fragments resent and repaired,
 *   NACKs for messages no longer held (`nacks_sent`, `nacks_received`, `fragments_resent`,
 *   `fragments_repaired`, `unavailable`)
 *
 * Returns a function that removes them again.
 */
export function registerTransportMetrics(
  registry: Registry,
  snapshot: () => TransportStatsLike,
  options: TransportMetricsOptions = {},
): () => void {
  const prefix = options.prefix ?? 'shoal_'
  const streamLabels = ['topic', 'source'] as const
  const names: string[] = []

  const perStream = (
    name: string,
    help: string,
    field: keyof Omit<StreamStatsLike, 'source' | 'topic'>,
    directions: readonly Direction[],
  ) => {
    names.push(`${prefix}${name}`)
    const labelNames = directions.length > 1 ? (['direction', ...streamLabels] as const) : streamLabels
    new Counter({
      name: `${prefix}${name}`,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset()
        const stats = snapshot()
        for (const direction of directions) {
          for (const stream of direction === 'out' ? stats.sent : stats.received) {
            const labels = { topic: stream.topic, source: stream.source }
            this.inc(directions.length > 1 ? { direction, ...labels } : labels, stream[field])
          }
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

  /** A counter with one label, a sample per key of the record `read` returns at scrape time. */
  const perKey = (
    name: string,
    help: string,
    label: string,
    read: (stats: TransportStatsLike) => Readonly<Partial<Record<string, number>>> | undefined,
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
        for (const [key, count] of Object.entries(read(snapshot()) ?? {}))
          this.inc({ [label]: labelValue(key) }, count ?? 0)
      },
    })
  }

  perKey('drops_total', 'Datagrams dropped on receive, by reason.', 'reason', (stats) => stats.drops)

  names.push(`${prefix}datagrams_total`)
  new Counter({
    name: `${prefix}datagrams_total`,
    help: 'UDP datagrams received (in) and sent (out).',
    labelNames: ['direction'],
    registers: [registry],
    collect() {
      this.reset()
      const stats = snapshot()
      this.inc({ direction: 'in' }, stats.datagramsIn)
      this.inc({ direction: 'out' }, stats.datagramsOut)
    },
  })

  perKey(
    'repair_events_total',
    'Repair of fragmented messages: NACKs sent and received, fragments resent and repaired, NACKs for messages no longer held.',
    'event',
    (stats) => stats.repair,
    snakeCase,
  )

  return () => {
    for (const name of names) registry.removeSingleMetric(name)
  }
}

/**
 * Adds several transports' snapshots into one, summing streams with the same source and topic, so
 * a service with several publishers or subscribers (the relay) registers its metrics once.
 */
export function mergeTransportStats(snapshots: readonly TransportStatsLike[]): TransportStatsLike {
  const merge = (lists: readonly (readonly StreamStatsLike[])[]): StreamStatsLike[] => {
    const byKey = new Map<string, StreamStatsLike>()
    for (const stream of lists.flat()) {
      const key = JSON.stringify([stream.source, stream.topic])
      const seen = byKey.get(key)
      byKey.set(
        key,
        seen === undefined
          ? { ...stream }
          : {
              source: stream.source,
              topic: stream.topic,
              frames: seen.frames + stream.frames,
              bytes: seen.bytes + stream.bytes,
              gaps: seen.gaps + stream.gaps,
              duplicates: seen.duplicates + stream.duplicates,
              reordered: seen.reordered + stream.reordered,
            },
      )
    }
    return [...byKey.values()]
  }
  const drops: Record<string, number> = {}
  const repair: Record<string, number> = {}
  for (const snapshot of snapshots) {
    for (const [reason, count] of Object.entries(snapshot.drops))
      drops[reason] = (drops[reason] ?? 0) + (count ?? 0)
    for (const [event, count] of Object.entries(snapshot.repair ?? {}))
      repair[event] = (repair[event] ?? 0) + count
  }
  return {
    sent: merge(snapshots.map((s) => s.sent)),
    received: merge(snapshots.map((s) => s.received)),
    drops,
    repair,
    datagramsIn: snapshots.reduce((sum, s) => sum + s.datagramsIn, 0),
    datagramsOut: snapshots.reduce((sum, s) => sum + s.datagramsOut, 0),
  }
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

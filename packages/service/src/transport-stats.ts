/**
 * A transport's counters as the services read them: structural copies of `@shoal/transport`'s
 * snapshot types (so @shoal/service's metrics do not import the transport's internals), and the
 * sum of several snapshots for a service with several publishers or subscribers.
 */
import { mergeSealStats, type SealStatsLike } from './seal-metrics.js'

/** One (source, topic) stream's counts; the shape `@shoal/transport` reports. */
export interface StreamStatsLike {
  readonly source: string
  readonly topic: string
  readonly frames: number
  readonly bytes: number
  readonly gaps: number
  readonly duplicates: number
  readonly reordered: number
  /** Frames far from the stream's position (a stranger's claim, or a long loss); absent from older transports. */
  readonly jumps?: number
  /** Times the stream moved to a confirmed new position; absent from older transports. */
  readonly resyncs?: number
}

/** Receive side: the stream table and the counters of the streams it let go (`StreamTableStats`). */
export interface StreamTableLike {
  readonly active: number
  readonly evicted: number
  readonly expired: number
  readonly retired: Omit<StreamStatsLike, 'source' | 'topic'> & { readonly streams: number }
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
  /** Receive side: streams tracked and let go. */
  readonly streams?: StreamTableLike
  /** What became of every datagram read, one outcome each. */
  readonly outcomes?: Readonly<Partial<Record<string, number>>>
  /** Datagrams the kernel dropped for the socket(s), their receive buffer full. */
  readonly kernelDrops?: number
  /** HEARTBEAT frames sent and taken. */
  readonly heartbeats?: { readonly sent: number; readonly received: number }
  /** Receive side: publishers heard, alive or gone. */
  readonly sources?: { readonly alive: number; readonly gone: number }
  /** Publisher with flow control: receivers reporting, time held back, `send()` calls refused. */
  readonly flow?: FlowStatsLike
  /** Receive side, flow control: STATUS frames sent, publishers not reported to (table full). */
  readonly status?: { readonly sent: number; readonly sessionsRefused: number }
  /** Keyed: how it seals (key id), what it sealed and opened, senders tracked (see seal-metrics.ts). */
  readonly seal?: SealStatsLike
  /** In-band schemas (`announced`, `requested`, `accepted`, `rejected`, …, `pending`); absent from older transports. */
  readonly schemas?: Readonly<Record<string, number>>
}

/** Flow control of a publisher; structurally the `FlowStats` of `@shoal/transport`. */
export interface FlowStatsLike {
  readonly receivers: number
  readonly timedOut: number
  /** Receivers that said they were leaving; absent from older transports. */
  readonly left?: number
  readonly sendsRefused: number
  readonly backPressure: { readonly episodes: number; readonly totalMs: number }
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
      byKey.set(key, seen === undefined ? { ...stream } : addStreams(seen, stream))
    }
    return [...byKey.values()]
  }
  const addRecords = (
    pick: (s: TransportStatsLike) => Readonly<Partial<Record<string, number>>> | undefined,
  ) => {
    const sum: Record<string, number> = {}
    for (const snapshot of snapshots)
      for (const [key, count] of Object.entries(pick(snapshot) ?? {}))
        sum[key] = (sum[key] ?? 0) + (count ?? 0)
    return sum
  }
  const tables = snapshots.flatMap((s) => (s.streams === undefined ? [] : [s.streams]))
  const kernel = snapshots.flatMap((s) => (s.kernelDrops === undefined ? [] : [s.kernelDrops]))
  const merged: {
    -readonly [K in keyof TransportStatsLike]: TransportStatsLike[K]
  } = {
    sent: merge(snapshots.map((s) => s.sent)),
    received: merge(snapshots.map((s) => s.received)),
    drops: addRecords((s) => s.drops),
    repair: addRecords((s) => s.repair),
    outcomes: addRecords((s) => s.outcomes),
    datagramsIn: snapshots.reduce((sum, s) => sum + s.datagramsIn, 0),
    datagramsOut: snapshots.reduce((sum, s) => sum + s.datagramsOut, 0),
  }
  if (tables.length > 0)
    merged.streams = {
      active: tables.reduce((sum, t) => sum + t.active, 0),
      evicted: tables.reduce((sum, t) => sum + t.evicted, 0),
      expired: tables.reduce((sum, t) => sum + t.expired, 0),
      retired: tables
        .map((t) => t.retired)
        .reduce((a, b) => ({ ...addStreams(a, b), streams: a.streams + b.streams })),
    }
  if (kernel.length > 0) merged.kernelDrops = kernel.reduce((sum, n) => sum + n, 0)
  const beats = snapshots.flatMap((s) => (s.heartbeats === undefined ? [] : [s.heartbeats]))
  if (beats.length > 0)
    merged.heartbeats = {
      sent: beats.reduce((sum, b) => sum + b.sent, 0),
      received: beats.reduce((sum, b) => sum + b.received, 0),
    }
  const flows = snapshots.flatMap((s) => (s.flow === undefined ? [] : [s.flow]))
  if (flows.length > 0)
    merged.flow = {
      receivers: flows.reduce((sum, f) => sum + f.receivers, 0),
      timedOut: flows.reduce((sum, f) => sum + f.timedOut, 0),
      left: flows.reduce((sum, f) => sum + (f.left ?? 0), 0),
      sendsRefused: flows.reduce((sum, f) => sum + f.sendsRefused, 0),
      backPressure: {
        episodes: flows.reduce((sum, f) => sum + f.backPressure.episodes, 0),
        totalMs: flows.reduce((sum, f) => sum + f.backPressure.totalMs, 0),
      },
    }
  const statuses = snapshots.flatMap((s) => (s.status === undefined ? [] : [s.status]))
  if (statuses.length > 0)
    merged.status = {
      sent: statuses.reduce((sum, x) => sum + x.sent, 0),
      sessionsRefused: statuses.reduce((sum, x) => sum + x.sessionsRefused, 0),
    }
  if (snapshots.some((s) => s.schemas !== undefined)) merged.schemas = addRecords((s) => s.schemas)
  const seal = mergeSealStats(snapshots.map((s) => s.seal))
  if (seal !== undefined) merged.seal = seal
  const sources = snapshots.flatMap((s) => (s.sources === undefined ? [] : [s.sources]))
  if (sources.length > 0)
    merged.sources = {
      alive: sources.reduce((sum, x) => sum + x.alive, 0),
      gone: sources.reduce((sum, x) => sum + x.gone, 0),
    }
  return merged
}

/** Two streams' counters added up (the first one's source and topic, if any). */
function addStreams<T extends Omit<StreamStatsLike, 'source' | 'topic'>>(
  a: T,
  b: Omit<StreamStatsLike, 'source' | 'topic'>,
): T {
  return {
    ...a,
    frames: a.frames + b.frames,
    bytes: a.bytes + b.bytes,
    gaps: a.gaps + b.gaps,
    duplicates: a.duplicates + b.duplicates,
    reordered: a.reordered + b.reordered,
    jumps: (a.jumps ?? 0) + (b.jumps ?? 0),
    resyncs: (a.resyncs ?? 0) + (b.resyncs ?? 0),
  }
}

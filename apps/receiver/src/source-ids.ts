/**
 * Which source id (`header.sourceId` of the messages, a sender's `--source-id`) each session sends
 * under. Streams are counted by session (a restarted publisher is a new session), but people know
 * their publishers by source id: the summary, the terminal view and `/metrics` show both.
 *
 * Sessions and source ids come from the network, so the table is bounded: at most
 * {@link MAX_SOURCE_IDS} sessions, least recently heard evicted first (and counted), each id cut to
 * {@link MAX_SOURCE_ID_CHARS} characters. A session whose messages carry no source id has none.
 */
import { DEFAULT_METRICS_STREAMS } from '@shoal/service'
import type { StatsSnapshot } from '@shoal/transport'
import { Gauge, type Registry } from 'prom-client'
import { LruMap } from './lru-map.js'

/** Sessions whose source id is remembered (the transport tracks at most this many streams too). */
export const MAX_SOURCE_IDS = 1024
/** Characters of a source id kept; longer ones end in `…`. */
export const MAX_SOURCE_ID_CHARS = 64

export class SourceIds {
  readonly #table: LruMap<string, string>

  constructor(capacity = MAX_SOURCE_IDS) {
    this.#table = new LruMap(capacity)
  }

  /** Notes the source id of a decoded message (its `header.sourceId`), if it has one. */
  note(session: string, message: unknown): void {
    const id = sourceIdOf(message)
    if (id === undefined) return
    // Nearly every frame repeats its session's id: one lookup, and a write only when it changed.
    if (this.#table.get(session) !== id) this.#table.set(session, id)
  }

  /** The session's source id, when one was seen. */
  get(session: string): string | undefined {
    return this.#table.peek(session)
  }

  /** `{ session: sourceId }` for these sessions, those with an id. */
  pick(sessions: Iterable<string>): Record<string, string> {
    const out: Record<string, string> = {}
    for (const session of sessions) {
      const id = this.get(session)
      if (id !== undefined) out[session] = id
    }
    return out
  }

  entries(): IterableIterator<[string, string]> {
    return this.#table.entries()
  }

  get size(): number {
    return this.#table.size
  }

  /** Sessions forgotten to stay within the capacity. */
  get evictions(): number {
    return this.#table.evictions
  }
}

function sourceIdOf(message: unknown): string | undefined {
  if (message === null || typeof message !== 'object') return undefined
  const header = (message as { header?: unknown }).header
  if (header === null || typeof header !== 'object') return undefined
  const id = (header as { sourceId?: unknown }).sourceId
  if (typeof id !== 'string' || id === '') return undefined
  return id.length > MAX_SOURCE_ID_CHARS ? `${id.slice(0, MAX_SOURCE_ID_CHARS - 1)}…` : id
}

/**
 * `shoal_source_info{source="eb4831e3",source_id="imu0"} 1`: the source id of each session, an
 * info series to join with the per-stream series (whose `source` label is the session). Bounded as
 * they are: the sessions of the {@link DEFAULT_METRICS_STREAMS} busiest streams, the ones they label.
 */
export function registerSourceIdMetric(
  registry: Registry,
  stats: () => StatsSnapshot,
  sourceId: (session: string) => string | undefined,
  maxStreams = DEFAULT_METRICS_STREAMS,
): void {
  new Gauge({
    name: 'shoal_source_info',
    help: 'The source id (the sender’s --source-id, header.sourceId of its messages) of each session in the per-stream series; always 1.',
    labelNames: ['source', 'source_id'],
    registers: [registry],
    collect() {
      this.reset()
      const streams = [...stats().received].sort((a, b) => b.frames - a.frames).slice(0, maxStreams)
      for (const session of new Set(streams.map((stream) => stream.source))) {
        const id = sourceId(session)
        if (id !== undefined) this.set({ source: session, source_id: id }, 1)
      }
    },
  })
}

/**
 * Which publishers (sessions) a subscriber hears, and which have gone quiet for good (WIRE.md
 * “HEARTBEAT”). A publisher sends a heartbeat at least every second while it is alive, so one not
 * heard — no frame of its own, no heartbeat — for {@link SOURCE_GONE_MS} is gone: its process
 * stopped, or the network between is down. A restarted publisher is a new session; the old one
 * goes, and no gap is counted for it.
 *
 * No table of its own to bound: a source is a session with streams in the subscriber's stream
 * table, and the heartbeat times kept are for those sessions only (pruned at every sweep).
 */
import { HEARTBEAT_MAX_MS } from '../send/heartbeat.js'
import { type Stream, sessionHex } from '../stream.js'

/** A source not heard for this long is gone, ms: three heartbeats missed at their slowest. */
export const SOURCE_GONE_MS = 3 * HEARTBEAT_MAX_MS

export interface SourceEvent {
  /** `alive`: heard (again); `gone`: not heard for {@link SOURCE_GONE_MS}. */
  state: 'alive' | 'gone'
  /** The publisher's session id, 8 hex digits. */
  session: string
  sessionId: number
  /** Where its frames came from (its streams' sender). */
  address: string
  port: number
  /** When it was last heard (the subscriber's monotonic clock, ms). */
  heardAt: number
}

interface Source {
  state: 'alive' | 'gone'
  heardAt: number
  address: string
  port: number
}

export class SourceTable {
  readonly #goneMs: number
  // session id → the last heartbeat from its streams' sender
  readonly #heartbeats = new Map<number, number>()
  readonly #sources = new Map<number, Source>()
  #alive = 0
  #gone = 0

  /** `goneMs`: how long a source may go unheard before it is gone. */
  constructor(goneMs = SOURCE_GONE_MS) {
    this.#goneMs = goneMs
  }

  /** A heartbeat from a session's own sender. */
  heartbeat(sessionId: number, now: number): void {
    this.#heartbeats.set(sessionId, now)
  }

  /**
   * Works out every source's state from its streams (their sender last heard) and heartbeats, and
   * returns what changed since the last sweep. Sources whose streams all went are forgotten.
   */
  sweep(now: number, streams: Iterable<Stream>): SourceEvent[] {
    const heard = new Map<number, { at: number; stream: Stream }>()
    for (const stream of streams) {
      const sessionId = Number.parseInt(stream.source, 16)
      const at = Math.max(stream.ownerHeardAt, this.#heartbeats.get(sessionId) ?? 0)
      const known = heard.get(sessionId)
      if (known === undefined || at > known.at) heard.set(sessionId, { at, stream })
    }
    const events: SourceEvent[] = []
    let alive = 0
    for (const [sessionId, { at, stream }] of heard) {
      const state = now - at >= this.#goneMs ? 'gone' : 'alive'
      if (state === 'alive') alive++
      const { address, port } = stream.ownerAddress
      const source = this.#sources.get(sessionId)
      if (source === undefined || source.state !== state) {
        // A source first heard is news only when it is alive.
        if (source !== undefined || state === 'alive')
          events.push({ state, session: sessionHex(sessionId), sessionId, address, port, heardAt: at })
        this.#sources.set(sessionId, { state, heardAt: at, address, port })
      }
    }
    for (const sessionId of this.#sources.keys()) if (!heard.has(sessionId)) this.#sources.delete(sessionId)
    for (const sessionId of this.#heartbeats.keys())
      if (!heard.has(sessionId)) this.#heartbeats.delete(sessionId)
    this.#alive = alive
    this.#gone = heard.size - alive
    return events
  }

  /** Sources alive and gone at the last sweep. */
  stats(): { alive: number; gone: number } {
    return { alive: this.#alive, gone: this.#gone }
  }
}

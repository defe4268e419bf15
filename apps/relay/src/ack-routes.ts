/**
 * The way back for acks: for each publisher session that asked for acks, which input its frames
 * came in on and from which address and port. A receiver beyond the relay acks to the relay's output
 * socket; the relay sends the ack on from that input's socket to that address, hop by hop back to
 * the publisher.
 *
 * A session's way back is pinned to where its first frame came from. A frame with the same session
 * id from anywhere else (an outsider who read the id off the wire, or a second path to the relay)
 * does not move it: it is counted as a conflict. Only a route that has been idle for
 * {@link ACK_ROUTE_IDLE_MS} moves (a publisher, or the relay before this one, that really moved), and
 * only such a route is forgotten to make room for a new session: with every route in use, a new
 * session gets no way back (counted as refused) rather than a flood of new sessions pushing a live
 * route out and letting a forged frame pin it afresh.
 */
import type { SocketAddress } from './loop-guard.js'

/** Publisher sessions remembered for acks; past this the least recently seen idle one is forgotten. */
export const MAX_ACK_SESSIONS = 4_096

/**
 * How long a session's way back must go unused (no frame from its pinned place) before a frame from
 * elsewhere may move it, or a new session may take its place, ms.
 */
export const ACK_ROUTE_IDLE_MS = 30_000

export interface AckRoute extends SocketAddress {
  /** Index of the input the session's frames arrive on. */
  readonly input: number
}

/** What {@link AckRoutes.remember} did with a frame's place. */
export type AckRouteOutcome = 'new' | 'same' | 'moved' | 'conflict' | 'refused'

export interface AckRouteCounters {
  /** Frames from elsewhere than their session's pinned way back, which stayed where it was. */
  conflicts: number
  /** Ways back moved to a new place after {@link ACK_ROUTE_IDLE_MS} unused. */
  moved: number
  /** Ways back of idle sessions forgotten to make room for a new session. */
  evicted: number
  /** New sessions given no way back: the table was full of sessions in use. */
  refused: number
}

export interface AckRoutesOptions {
  /** Sessions remembered; {@link MAX_ACK_SESSIONS} by default. */
  readonly capacity?: number
  /** {@link ACK_ROUTE_IDLE_MS} by default. */
  readonly idleMs?: number
  /** Milliseconds from any fixed point; `performance.now` by default. */
  readonly now?: () => number
}

interface Entry {
  route: AckRoute
  lastSeen: number
}

const samePlace = (a: AckRoute, b: AckRoute) =>
  a.input === b.input && a.port === b.port && a.address === b.address

export class AckRoutes {
  /** In order of last use: the first entry is the least recently seen. */
  readonly #routes = new Map<number, Entry>()
  readonly #capacity: number
  readonly #idleMs: number
  readonly #now: () => number
  readonly #counters: AckRouteCounters = { conflicts: 0, moved: 0, evicted: 0, refused: 0 }

  constructor({ capacity = MAX_ACK_SESSIONS, idleMs = ACK_ROUTE_IDLE_MS, now }: AckRoutesOptions = {}) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity ${capacity} is not a positive integer`)
    this.#capacity = capacity
    this.#idleMs = idleMs
    this.#now = now ?? (() => performance.now())
  }

  /** Notes where a forwarded frame that asks for acks came from. */
  remember(sessionId: number, route: AckRoute): AckRouteOutcome {
    const now = this.#now()
    const entry = this.#routes.get(sessionId)
    if (entry !== undefined) {
      if (samePlace(entry.route, route)) {
        this.#use(sessionId, entry, now)
        return 'same'
      }
      if (now - entry.lastSeen < this.#idleMs) {
        this.#counters.conflicts++
        return 'conflict'
      }
      entry.route = route
      this.#use(sessionId, entry, now)
      this.#counters.moved++
      return 'moved'
    }
    if (this.#routes.size >= this.#capacity) {
      const [oldest, least] = this.#routes.entries().next().value as [number, Entry]
      if (now - least.lastSeen < this.#idleMs) {
        this.#counters.refused++
        return 'refused'
      }
      this.#routes.delete(oldest)
      this.#counters.evicted++
    }
    this.#routes.set(sessionId, { route, lastSeen: now })
    return 'new'
  }

  /**
   * A copy of a frame the relay had forwarded already (a duplicate) shows its sender is still there:
   * when it comes from the session's pinned place, the route stays in use. (An outsider who sends a
   * session's next sequence number first makes the publisher's own frame a duplicate.)
   */
  confirm(sessionId: number, route: AckRoute): void {
    const entry = this.#routes.get(sessionId)
    if (entry !== undefined && samePlace(entry.route, route)) this.#use(sessionId, entry, this.#now())
  }

  /** The way back for a session's acks. Looking up does not keep a route in use: acks come from anyone. */
  lookup(sessionId: number): AckRoute | undefined {
    return this.#routes.get(sessionId)?.route
  }

  get size(): number {
    return this.#routes.size
  }

  counters(): AckRouteCounters {
    return { ...this.#counters }
  }

  #use(sessionId: number, entry: Entry, now: number): void {
    entry.lastSeen = now
    // Delete and set again, so that insertion order is recency order and the oldest comes first.
    this.#routes.delete(sessionId)
    this.#routes.set(sessionId, entry)
  }
}

/**
 * The way back for acks: for each publisher session that asked for acks, which input its frames
 * came in on and from which address and port. A receiver beyond the relay acks to the relay's output
 * socket; the relay sends the ack on from that input's socket to that address, hop by hop back to
 * the publisher.
 */
import type { SocketAddress } from './loop-guard.js'

/** Publisher sessions remembered for acks; past this the least recently seen is forgotten. */
export const MAX_ACK_SESSIONS = 4_096

export interface AckRoute extends SocketAddress {
  /** Index of the input the session's frames arrive on. */
  readonly input: number
}

export class AckRoutes {
  readonly #routes = new Map<number, AckRoute>()
  readonly #capacity: number

  constructor(capacity = MAX_ACK_SESSIONS) {
    this.#capacity = capacity
  }

  /** Notes where a frame that asks for acks came from. */
  remember(sessionId: number, route: AckRoute): void {
    // Delete first so that insertion order is recency order and the oldest goes first.
    this.#routes.delete(sessionId)
    if (this.#routes.size >= this.#capacity) {
      const oldest = this.#routes.keys().next().value
      if (oldest !== undefined) this.#routes.delete(oldest)
    }
    this.#routes.set(sessionId, route)
  }

  lookup(sessionId: number): AckRoute | undefined {
    return this.#routes.get(sessionId)
  }

  get size(): number {
    return this.#routes.size
  }
}

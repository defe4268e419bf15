/**
 * Remembers which datagrams (session, topic, sequence, fragment) a relay has already forwarded,
 * so one arriving twice by two paths, or coming back round a loop, is forwarded once.
 * Bounded: the oldest entries are forgotten first.
 */
import type { FrameHeader } from './wire/header.js'

/** Datagram identities remembered by default. */
export const DEFAULT_DEDUP_ENTRIES = 65_536

export class DedupCache {
  readonly #seen = new Set<string>()
  readonly #capacity: number

  constructor(capacity = DEFAULT_DEDUP_ENTRIES) {
    this.#capacity = capacity
  }

  /** True the first time this datagram identity is offered; false on every repeat. */
  firstTime(header: Pick<FrameHeader, 'sessionId' | 'topic' | 'sequence' | 'fragmentIndex'>): boolean {
    const key = `${header.sessionId}:${header.sequence}:${header.fragmentIndex}:${header.topic}`
    if (this.#seen.has(key)) return false
    if (this.#seen.size >= this.#capacity) {
      // Sets iterate in insertion order: drop the oldest.
      const oldest = this.#seen.values().next().value
      if (oldest !== undefined) this.#seen.delete(oldest)
    }
    this.#seen.add(key)
    return true
  }

  get size(): number {
    return this.#seen.size
  }
}

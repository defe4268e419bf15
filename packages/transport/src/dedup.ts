/**
 * Remembers which datagrams (session, topic, sequence, fragment) a relay has already forwarded,
 * so one arriving twice by two paths, or coming back round a loop, is forwarded once.
 * Bounded: the oldest entries are forgotten first, and counted ({@link DedupCache.evicted}): an
 * identity forgotten early can pass a second time, so a rising count means the cache is too small
 * for the traffic, or someone floods it with identities.
 */
import type { FrameHeader } from './wire/header.js'

/** Datagram identities remembered by default. */
export const DEFAULT_DEDUP_ENTRIES = 65_536

export class DedupCache {
  readonly #seen = new Set<string>()
  /**
   * The remembered keys in arrival order, as a ring: the slot at `#next` holds the oldest once the
   * ring is full. (Asking a Set for its oldest entry walks past every deleted one: far too slow.)
   */
  readonly #ring: string[]
  readonly #capacity: number
  #next = 0
  #evicted = 0

  constructor(capacity = DEFAULT_DEDUP_ENTRIES) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity ${capacity} is not a positive integer`)
    this.#capacity = capacity
    this.#ring = []
  }

  /** True the first time this datagram identity is offered; false on every repeat. */
  firstTime(
    header: Pick<FrameHeader, 'sessionId' | 'topic' | 'sequence' | 'fragmentIndex'>,
    foreign = false,
  ): boolean {
    const key = `${header.sessionId}:${header.sequence}:${header.fragmentIndex}:${header.topic}`
    if (this.#seen.has(key)) return false
    // A foreign frame (from another sender than its stream's) is a repeat if the stream's own frame
    // with its numbers went through, but is remembered apart: a forged copy that comes first must
    // not make the real frame a duplicate.
    return this.#remember(foreign ? `f${key}` : key)
  }

  #remember(key: string): boolean {
    if (this.#seen.has(key)) return false
    if (this.#ring.length < this.#capacity) this.#ring.push(key)
    else {
      this.#seen.delete(this.#ring[this.#next]!)
      this.#evicted++
      this.#ring[this.#next] = key
      this.#next = (this.#next + 1) % this.#capacity
    }
    this.#seen.add(key)
    return true
  }

  /** Identities remembered now (at most the capacity). */
  get size(): number {
    return this.#seen.size
  }

  /** Identities forgotten to make room for newer ones, since the cache was made. */
  get evicted(): number {
    return this.#evicted
  }
}

/**
 * Remembers which datagrams (session, topic, sequence, fragment) a relay has already forwarded,
 * so one arriving twice by two paths, or coming back round a loop, is forwarded once.
 * Bounded: the oldest entries are forgotten first, and counted ({@link DedupCache.evicted}): an
 * identity forgotten early can pass a second time, so a rising count means the cache is too small
 * for the traffic, or someone floods it with identities.
 */
import { FrameKind } from './wire/constants.js'
import type { FrameHeader } from './wire/header.js'

/** The first character of a foreign identity's key (a stream's own starts with a digit). */
const F = 'f'.charCodeAt(0)

/** Datagram identities remembered by default. */
export const DEFAULT_DEDUP_ENTRIES = 65_536

export class DedupCache {
  /** Identity → payload digest (for foreign copies; 0 for a stream's own). */
  readonly #seen = new Map<string, number>()
  /** Foreign identities remembered now (their keys start with `f`). */
  #foreign = 0
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

  /**
   * True the first time this datagram identity is offered; false on every repeat. `foreign`: it
   * came from another sender than its stream's, and `digest()` checksums its payload. A foreign
   * datagram is a repeat when the stream's own went through, or the same payload came foreign
   * already; it is remembered apart, so that a forged copy that comes first never makes the real
   * datagram a repeat, while the stream's own datagram after a foreign copy with the same payload
   * (a second path) is one.
   */
  firstTime(
    header: Pick<FrameHeader, 'sessionId' | 'topic' | 'sequence' | 'fragmentIndex'> & { kind?: number },
    foreign = false,
    digest: () => number = () => 0,
  ): boolean {
    // A SCHEMA announce's topic is a type name and its sequence the announce counter: kept apart
    // from DATA, so that a stream on a topic spelled like a type name is never taken for a repeat.
    const key = `${header.kind === FrameKind.SCHEMA ? '~' : ''}${header.sessionId}:${header.sequence}:${header.fragmentIndex}:${header.topic}`
    if (this.#seen.has(key)) return false
    // Most relays never meet a foreign datagram: only then is there a copy to look for.
    const copy = this.#foreign > 0 ? this.#seen.get(`f${key}`) : undefined
    if (foreign) {
      const payload = digest()
      if (copy === payload) return false
      this.#remember(`f${key}`, payload)
      return true
    }
    this.#remember(key, 0)
    return copy === undefined || copy !== digest()
  }

  #remember(key: string, digest: number): void {
    if (this.#seen.has(key)) {
      this.#seen.set(key, digest)
      return
    }
    if (key.charCodeAt(0) === F) this.#foreign++
    if (this.#ring.length < this.#capacity) this.#ring.push(key)
    else {
      const oldest = this.#ring[this.#next]!
      if (oldest.charCodeAt(0) === F) this.#foreign--
      this.#seen.delete(oldest)
      this.#evicted++
      this.#ring[this.#next] = key
      this.#next = (this.#next + 1) % this.#capacity
    }
    this.#seen.set(key, digest)
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

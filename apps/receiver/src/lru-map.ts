/**
 * A map with at most `capacity` entries, for tables keyed by something a stranger on the network
 * chooses (a session, a topic, a sender's address). Reading or writing an entry makes it the most
 * recently used; adding one past the capacity evicts the least recently used, and counts it.
 */
export class LruMap<K, V> {
  readonly capacity: number
  readonly #map = new Map<K, V>()
  /** Entries evicted to make room, in all. */
  evictions = 0

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`capacity must be at least 1, not ${capacity}`)
    this.capacity = capacity
  }

  get size(): number {
    return this.#map.size
  }

  /** The entry, now the most recently used; undefined when there is none. */
  get(key: K): V | undefined {
    const value = this.#map.get(key)
    if (value !== undefined) {
      this.#map.delete(key)
      this.#map.set(key, value)
    }
    return value
  }

  /** Adds or replaces the entry, the most recently used; evicts the least recently used past the capacity. */
  set(key: K, value: V): void {
    this.#map.delete(key)
    this.#map.set(key, value)
    if (this.#map.size > this.capacity) {
      const oldest = this.#map.keys().next().value as K
      this.#map.delete(oldest)
      this.evictions++
    }
  }

  /** The entry, leaving its place in the order alone (for showing, not using). */
  peek(key: K): V | undefined {
    return this.#map.get(key)
  }

  delete(key: K): boolean {
    return this.#map.delete(key)
  }

  /** Entries from the least to the most recently used, without touching them. */
  entries(): IterableIterator<[K, V]> {
    return this.#map.entries()
  }
}

/**
 * One topic's index in the sent log (see `sent-log.ts`): which log index holds which sequences, in
 * a ring of plain numbers, so that 2 M frames/s cost no map entry per frame.
 */

/** Entries a stream's ring starts with: a quiet topic costs 1.5 KiB, not the log's size. */
export const STREAM_INITIAL_ENTRIES = 64
/**
 * How far back from a stream's newest entry a note out of sequence order may land, entries. Notes
 * come in sequence order but for one case: the fragments of a large message still going out while
 * later frames of its topic go out in batches. A few batches land between two of its fragments; a
 * note further back than this is a caller's mistake, refused (counted), not an unbounded shift.
 */
export const MAX_NOTE_SHIFT = 4_096

/** Doubles of a stream entry: first sequence, last sequence (both extended past 2^32), log index. */
export const STRIDE = 3
export const FIRST = 0
export const LAST = 1
export const INDEX = 2

/** Rounded up to a power of two. */
export const ceilPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)))

/**
 * One topic's index: entries sorted by sequence, in a ring of one Float64Array. Sequences are kept
 * *extended*: a u32 is placed within 2^31 of the highest noted, so numbers grow past 2^32 instead
 * of wrapping, and comparisons are plain `<`. Entries' ranges are disjoint, except the entries of
 * one fragmented message (first = last = its sequence), so `last` is sorted as well as `first`.
 */
export class StreamIndex {
  entries: Float64Array
  mask: number
  /** Ring slot of the oldest entry. */
  head = 0
  size = 0
  /** The highest sequence noted, extended (NaN before the first note). */
  high = Number.NaN
  /** The lowest sequence noted, extended: anything below was never sent. */
  low = Number.NaN
  /** The highest sequence of an entry let go: fragments of it still held are an incomplete message. */
  goneThrough = Number.NEGATIVE_INFINITY

  constructor(
    readonly topic: string,
    readonly maxEntries: number,
  ) {
    const slots = Math.min(STREAM_INITIAL_ENTRIES, maxEntries)
    this.entries = new Float64Array(slots * STRIDE)
    this.mask = slots - 1
  }

  get noted(): boolean {
    return !Number.isNaN(this.high)
  }

  /** `sequence` (u32) extended: the value within 2^31 of the highest noted. */
  extend(sequence: number): number {
    const high = this.high
    return Number.isNaN(high) ? sequence >>> 0 : high + ((sequence - high) | 0)
  }

  /** Offset in `entries` of the `k`th oldest entry. */
  at(k: number): number {
    return ((this.head + k) & this.mask) * STRIDE
  }

  /** Lets go of the oldest entries whose datagram left the log. */
  trim(oldest: number): void {
    const entries = this.entries
    while (this.size > 0) {
      const at = this.head * STRIDE
      if (entries[at + INDEX]! >= oldest) return
      this.#shift()
    }
  }

  /** Lets go of the oldest entry. */
  #shift(): void {
    const at = this.head * STRIDE
    const last = this.entries[at + LAST]!
    if (last > this.goneThrough) this.goneThrough = last
    this.head = (this.head + 1) & this.mask
    this.size--
  }

  /**
   * The first entry (0…size) whose last sequence is ≥ `sequence`, passing over the fragments of
   * `sequence` in datagrams before `fromIndex` (those of one message are in the order they went out).
   */
  lowerBound(sequence: number, fromIndex = 0): number {
    const entries = this.entries
    let lo = 0
    let hi = this.size
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const at = this.at(mid)
      const last = entries[at + LAST]!
      if (last < sequence || (last === sequence && entries[at + INDEX]! < fromIndex)) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** The first entry (0…size) whose first sequence is > `sequence`. */
  upperBoundFirst(sequence: number): number {
    const entries = this.entries
    let lo = 0
    let hi = this.size
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (entries[this.at(mid) + FIRST]! <= sequence) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /**
   * Records [first, last] (extended) in datagram `index`: 'ok', 'dropped' when the ring was full
   * and its oldest entry (or this one, were it the oldest) had to go, 'refused' when it overlaps an
   * entry or lands too far back.
   */
  add(first: number, last: number, index: number): 'ok' | 'dropped' | 'refused' {
    let size = this.size
    if (size > 0) {
      const tail = this.at(size - 1)
      const entries = this.entries
      const tailFirst = entries[tail + FIRST]!
      const tailLast = entries[tail + LAST]!
      const tailIndex = entries[tail + INDEX]!
      // The same note again: nothing new.
      if (first === tailFirst && last === tailLast && index === tailIndex) return 'ok'
      // The next run of a topic in the same batch: the entry grows, no new one.
      if (first === tailLast + 1 && index === tailIndex) {
        entries[tail + LAST] = last
        this.#raise(first, last)
        return 'ok'
      }
      const fragment = first === last && tailFirst === tailLast && first === tailLast
      if (first <= tailLast && !fragment) return this.#insert(first, last, index)
    }
    let outcome: 'ok' | 'dropped' = 'ok'
    if (size === this.mask + 1) {
      if (size < this.maxEntries) this.#grow()
      else {
        this.#shift()
        outcome = 'dropped'
      }
      size = this.size
    }
    this.#write(this.at(size), first, last, index)
    this.size = size + 1
    this.#raise(first, last)
    return outcome
  }

  /** A note behind the newest entry (a fragment sent after later frames of its topic): sorted in. */
  #insert(first: number, last: number, index: number): 'ok' | 'dropped' | 'refused' {
    const entries = this.entries
    let p = this.upperBoundFirst(first)
    if (p > 0) {
      const before = this.at(p - 1)
      const beforeFirst = entries[before + FIRST]!
      const beforeLast = entries[before + LAST]!
      const sameFragment = first === last && beforeFirst === beforeLast && beforeFirst === first
      if (beforeLast >= first && !sameFragment) return 'refused'
    }
    if (p < this.size && entries[this.at(p) + FIRST]! <= last) return 'refused'
    if (this.size - p > MAX_NOTE_SHIFT) return 'refused'
    let outcome: 'ok' | 'dropped' = 'ok'
    if (this.size === this.mask + 1) {
      if (this.size < this.maxEntries) this.#grow()
      else {
        // Full: the oldest goes, or this one when it would be the oldest.
        if (p === 0) {
          if (last > this.goneThrough) this.goneThrough = last
          this.#raise(first, last)
          return 'dropped'
        }
        this.#shift()
        p--
        outcome = 'dropped'
      }
    }
    const moved = this.entries
    for (let k = this.size; k > p; k--) {
      const to = this.at(k)
      const from = this.at(k - 1)
      moved[to + FIRST] = moved[from + FIRST]!
      moved[to + LAST] = moved[from + LAST]!
      moved[to + INDEX] = moved[from + INDEX]!
    }
    this.#write(this.at(p), first, last, index)
    this.size++
    this.#raise(first, last)
    return outcome
  }

  /** The sequences of a note whose datagram already left the log: known sent, gone. */
  gone(first: number, last: number): void {
    this.#raise(first, last)
  }

  #write(at: number, first: number, last: number, index: number): void {
    const entries = this.entries
    entries[at + FIRST] = first
    entries[at + LAST] = last
    entries[at + INDEX] = index
  }

  #raise(first: number, last: number): void {
    if (!this.noted) {
      this.high = last
      this.low = first
      return
    }
    if (last > this.high) this.high = last
    if (first < this.low) this.low = first
  }

  #grow(): void {
    const slots = (this.mask + 1) * 2
    const grown = new Float64Array(slots * STRIDE)
    for (let k = 0; k < this.size; k++) {
      const from = this.at(k)
      grown[k * STRIDE + FIRST] = this.entries[from + FIRST]!
      grown[k * STRIDE + LAST] = this.entries[from + LAST]!
      grown[k * STRIDE + INDEX] = this.entries[from + INDEX]!
    }
    this.entries = grown
    this.mask = slots - 1
    this.head = 0
  }
}

/** The brand of a `StreamKey` (a type only). */
export declare const streamKey: unique symbol

/**
 * What a publisher sent for the first time, kept byte for byte for a window of bytes and time, so
 * that a NACK is answered by sending the same datagrams again, not by encoding anything anew
 * (STYLE.md “Engines”; Aeron's term buffer). Every first-sent datagram goes in: a whole DATA frame,
 * a BATCH, one fragment of a large message. A policy object: no socket, the clock is injected.
 *
 * - Each datagram gets a log *index* (0, 1, 2…, never reused) and a *position*: the bytes of every
 *   datagram appended before it. `position` is where the next one will start; `start` is where the
 *   oldest one held starts. Both only grow (a Number is exact up to 2^53 bytes).
 * - Per topic, a {@link StreamKey} (made once per topic with {@link SentLog.stream}) maps sequence
 *   ranges to datagram indices: one entry per datagram per topic, so a BATCH of 600 frames of one
 *   topic costs one entry, not 600.
 * - Everything is rings of plain and typed arrays, grown by doubling up to their cap: no Map, and
 *   no allocation per datagram once grown. Eviction is lazy (on append and on every look-up), so
 *   the log needs no timer.
 *
 * Bounded state: the log holds at most `maxBytes` and `maxAgeMs` of datagrams, and at most
 * `maxDatagrams` of them (by default what `maxBytes` of the smallest datagram the publisher can
 * send comes to), evicted oldest first and counted (`evicted`, `evictedBytes`). A stream's index
 * holds at most as many entries as the log holds datagrams (further ones push out its oldest,
 * counted `droppedNotes`). The log keeps no table of streams: the handles live and die with the
 * publisher's own per-topic state, so the topics it has are its bound (a relay's topics come from
 * the network: its topic table is the one to cap).
 *
 * Work is bounded too: a look-up costs O(log n) to find where to start plus one step per entry it
 * examines, at most {@link MAX_LOOKUP_ENTRIES}, whatever the sequence count it asks for; and it
 * returns at most {@link MAX_RESEND_DATAGRAMS_PER_LOOKUP} datagrams (`truncated`, with a cursor to
 * go on from, even inside a message of thousands of fragments).
 */
import { transportError } from '../errors.js'
import { datagramLength } from '../net/link.js'
import { REPAIR_HOLDOFF_MS } from '../repair-window.js'
import { CRC_LENGTH, FIXED_HEADER_LENGTH } from '../wire/constants.js'
import type { FragmentParts } from '../wire/fragment.js'
import { type Clock, REAL_CLOCK } from './heartbeat.js'
import { ceilPow2, FIRST, INDEX, LAST, StreamIndex, type streamKey } from './stream-index.js'

/**
 * Default window in bytes: as the repair window's (REPAIR_WINDOW_BYTES), about 56 ms of a 1.2 GB/s
 * camera stream, more than a receiver stalled by a full GC and the drain of its buffer need to ask.
 */
export const SENT_LOG_BYTES = 64 * 1024 * 1024
/** Default window in time, ms: a NACK for something older than this is not answered. */
export const SENT_LOG_MS = 1_000
/**
 * The smallest datagram a publisher sends (fixed header and CRC; no topic, no payload): with
 * `maxBytes` it sets the default `maxDatagrams`, so the index rings can never outgrow the byte cap.
 */
export const SENT_LOG_MIN_DATAGRAM_BYTES = FIXED_HEADER_LENGTH + CRC_LENGTH
/**
 * Datagrams a log may be configured to hold at most: 2^24 slots, 0.5 GB of index at worst. (Also
 * keeps ring masks far inside the 31 bits that `&` works on.)
 */
export const SENT_LOG_MAX_DATAGRAMS = 2 ** 24
/** Slots the datagram ring starts with (it doubles as needed): 1,024 × 32 bytes of index. */
export const SENT_LOG_INITIAL_SLOTS = 1_024
/**
 * Datagrams one look-up returns at most: about 1.5 MB at the default datagram budget, a whole
 * 1 MiB image (about 720 fragments) and then some. A NACK asking for more is answered in part
 * (`truncated`); the publisher's resend budget would cut it short anyway.
 */
export const MAX_RESEND_DATAGRAMS_PER_LOOKUP = 1_024
/**
 * Stream entries one look-up examines at most (those it returns, and those it passes over: a
 * datagram already evicted, a batch already in the answer), so that its work is bounded whatever
 * the stream's state.
 */
export const MAX_LOOKUP_ENTRIES = 4 * MAX_RESEND_DATAGRAMS_PER_LOOKUP

/** A datagram as first sent: whole, or gathered from a fragment's three parts. */
export type LoggedDatagram = Uint8Array | FragmentParts

/** The time a policy runs on: `performance.now()` by default, a fake one in tests. */
export type NowClock = Pick<Clock, 'now'>

/** The bytes a datagram puts on the wire (a fragment's three parts together): one definition, the link's. */
export { datagramLength as loggedLength } from '../net/link.js'

export interface SentLogOptions {
  /** Bytes held at most. Default {@link SENT_LOG_BYTES}. */
  maxBytes?: number
  /** Age of the oldest datagram held at most, ms. Default {@link SENT_LOG_MS}. */
  maxAgeMs?: number
  /**
   * Datagrams held at most, up to {@link SENT_LOG_MAX_DATAGRAMS}. Default: `maxBytes` of
   * {@link SENT_LOG_MIN_DATAGRAM_BYTES}-byte datagrams.
   */
  maxDatagrams?: number
  /** A datagram is resent at most once in this long, ms. Default REPAIR_HOLDOFF_MS (repair-window.ts). */
  holdoffMs?: number
  clock?: NowClock
}

/** One datagram of a look-up's answer. */
export interface SentDatagram {
  /** Its log index: for {@link SentLog.resendable} and {@link SentLog.markResent}. */
  index: number
  datagram: LoggedDatagram
}

export interface SentLookup {
  /** The datagrams holding the sequences asked for and still held, oldest first, each once. */
  datagrams: SentDatagram[]
  /**
   * Sequences asked for (up to `next`) that are not, or never were, in the log. A fragmented
   * message counts as missing once any of its fragments is gone (those still held are returned).
   */
  missing: number
  /** The answer stopped at a cap ({@link MAX_RESEND_DATAGRAMS_PER_LOOKUP}, {@link MAX_LOOKUP_ENTRIES}). */
  truncated: boolean
  /** The first sequence asked for that this answer did not look at: ask again from here. */
  next: number
  /**
   * With `truncated`: the log index to go on from, for a `lookup(stream, next, …, fromIndex)` that
   * resumes inside a message of more fragments than one answer returns. 0 otherwise.
   */
  nextIndex: number
}

export interface SentLogStats {
  /** Datagrams held. */
  datagrams: number
  /** Bytes held (`position − start`). */
  bytes: number
  /** Datagrams evicted so far (bytes, age or count), and their bytes. */
  evicted: number
  evictedBytes: number
  /** Position of the oldest datagram held (`position` when none is). */
  start: number
  /** Bytes appended so far: where the next datagram starts. */
  position: number
  /**
   * Notes not recorded: for an index never appended, a range of 2^31 sequences or more, a range
   * overlapping one noted before, or landing further back than {@link MAX_NOTE_SHIFT}.
   */
  refusedNotes: number
  /** Stream entries pushed out by a full stream ring before their datagram left the log. */
  droppedNotes: number
  /** Stream entries examined by look-ups so far: the work NACKs cost. */
  lookupEntries: number
}

export { MAX_NOTE_SHIFT, STREAM_INITIAL_ENTRIES } from './stream-index.js'

/** One topic's index in a {@link SentLog}: opaque; get it once per topic with {@link SentLog.stream}. */
export interface StreamKey {
  readonly topic: string
  readonly [streamKey]: true
}

const asIndex = (stream: StreamKey) => stream as unknown as StreamIndex

export class SentLog {
  readonly #maxBytes: number
  readonly #maxAgeMs: number
  readonly #maxDatagrams: number
  readonly #holdoffMs: number
  readonly #clock: NowClock
  /** Ring slot of index i: i & mask (the capacity is a power of two; it grows by doubling). */
  #mask: number
  #datagrams: Array<LoggedDatagram | undefined>
  /** Each held datagram's position: its length is the next one's position minus its own. */
  #positions: Float64Array
  #appendedAt: Float64Array
  /** When each held datagram was last resent (−∞: never). */
  #resentAt: Float64Array
  /** Index of the oldest datagram held; equal to #next when none is. */
  #oldest = 0
  #next = 0
  #position = 0
  #evicted = 0
  #evictedBytes = 0
  #refusedNotes = 0
  #droppedNotes = 0
  #lookupEntries = 0

  constructor(options: SentLogOptions = {}) {
    const { maxBytes = SENT_LOG_BYTES, maxAgeMs = SENT_LOG_MS, holdoffMs = REPAIR_HOLDOFF_MS } = options
    if (!(Number.isFinite(maxBytes) && maxBytes > 0))
      throw transportError('SHOAL_BAD_OPTION', `sent log maxBytes ${maxBytes} is not a positive number`)
    if (!(maxAgeMs > 0))
      throw transportError('SHOAL_BAD_OPTION', `sent log maxAgeMs ${maxAgeMs} is not a positive number`)
    if (!(holdoffMs >= 0))
      throw transportError('SHOAL_BAD_OPTION', `sent log holdoffMs ${holdoffMs} is not 0 or more`)
    const maxDatagrams =
      options.maxDatagrams ??
      Math.min(SENT_LOG_MAX_DATAGRAMS, Math.ceil(maxBytes / SENT_LOG_MIN_DATAGRAM_BYTES))
    if (!(Number.isInteger(maxDatagrams) && maxDatagrams >= 1 && maxDatagrams <= SENT_LOG_MAX_DATAGRAMS))
      throw transportError(
        'SHOAL_BAD_OPTION',
        `sent log maxDatagrams ${maxDatagrams} is outside 1-${SENT_LOG_MAX_DATAGRAMS}`,
      )
    this.#maxBytes = maxBytes
    this.#maxAgeMs = maxAgeMs
    this.#maxDatagrams = maxDatagrams
    this.#holdoffMs = holdoffMs
    this.#clock = options.clock ?? REAL_CLOCK
    const slots = Math.min(SENT_LOG_INITIAL_SLOTS, ceilPow2(maxDatagrams))
    this.#mask = slots - 1
    this.#datagrams = new Array<LoggedDatagram | undefined>(slots).fill(undefined)
    this.#positions = new Float64Array(slots)
    this.#appendedAt = new Float64Array(slots)
    this.#resentAt = new Float64Array(slots)
  }

  /**
   * A new index for `topic`'s sequences. Call it once per topic and keep it with the topic's
   * state: the hot path then does no look-up by name. The log keeps no list of them (see above).
   */
  stream(topic: string): StreamKey {
    return new StreamIndex(topic, ceilPow2(this.#maxDatagrams)) as unknown as StreamKey
  }

  /**
   * Keeps a datagram just sent for the first time; returns its index. Lets go of the oldest
   * datagrams past the log's bytes, age or count (this one too, were it alone larger than the log).
   * The datagram must not change while held.
   */
  append(datagram: LoggedDatagram, now: number = this.#clock.now()): number {
    const index = this.#next
    if (index - this.#oldest >= this.#maxDatagrams) this.#evictOldest()
    if (index - this.#oldest > this.#mask) this.#grow()
    const slot = index & this.#mask
    this.#datagrams[slot] = datagram
    this.#positions[slot] = this.#position
    this.#appendedAt[slot] = now
    this.#resentAt[slot] = Number.NEGATIVE_INFINITY
    this.#position += datagramLength(datagram)
    this.#next = index + 1
    this.#evict(now)
    return index
  }

  /**
   * Datagram `index` carries frames `first`…`last` (u32 sequences; the range may wrap past 2^32)
   * of `stream`. Once per topic per datagram; a batch carrying runs of one topic that are not
   * consecutive in it notes each run (consecutive sequences in one datagram make one entry). Each
   * fragment of a large message is noted with first = last = the message's sequence.
   *
   * Notes of one stream come in sequence order, but for the fragments of a large message still
   * going out after later frames of its topic (sorted in, at most {@link MAX_NOTE_SHIFT} back).
   * A note that overlaps another of the stream (other than fragments of one message) is refused;
   * the same note twice is one. Fragments are noted in the order they were appended.
   */
  note(stream: StreamKey, first: number, last: number, index: number): void {
    const s = asIndex(stream)
    const span = (last - first) >>> 0
    if (!(Number.isInteger(index) && index >= 0 && index < this.#next) || span >= 2 ** 31) {
      this.#refusedNotes++
      return
    }
    const from = s.extend(first >>> 0)
    const to = from + span
    if (index < this.#oldest) {
      s.gone(from, to)
      return
    }
    s.trim(this.#oldest)
    const outcome = s.add(from, to, index)
    if (outcome === 'dropped') this.#droppedNotes++
    else if (outcome === 'refused') this.#refusedNotes++
  }

  /**
   * The datagrams still held that carry any of `stream`'s frames `first`…`first + count − 1` (u32,
   * wrapping), oldest first, each once (a batch once however many of them it carries; a fragmented
   * message with all its fragments still held). Costs O(log n) plus one step per entry examined,
   * at most {@link MAX_LOOKUP_ENTRIES}, returning at most {@link MAX_RESEND_DATAGRAMS_PER_LOOKUP}:
   * the answer is then `truncated`, and `next` and `nextIndex` are where to go on from (pass them
   * as `first` and `fromIndex`: fragments of `first` in datagrams before `fromIndex` are passed over).
   */
  lookup(
    stream: StreamKey,
    first: number,
    count: number,
    now: number = this.#clock.now(),
    fromIndex = 0,
  ): SentLookup {
    this.#evict(now)
    const s = asIndex(stream)
    const span = count > 0 ? Math.min(Math.floor(count), 2 ** 32) : 0
    const datagrams: SentDatagram[] = []
    if (!s.noted || span === 0)
      return { datagrams, missing: span, truncated: false, next: (first + span) >>> 0, nextIndex: 0 }
    s.trim(this.#oldest)
    const oldest = this.#oldest
    const entries = s.entries
    const goneThrough = s.goneThrough
    const start = s.extend(first >>> 0)
    const end = start + span
    let covered = 0
    // Entries of one fragmented message are a group: its sequence is covered only if all are held.
    let groupSequence = Number.NaN
    let groupHeld = false
    let lastIndex = -1
    let ordered = true
    let examined = 0
    let stoppedAt = end
    let stoppedIndex = 0
    let truncated = false
    for (let k = s.lowerBound(start, fromIndex); k < s.size; k++) {
      const at = s.at(k)
      const entryFirst = entries[at + FIRST]!
      if (entryFirst >= end) break
      const entryLast = entries[at + LAST]!
      const index = entries[at + INDEX]!
      const from = Math.max(entryFirst, start)
      const single = entryFirst === entryLast
      if (!(single && entryFirst === groupSequence)) {
        // The pending group is complete: everything before `from` is settled.
        if (groupHeld) covered++
        groupSequence = Number.NaN
        groupHeld = false
      }
      const held = index >= oldest
      const fresh = held && index !== lastIndex
      if (
        examined === MAX_LOOKUP_ENTRIES ||
        (fresh && datagrams.length === MAX_RESEND_DATAGRAMS_PER_LOOKUP)
      ) {
        truncated = true
        stoppedAt = from
        stoppedIndex = index
        break
      }
      examined++
      if (fresh) {
        datagrams.push({ index, datagram: this.#datagrams[index & this.#mask]! })
        if (index < lastIndex) ordered = false
        lastIndex = index
      }
      if (single) {
        if (entryFirst === groupSequence) groupHeld &&= held
        else {
          groupSequence = entryFirst
          groupHeld = held && entryFirst > goneThrough
        }
      } else if (held) {
        const lo = Math.max(from, goneThrough + 1)
        const hi = Math.min(entryLast, end - 1)
        if (hi >= lo) covered += hi - lo + 1
      }
    }
    if (!truncated && groupHeld) covered++
    this.#lookupEntries += examined
    return {
      datagrams: ordered ? datagrams : sortedOnce(datagrams),
      missing: stoppedAt - start - covered,
      truncated,
      next: stoppedAt >>> 0,
      nextIndex: stoppedIndex,
    }
  }

  /**
   * The position of the datagram that holds `sequence` of `stream` (the first, for a fragmented
   * message): where a receiver whose next unconsumed frame is `sequence` stands. The current
   * `position` for the stream's next sequence (one past the last noted); `start` for a sequence
   * the log no longer holds; undefined for one further ahead, or before the first ever noted.
   * A sequence never sent inside the stream's range (a gap) stands where the next one held starts.
   * With notes out of sequence order, a later frame that went out earlier is not looked for: the
   * position may then be ahead by the datagrams sent out of order.
   */
  positionOf(stream: StreamKey, sequence: number, now: number = this.#clock.now()): number | undefined {
    this.#evict(now)
    const s = asIndex(stream)
    if (!s.noted) return undefined
    const x = s.extend(sequence >>> 0)
    if (x === s.high + 1) return this.#position
    if (x > s.high || x < s.low) return undefined
    s.trim(this.#oldest)
    if (x <= s.goneThrough) return this.start
    const k = s.lowerBound(x)
    if (k === s.size) return this.start
    const index = s.entries[s.at(k) + INDEX]!
    return index >= this.#oldest ? this.#positions[index & this.#mask]! : this.start
  }

  /** Whether datagram `index` is held and was not resent in the last `holdoffMs`. */
  resendable(index: number, now: number = this.#clock.now()): boolean {
    this.#evict(now)
    if (!(index >= this.#oldest && index < this.#next)) return false
    return now - this.#resentAt[index & this.#mask]! >= this.#holdoffMs
  }

  /** Datagram `index` was resent at `now`: not again for `holdoffMs`. */
  markResent(index: number, now: number = this.#clock.now()): void {
    if (index >= this.#oldest && index < this.#next) this.#resentAt[index & this.#mask] = now
  }

  /** Datagram `index`, while held. */
  datagram(index: number): LoggedDatagram | undefined {
    return index >= this.#oldest && index < this.#next ? this.#datagrams[index & this.#mask] : undefined
  }

  /** Bytes appended so far: where the next datagram starts. */
  get position(): number {
    return this.#position
  }

  /** Position of the oldest datagram held (`position` when none is). */
  get start(): number {
    return this.#oldest < this.#next ? this.#positions[this.#oldest & this.#mask]! : this.#position
  }

  stats(): SentLogStats {
    const start = this.start
    return {
      datagrams: this.#next - this.#oldest,
      bytes: this.#position - start,
      evicted: this.#evicted,
      evictedBytes: this.#evictedBytes,
      start,
      position: this.#position,
      refusedNotes: this.#refusedNotes,
      droppedNotes: this.#droppedNotes,
      lookupEntries: this.#lookupEntries,
    }
  }

  /**
   * Lets go of every datagram (not counted as evicted) and of the grown rings. Indices and
   * positions go on from where they were, so stream handles stay valid: what they index is gone.
   */
  clear(): void {
    this.#oldest = this.#next
    const slots = Math.min(SENT_LOG_INITIAL_SLOTS, ceilPow2(this.#maxDatagrams))
    this.#mask = slots - 1
    this.#datagrams = new Array<LoggedDatagram | undefined>(slots).fill(undefined)
    this.#positions = new Float64Array(slots)
    this.#appendedAt = new Float64Array(slots)
    this.#resentAt = new Float64Array(slots)
  }

  /** Lets go of the oldest datagrams while the log holds more bytes than its cap, or older ones. */
  #evict(now: number): void {
    const positions = this.#positions
    const appendedAt = this.#appendedAt
    const mask = this.#mask
    const oldestPosition = this.#position - this.#maxBytes
    const oldestTime = now - this.#maxAgeMs
    while (this.#oldest < this.#next) {
      const slot = this.#oldest & mask
      if (positions[slot]! >= oldestPosition && appendedAt[slot]! >= oldestTime) return
      this.#evictOldest()
    }
  }

  #evictOldest(): void {
    const index = this.#oldest
    const slot = index & this.#mask
    const end = index + 1 < this.#next ? this.#positions[(index + 1) & this.#mask]! : this.#position
    this.#evictedBytes += end - this.#positions[slot]!
    this.#evicted++
    this.#datagrams[slot] = undefined
    this.#oldest = index + 1
  }

  /** Doubles the datagram ring; every held index moves to its slot under the new mask. */
  #grow(): void {
    const slots = (this.#mask + 1) * 2
    const mask = slots - 1
    const datagrams = new Array<LoggedDatagram | undefined>(slots).fill(undefined)
    const positions = new Float64Array(slots)
    const appendedAt = new Float64Array(slots)
    const resentAt = new Float64Array(slots)
    for (let index = this.#oldest; index < this.#next; index++) {
      const from = index & this.#mask
      const to = index & mask
      datagrams[to] = this.#datagrams[from]
      positions[to] = this.#positions[from]!
      appendedAt[to] = this.#appendedAt[from]!
      resentAt[to] = this.#resentAt[from]!
    }
    this.#datagrams = datagrams
    this.#positions = positions
    this.#appendedAt = appendedAt
    this.#resentAt = resentAt
    this.#mask = mask
  }
}

/** `datagrams` by index, each once: the answer when notes came out of order. */
function sortedOnce(datagrams: SentDatagram[]): SentDatagram[] {
  datagrams.sort((a, b) => a.index - b.index)
  let kept = 0
  for (const entry of datagrams)
    if (kept === 0 || datagrams[kept - 1]!.index !== entry.index) datagrams[kept++] = entry
  datagrams.length = kept
  return datagrams
}

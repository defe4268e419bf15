/**
 * The receive side's streams, one per (publisher session, topic), in a table a stranger cannot grow
 * without bound: every frame from the network may name a new session or topic. See WIRE.md
 * (“Security”).
 *
 * - A new stream is on probation until it has delivered {@link ESTABLISHED_FRAMES} frames.
 * - At most `maxStreamsPerAddress` streams first heard from one sender address (IP): past it, that
 *   address's least recently heard stream on probation goes; when all of its streams are
 *   established, the new one is not tracked (its frame is dropped, `streams-full`). A flood from one
 *   host pushes out its own new streams, never an established one, nor another host's.
 * - At most `maxStreams` in all: past it, the least recently heard stream on probation goes first,
 *   an established one only when none is on probation: a flood of one-frame streams, from however
 *   many addresses, never pushes out a stream that is really being published.
 * - A stream not heard for `streamIdleMs` goes.
 *
 * Every stream let go is counted (evicted or expired), and its counters are added to `retired`, so
 * that totals stay exact. The cost per frame is one lookup; a stream's place in the
 * least-recently-heard order is renewed at most once per {@link STREAM_REORDER_MS}. The orders are
 * lists threaded through the streams themselves: a Set's oldest entry is found by walking past
 * every entry deleted since it last compacted, which a flood of new streams makes slow.
 */
import { addToTotals, emptyStreamTotals, type StreamTableStats } from '../stats.js'
import { Stream, sessionHex } from '../stream.js'

/** Streams (session × topic) a subscriber tracks at once, by default. */
export const DEFAULT_MAX_STREAMS = 4_096
/**
 * Streams first heard from one sender address (IP) at once, by default: a quarter of the table
 * (1,024 of the default 4,096). A receiver behind a relay hears every stream from the relay's address.
 */
export const DEFAULT_MAX_STREAMS_PER_ADDRESS = DEFAULT_MAX_STREAMS / 4
/** A stream not heard for this long is let go, ms, by default. */
export const DEFAULT_STREAM_IDLE_MS = 120_000
/** A stream's place in the least-recently-heard order is renewed at most this often, ms. */
export const STREAM_REORDER_MS = 1_000
/** Frames a stream delivers before it is established (off probation). */
export const ESTABLISHED_FRAMES = 4

export interface StreamLimits {
  /** Streams tracked at once. Default {@link DEFAULT_MAX_STREAMS}. */
  maxStreams?: number
  /** Streams first heard from one sender address at once. Default: a quarter of `maxStreams` ({@link DEFAULT_MAX_STREAMS_PER_ADDRESS}). */
  maxStreamsPerAddress?: number
  /** A stream not heard for this long is let go, ms. Default {@link DEFAULT_STREAM_IDLE_MS}. */
  streamIdleMs?: number
}

class TrackedStream extends Stream {
  // Links in two lists: its address's (probation or established) and the table's (the same tier).
  olderHere: TrackedStream | undefined
  newerHere: TrackedStream | undefined
  olderAll: TrackedStream | undefined
  newerAll: TrackedStream | undefined
  established = false
  constructor(
    readonly sessionId: number,
    readonly group: AddressGroup,
    address: string,
    port: number,
    topic: string,
  ) {
    super(sessionHex(sessionId), address, port, topic)
  }
}

/** Streams, least recently heard first, linked through the address links or the table links. */
class OrderedList {
  size = 0
  oldest: TrackedStream | undefined
  newest: TrackedStream | undefined
  constructor(readonly perAddress: boolean) {}

  append(stream: TrackedStream): void {
    const newest = this.newest
    if (this.perAddress) {
      stream.olderHere = newest
      stream.newerHere = undefined
      if (newest === undefined) this.oldest = stream
      else newest.newerHere = stream
    } else {
      stream.olderAll = newest
      stream.newerAll = undefined
      if (newest === undefined) this.oldest = stream
      else newest.newerAll = stream
    }
    this.newest = stream
    this.size++
  }

  remove(stream: TrackedStream): void {
    const older = this.perAddress ? stream.olderHere : stream.olderAll
    const newer = this.perAddress ? stream.newerHere : stream.newerAll
    if (older === undefined) this.oldest = newer
    else if (this.perAddress) older.newerHere = newer
    else older.newerAll = newer
    if (newer === undefined) this.newest = older
    else if (this.perAddress) newer.olderHere = older
    else newer.olderAll = older
    this.size--
  }
}

/** A stream's two tiers, per address or in the whole table. */
class Tiers {
  readonly probation: OrderedList
  readonly established: OrderedList
  constructor(perAddress: boolean) {
    this.probation = new OrderedList(perAddress)
    this.established = new OrderedList(perAddress)
  }

  of(stream: TrackedStream): OrderedList {
    return stream.established ? this.established : this.probation
  }

  get size(): number {
    return this.probation.size + this.established.size
  }
}

/** The streams first heard from one sender address. */
class AddressGroup extends Tiers {
  constructor(readonly address: string) {
    super(true)
  }
}

export class StreamTable {
  readonly #maxStreams: number
  readonly #maxPerAddress: number
  readonly #idleMs: number
  // session id → topic → stream: found per frame without building a key string
  readonly #bySession = new Map<number, Map<string, TrackedStream>>()
  readonly #groups = new Map<string, AddressGroup>()
  readonly #all = new Tiers(false)
  #size = 0
  #evicted = 0
  #expired = 0
  #refused = 0
  readonly #retired = emptyStreamTotals()
  /** Called for every stream let go. */
  onRetire: ((stream: Stream, reason: 'evicted' | 'expired') => void) | undefined

  constructor(limits: StreamLimits = {}) {
    this.#maxStreams = limits.maxStreams ?? DEFAULT_MAX_STREAMS
    this.#maxPerAddress = Math.min(
      limits.maxStreamsPerAddress ?? Math.max(1, Math.floor(this.#maxStreams / 4)),
      this.#maxStreams,
    )
    this.#idleMs = limits.streamIdleMs ?? DEFAULT_STREAM_IDLE_MS
  }

  /**
   * The stream of (session, topic), heard now from `address:port`; made when new, within the caps.
   * Undefined when it is new and its address holds as many established streams as it may.
   */
  get(sessionId: number, topic: string, address: string, port: number, now: number): Stream | undefined {
    let topics = this.#bySession.get(sessionId)
    const known = topics?.get(topic)
    if (known !== undefined) {
      known.heardAt = now
      if (now - known.orderedAt >= STREAM_REORDER_MS) this.#renew(known, now)
      else if (!known.established && known.tracker.frames >= ESTABLISHED_FRAMES) this.#renew(known, now)
      return known
    }
    let group = this.#groups.get(address)
    if (group !== undefined && group.size >= this.#maxPerAddress) {
      const quiet = group.probation.oldest
      if (quiet === undefined) {
        this.#refused++
        return undefined
      }
      this.#retire(quiet, 'evicted')
    } else if (this.#size >= this.#maxStreams)
      this.#retire((this.#all.probation.oldest ?? this.#all.established.oldest)!, 'evicted')
    // Eviction may have removed the session's last stream, or the address's.
    topics = this.#bySession.get(sessionId)
    if (topics === undefined) {
      topics = new Map()
      this.#bySession.set(sessionId, topics)
    }
    group = this.#groups.get(address)
    if (group === undefined) {
      group = new AddressGroup(address)
      this.#groups.set(address, group)
    }
    const stream = new TrackedStream(sessionId, group, address, port, topic)
    stream.heardAt = now
    stream.orderedAt = now
    topics.set(topic, stream)
    group.probation.append(stream)
    this.#all.probation.append(stream)
    this.#size++
    return stream
  }

  /** The stream of (session, topic) if it is tracked; never makes one. */
  find(sessionId: number, topic: string): Stream | undefined {
    return this.#bySession.get(sessionId)?.get(topic)
  }

  /** Lets go of streams not heard for the idle time; returns how many. */
  sweep(now: number): number {
    return this.#expire(this.#all.probation, now) + this.#expire(this.#all.established, now)
  }

  get size(): number {
    return this.#size
  }

  /** Every stream tracked now. */
  *streams(): IterableIterator<Stream> {
    for (const topics of this.#bySession.values()) yield* topics.values()
  }

  stats(): StreamTableStats {
    const retired = this.#retired
    return {
      active: this.#size,
      evicted: this.#evicted,
      expired: this.#expired,
      refused: this.#refused,
      retired: { ...retired, drops: { ...retired.drops } },
    }
  }

  /**
   * Moves a stream heard again to the recent end of its lists (its order time `at`), off probation
   * once established.
   */
  #renew(stream: TrackedStream, at: number): void {
    stream.orderedAt = at
    stream.group.of(stream).remove(stream)
    this.#all.of(stream).remove(stream)
    if (!stream.established && stream.tracker.frames >= ESTABLISHED_FRAMES) stream.established = true
    stream.group.of(stream).append(stream)
    this.#all.of(stream).append(stream)
  }

  #expire(tier: OrderedList, now: number): number {
    let expired = 0
    // The order is by `orderedAt`; every stream after one renewed within the idle time was too.
    for (let stream = tier.oldest; stream !== undefined && now - stream.orderedAt >= this.#idleMs; ) {
      const newer = stream.newerAll
      if (now - stream.heardAt >= this.#idleMs) {
        this.#retire(stream, 'expired')
        expired++
      }
      stream = newer
    }
    return expired
  }

  #retire(stream: TrackedStream, reason: 'evicted' | 'expired'): void {
    const topics = this.#bySession.get(stream.sessionId)
    topics?.delete(stream.topic)
    if (topics?.size === 0) this.#bySession.delete(stream.sessionId)
    const group = stream.group
    group.of(stream).remove(stream)
    if (group.size === 0) this.#groups.delete(group.address)
    this.#all.of(stream).remove(stream)
    this.#size--
    if (reason === 'evicted') this.#evicted++
    else this.#expired++
    addToTotals(this.#retired, stream.snapshot('received'))
    this.onRetire?.(stream, reason)
  }
}

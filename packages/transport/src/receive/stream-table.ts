/**
 * The receive side's streams, one per (publisher session, topic), in a table a stranger cannot grow
 * without bound: every frame from the network may name a new session or topic. See WIRE.md
 * (“Security”).
 *
 * - At most `maxStreams` streams, and at most `maxStreamsPerAddress` first heard from one sender
 *   address (IP): a flood from one host pushes out its own streams, not those of other hosts.
 * - A new stream is on probation until it has delivered {@link ESTABLISHED_FRAMES} frames. When the
 *   table is full, the least recently heard stream on probation goes first, and an established one
 *   only when none is on probation: a flood of one-frame streams, from however many addresses,
 *   never pushes out a stream that is really being published.
 * - A stream not heard for `streamIdleMs` goes.
 *
 * Every stream let go is counted (evicted or expired), and its counters are added to `retired`, so
 * that totals stay exact. The cost per frame is one lookup; a stream's place in the
 * least-recently-heard order is renewed at most once per {@link STREAM_REORDER_MS}. The orders are
 * lists threaded through the streams themselves: a Set's oldest entry is found by walking past
 * every entry deleted since it last compacted, which a flood of new streams makes slow.
 */
import { addToTotals, emptyStreamTotals, Stream, type StreamTableStats, sessionHex } from '../stats.js'

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

/** Which list a stream's link is for: its address's, or its tier's (probation or established). */
const BY_ADDRESS = 0
const BY_TIER = 1
type Link = typeof BY_ADDRESS | typeof BY_TIER

class TrackedStream extends Stream {
  readonly older: [TrackedStream | undefined, TrackedStream | undefined] = [undefined, undefined]
  readonly newer: [TrackedStream | undefined, TrackedStream | undefined] = [undefined, undefined]
  established = false
  constructor(
    readonly sessionId: number,
    readonly group: OrderedList,
    address: string,
    port: number,
    topic: string,
  ) {
    super(sessionHex(sessionId), address, port, topic)
  }
}

/** Streams, least recently heard first, linked through one of their two links. */
class OrderedList {
  size = 0
  oldest: TrackedStream | undefined
  newest: TrackedStream | undefined
  constructor(
    readonly link: Link,
    readonly address = '',
  ) {}

  append(stream: TrackedStream): void {
    const l = this.link
    stream.older[l] = this.newest
    stream.newer[l] = undefined
    if (this.newest === undefined) this.oldest = stream
    else this.newest.newer[l] = stream
    this.newest = stream
    this.size++
  }

  remove(stream: TrackedStream): void {
    const l = this.link
    const older = stream.older[l]
    const newer = stream.newer[l]
    if (older === undefined) this.oldest = newer
    else older.newer[l] = newer
    if (newer === undefined) this.newest = older
    else newer.older[l] = older
    stream.older[l] = undefined
    stream.newer[l] = undefined
    this.size--
  }
}

export class StreamTable {
  readonly #maxStreams: number
  readonly #maxPerAddress: number
  readonly #idleMs: number
  // session id → topic → stream: found per frame without building a key string
  readonly #bySession = new Map<number, Map<string, TrackedStream>>()
  readonly #groups = new Map<string, OrderedList>()
  readonly #probation = new OrderedList(BY_TIER)
  readonly #established = new OrderedList(BY_TIER)
  #size = 0
  #evicted = 0
  #expired = 0
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

  /** The stream of (session, topic), heard now from `address:port`; made when new (within the caps). */
  get(sessionId: number, topic: string, address: string, port: number, now: number): Stream {
    let topics = this.#bySession.get(sessionId)
    const known = topics?.get(topic)
    if (known !== undefined) {
      known.heardAt = now
      if (now - known.orderedAt >= STREAM_REORDER_MS) this.#renew(known, now)
      else if (!known.established && known.tracker.frames >= ESTABLISHED_FRAMES) {
        this.#probation.remove(known)
        known.established = true
        this.#established.append(known)
      }
      return known
    }
    let group = this.#groups.get(address)
    if (group !== undefined && group.size >= this.#maxPerAddress) this.#retire(group.oldest!, 'evicted')
    else if (this.#size >= this.#maxStreams)
      this.#retire((this.#probation.oldest ?? this.#established.oldest)!, 'evicted')
    // Eviction may have removed the session's last stream, or the address's.
    topics = this.#bySession.get(sessionId)
    if (topics === undefined) {
      topics = new Map()
      this.#bySession.set(sessionId, topics)
    }
    group = this.#groups.get(address)
    if (group === undefined) {
      group = new OrderedList(BY_ADDRESS, address)
      this.#groups.set(address, group)
    }
    const stream = new TrackedStream(sessionId, group, address, port, topic)
    stream.heardAt = now
    stream.orderedAt = now
    topics.set(topic, stream)
    group.append(stream)
    this.#probation.append(stream)
    this.#size++
    return stream
  }

  /** The stream of (session, topic) if it is tracked; never makes one. */
  find(sessionId: number, topic: string): Stream | undefined {
    return this.#bySession.get(sessionId)?.get(topic)
  }

  /** Lets go of streams not heard for the idle time; returns how many. */
  sweep(now: number): number {
    return this.#expire(this.#probation, now) + this.#expire(this.#established, now)
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
      retired: { ...retired, drops: { ...retired.drops } },
    }
  }

  /** Moves a stream heard again to the recent end of its lists; off probation once established. */
  #renew(stream: TrackedStream, now: number): void {
    stream.orderedAt = now
    stream.group.remove(stream)
    stream.group.append(stream)
    const tier = stream.established ? this.#established : this.#probation
    tier.remove(stream)
    if (!stream.established && stream.tracker.frames >= ESTABLISHED_FRAMES) stream.established = true
    ;(stream.established ? this.#established : this.#probation).append(stream)
  }

  #expire(tier: OrderedList, now: number): number {
    let expired = 0
    // The order is by `orderedAt`; every stream after one renewed within the idle time was too.
    for (let stream = tier.oldest; stream !== undefined && now - stream.orderedAt >= this.#idleMs; ) {
      const newer = stream.newer[BY_TIER]
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
    group.remove(stream)
    if (group.size === 0) this.#groups.delete(group.address)
    ;(stream.established ? this.#established : this.#probation).remove(stream)
    this.#size--
    if (reason === 'evicted') this.#evicted++
    else this.#expired++
    addToTotals(this.#retired, stream.snapshot('received'))
    this.onRetire?.(stream, reason)
  }
}

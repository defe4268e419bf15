/**
 * Delivery: a whole message decoded (by its fingerprint, checked against the topic's type) and
 * handed to the application as a `'frame'` event, counted in the async iterator's queue while one
 * runs (at most `queueLimit` frames; past it, `queue-overflow`).
 *
 * With `ordered`, the frames of a stream this subscriber repairs go to the application in sequence
 * order: a frame after a gap is held (decoded, its bytes copied out of the datagram) until the gap
 * is filled by a repair, or given up — after {@link ORDER_HOLD_MS}, as long as the frames are asked
 * for, or at once when a stream holds {@link MAX_HELD_FRAMES} frames or all streams together
 * {@link MAX_HELD_BYTES}. Frames of a given-up gap that arrive later still go, late.
 */
import { registry as schemaRegistry } from '@shoal/schema'
import type { CodecRegistry, MessageCodec, TopicTypes } from '../message-codec.js'
import type { DatagramOutcome } from '../stats.js'
import type { Stream } from '../stream.js'
import { Flag } from '../wire/constants.js'
import type { DropReason } from '../wire/frame.js'
import type { FrameHeader } from '../wire/header.js'
import { FRAME_REPAIR_HORIZON_MS, FRAME_REPAIR_MAX_RETRY_MS } from './frame-repair.js'
import type { ReceivedFrame, SubscriberOptions } from './options.js'
import { SchemaHold } from './schema-hold.js'
import type { SequenceVerdict } from './sequence.js'

export const DEFAULT_QUEUE_LIMIT = 65_536
/** How long frames after a gap wait for it to be repaired (`ordered`), ms: as long as it is asked for. */
export const ORDER_HOLD_MS = FRAME_REPAIR_HORIZON_MS + FRAME_REPAIR_MAX_RETRY_MS
/** Frames one stream holds back at most (`ordered`); past it, its oldest gap is given up. */
export const MAX_HELD_FRAMES = 65_536
/** Bytes all streams hold back at most (`ordered`); past it, the oldest gap of the stream is given up. */
export const MAX_HELD_BYTES = 64 * 1024 * 1024

/** A stream's frames held back for order: the next sequence to deliver, and what waits. */
class StreamOrder {
  next: number
  /** Frames held by sequence; null: one that arrived but was dropped (it holds its place). */
  readonly held = new Map<number, ReceivedFrame | null>()
  bytes = 0
  /** When the wait for the oldest gap began. */
  since = 0

  constructor(next: number) {
    this.next = next
  }
}

type Drop = (reason: DropReason, stream: Stream, address?: string, port?: number, detail?: string) => void

export class Delivery {
  readonly #host: { emit(event: string, payload: unknown): boolean }
  readonly #drop: Drop
  readonly #registry: CodecRegistry
  readonly #topicTypes: TopicTypes | undefined
  readonly #decode: boolean
  readonly #queueLimit: number
  readonly #ordered: boolean
  /** Per stream, the frames held back for order (`ordered`); streams with frames held. */
  readonly #orders = new WeakMap<Stream, StreamOrder>()
  readonly #holding = new Set<Stream>()
  #heldBytes = 0
  /** Types learned in-band (WIRE.md “Schemas”), looked up after the registry; and who hears of unknown ones. */
  schemas:
    | {
        lookup(fingerprint: number): MessageCodec | undefined
        unknown(header: FrameHeader, address: string, port: number): void
      }
    | undefined
  /** Frames of a fingerprint asked for, held until its schema comes (see `schema-hold.ts`). */
  readonly #held = new SchemaHold()
  /** Sequences skipped over by `ordered` delivery: their gap was given up (they stay counted lost). */
  gapsSkipped = 0
  /** Async iterators running, and the frames and bytes waiting in their queue. */
  iterating = 0
  queued = 0
  queuedBytes = 0

  constructor(
    options: SubscriberOptions,
    host: { emit(event: string, payload: unknown): boolean },
    drop: Drop,
  ) {
    this.#host = host
    this.#drop = drop
    this.#registry = options.registry ?? schemaRegistry
    this.#topicTypes = options.topicTypes
    this.#decode = options.decode ?? true
    this.#queueLimit = options.queueLimit ?? DEFAULT_QUEUE_LIMIT
    this.#ordered = options.ordered ?? false
  }

  /** Whether a fingerprint decodes here without learning (the registry has it). */
  knows(fingerprint: number): boolean {
    return this.#registry.byFingerprint(fingerprint) !== undefined
  }

  /**
   * Decodes and emits one whole message (`verdict`: what its stream made of its sequence); with
   * `ordered`, holds it back while frames before it are missing. Returns `delivered` (held counts)
   * or why it was dropped.
   */
  deliver(
    header: FrameHeader,
    message: Uint8Array,
    stream: Stream,
    address: string,
    port: number,
    receivedAt: number,
    verdict: SequenceVerdict = 'next',
    now = 0,
  ): DatagramOutcome {
    const order =
      this.#ordered && stream.repairing ? this.#order(stream, header.sequence, verdict) : undefined
    // Held back: its own copy, so that the datagram it came in is not kept alive with it.
    const hold = order !== undefined && ((header.sequence - order.next) | 0) > 0
    const prepared = this.#prepare(
      header,
      hold ? message.slice() : message,
      stream,
      address,
      port,
      receivedAt,
    )
    const frame = typeof prepared === 'string' ? null : prepared
    if (order === undefined)
      return frame === null ? (prepared as DatagramOutcome) : this.#emit(frame, stream, address, port)
    if (hold) {
      // A frame dropped (undecodable) holds its place too, so that the frames after it need not wait.
      if (order.held.size === 0) order.since = now
      if (!order.held.has(header.sequence)) {
        order.held.set(header.sequence, frame)
        const bytes = frame?.payload.length ?? 0
        order.bytes += bytes
        this.#heldBytes += bytes
        this.#holding.add(stream)
      }
      if (
        order.held.size > MAX_HELD_FRAMES ||
        this.#heldBytes > MAX_HELD_BYTES ||
        now - order.since >= ORDER_HOLD_MS
      )
        this.#giveUp(stream, order, now)
      return frame === null ? (prepared as DatagramOutcome) : 'delivered'
    }
    // In order (or late, past a gap given up): it goes, and whatever it let through after it.
    const outcome = frame === null ? (prepared as DatagramOutcome) : this.#emit(frame, stream, address, port)
    if (header.sequence === order.next) {
      order.next = (order.next + 1) >>> 0
      this.#drain(stream, order, now)
    }
    return outcome
  }

  /** The frame for the application, decoded; or why it was dropped (counted). */
  #prepare(
    header: FrameHeader,
    message: Uint8Array,
    stream: Stream,
    address: string,
    port: number,
    receivedAt: number,
  ): ReceivedFrame | DropReason | 'schema-wait' {
    const type = this.#registry.byFingerprint(header.fingerprint) ?? this.schemas?.lookup(header.fingerprint)
    const expected = this.#topicTypes?.typeFor(header.topic)
    if (expected !== undefined && expected.fingerprint !== header.fingerprint) {
      this.#drop('fingerprint-mismatch', stream, address, port, `expected ${expected.typeName}`)
      return 'fingerprint-mismatch'
    }
    let decoded: unknown
    // Not decoding, with in-band schemas asked for: an unknown type is asked for, and the frame
    // goes on as bytes at once (nothing is held).
    if (!this.#decode && type === undefined) this.schemas?.unknown(header, address, port)
    if (this.#decode) {
      if (type === undefined) {
        // Asked for in-band (WIRE.md “Schemas”); held for its schema while there is room (not with
        // `ordered`: it would go out of order), else counted unknown at once.
        const asked = this.schemas?.unknown(header, address, port) ?? false
        const now = performance.now()
        if (
          asked &&
          !this.#ordered &&
          this.#held.hold({ header, message, stream, address, port, receivedAt, heldAt: now })
        )
          return 'schema-wait'
        this.#drop('unknown-type', stream, address, port, `fingerprint ${header.fingerprint.toString(16)}`)
        return 'unknown-type'
      }
      try {
        decoded = type.decode(message)
      } catch (error) {
        this.#drop('decode-failed', stream, address, port, (error as Error).message)
        return 'decode-failed'
      }
    }
    return {
      topic: header.topic,
      typeName: type?.typeName,
      type,
      fingerprint: header.fingerprint,
      message: decoded,
      payload: message,
      source: stream.origin(header.sessionId),
      sequence: header.sequence,
      hops: header.hops,
      ackRequested: (header.flags & Flag.ACK_REQUEST) !== 0,
      receivedAt,
    }
  }

  /** A type was learned in-band: the frames held for it are decoded and handed out, in arrival order. */
  schemaLearned(fingerprint: number): void {
    for (const held of this.#held.release(fingerprint)) {
      const { header, message, stream, address, port, receivedAt } = held
      const frame = this.#prepare(header, message, stream, address, port, receivedAt)
      if (typeof frame !== 'string') this.#emit(frame, stream, address, port)
    }
  }

  /** Frames held for their schema: held so far, and handed out once it came. */
  get heldForSchema(): { held: number; released: number } {
    return { held: this.#held.held, released: this.#held.released }
  }

  /** Counts frames that waited {@link SCHEMA_HOLD_MS} for their schema in vain as `unknown-type`. */
  #expireHeld(now: number): void {
    for (const { header, stream, address, port } of this.#held.expire(now))
      this.#drop('unknown-type', stream, address, port, `fingerprint ${header.fingerprint.toString(16)}`)
  }

  /** Gives up the gaps of streams that held frames back for {@link ORDER_HOLD_MS}. */
  sweep(now: number): void {
    this.#expireHeld(now)
    for (const stream of this.#holding) {
      const order = this.#orders.get(stream)
      if (order === undefined || order.held.size === 0) this.#holding.delete(stream)
      else if (now - order.since >= ORDER_HOLD_MS) this.#giveUp(stream, order, now)
    }
  }

  /** Lets every frame held back go, in order (the subscriber is closing). */
  release(): void {
    this.#expireHeld(Number.POSITIVE_INFINITY)
    for (const stream of this.#holding) {
      const order = this.#orders.get(stream)
      while (order !== undefined && order.held.size > 0) this.#giveUp(stream, order, 0)
    }
    this.#holding.clear()
  }

  /** The order of `stream`; a resync or the first frame start it at `sequence`. */
  #order(stream: Stream, sequence: number, verdict: SequenceVerdict): StreamOrder | undefined {
    // A frame far from the stream's position, or from another sender, moves nothing: it goes now.
    if (verdict === 'jump' || verdict === 'foreign') return undefined
    let order = this.#orders.get(stream)
    if (order === undefined || verdict === 'resync' || verdict === 'first') {
      if (order !== undefined) this.#giveUpAll(stream, order)
      order = new StreamOrder(sequence)
      this.#orders.set(stream, order)
    }
    return order
  }

  /** Delivers the held frames that follow on from `order.next`. */
  #drain(stream: Stream, order: StreamOrder, now: number): void {
    while (order.held.has(order.next)) {
      const frame = order.held.get(order.next)!
      order.held.delete(order.next)
      order.next = (order.next + 1) >>> 0
      if (frame === null) continue
      order.bytes -= frame.payload.length
      this.#heldBytes -= frame.payload.length
      this.#emit(frame, stream, undefined, undefined)
    }
    order.since = now
  }

  /** Skips the oldest gap: delivery goes on from the first frame held. */
  #giveUp(stream: Stream, order: StreamOrder, now: number): void {
    let first: number | undefined
    for (const sequence of order.held.keys())
      if (first === undefined || ((sequence - first) | 0) < 0) first = sequence
    if (first === undefined) return
    this.gapsSkipped += (first - order.next) >>> 0
    order.next = first
    this.#drain(stream, order, now)
  }

  #giveUpAll(stream: Stream, order: StreamOrder): void {
    while (order.held.size > 0) this.#giveUp(stream, order, 0)
  }

  /** Hands `frame` to the application (and counts it in the iterator's queue). */
  #emit(
    frame: ReceivedFrame,
    stream: Stream,
    address: string | undefined,
    port: number | undefined,
  ): DatagramOutcome {
    if (this.iterating > 0 && this.queued >= this.#queueLimit) {
      this.#drop('queue-overflow', stream, address, port)
      return 'queue-overflow'
    }
    if (this.iterating > 0) {
      this.queued++
      this.queuedBytes += frame.payload.length
    }
    this.#host.emit('frame', frame)
    return 'delivered'
  }
}

/**
 * Delivery: a whole message decoded (by its fingerprint, checked against the topic's type) and
 * handed to the application as a `'frame'` event, counted in the async iterator's queue while one
 * runs (at most `queueLimit` frames; past it, `queue-overflow`).
 */
import { registry as schemaRegistry } from '@shoal/schema'
import type { CodecRegistry, TopicTypes } from '../message-codec.js'
import type { DatagramOutcome, Stream } from '../stats.js'
import { Flag } from '../wire/constants.js'
import type { DropReason } from '../wire/frame.js'
import type { FrameHeader } from '../wire/header.js'
import type { ReceivedFrame, SubscriberOptions } from './options.js'

export const DEFAULT_QUEUE_LIMIT = 65_536

type Drop = (reason: DropReason, stream: Stream, address: string, port: number, detail?: string) => void

export class Delivery {
  readonly #host: { emit(event: string, payload: unknown): boolean }
  readonly #drop: Drop
  readonly #registry: CodecRegistry
  readonly #topicTypes: TopicTypes | undefined
  readonly #decode: boolean
  readonly #queueLimit: number
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
  }

  /** Decodes and emits one whole message; returns `delivered` or why it was dropped. */
  deliver(
    header: FrameHeader,
    message: Uint8Array,
    stream: Stream,
    address: string,
    port: number,
    receivedAt: number,
  ): DatagramOutcome {
    const type = this.#registry.byFingerprint(header.fingerprint)
    const expected = this.#topicTypes?.typeFor(header.topic)
    if (expected !== undefined && expected.fingerprint !== header.fingerprint) {
      this.#drop('fingerprint-mismatch', stream, address, port, `expected ${expected.typeName}`)
      return 'fingerprint-mismatch'
    }
    let decoded: unknown
    if (this.#decode) {
      if (type === undefined) {
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
    if (this.iterating > 0 && this.queued >= this.#queueLimit) {
      this.#drop('queue-overflow', stream, address, port)
      return 'queue-overflow'
    }
    if (this.iterating > 0) {
      this.queued++
      this.queuedBytes += message.length
    }
    const frame: ReceivedFrame = {
      topic: header.topic,
      typeName: type?.typeName,
      fingerprint: header.fingerprint,
      message: decoded,
      payload: message,
      source: stream.origin(header.sessionId),
      sequence: header.sequence,
      hops: header.hops,
      ackRequested: (header.flags & Flag.ACK_REQUEST) !== 0,
      receivedAt,
    }
    this.#host.emit('frame', frame)
    return 'delivered'
  }
}

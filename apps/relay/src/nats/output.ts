/**
 * A `nats://HOST:PORT/PREFIX` output: each whole message (fragments already reassembled by the
 * relay's message inputs) becomes one NATS message on `PREFIX.TOPIC` whose payload is the plain
 * protobuf encoding, with the Shoal headers (headers.ts). While the link is down, or the client
 * holds more than {@link NATS_MAX_PENDING_BYTES} not yet confirmed by the server, frames are
 * dropped and counted by reason, never queued.
 */
import { jetstreamManager } from '@nats-io/jetstream'
import { type NatsConnection, nanos } from '@nats-io/transport-node'
import type { Logger } from '@shoal/service'
import type { TopicFilter } from '@shoal/transport'
import { readMessageHeader, writeHeaders } from './headers.js'
import type { NatsLink } from './link.js'
import { topicToSubject } from './subject.js'

/**
 * Bytes published and not yet confirmed by the server (a flush's PING answered), at most: past it
 * frames are dropped (`nats-backlog`) rather than buffered by the client without bound. Over a
 * lost connection the client may still hold up to this much from before, which it sends on
 * reconnect.
 */
export const NATS_MAX_PENDING_BYTES = 8 * 1024 * 1024
/** Topic → subject spellings remembered, at most (forgotten all at once past it). */
export const MAX_SUBJECT_CACHE = 4_096

export const NATS_OUT_DROP_REASONS = [
  'nats-disconnected',
  'nats-backlog',
  'nats-max-payload',
  'filtered',
  'loop',
  'max-hops',
  'publish-error',
] as const
export type NatsOutDropReason = (typeof NATS_OUT_DROP_REASONS)[number]

/** A whole message for the NATS outputs: what its frame carried. */
export interface OutgoingMessage {
  readonly topic: string
  readonly typeName: string | undefined
  readonly fingerprint: number
  readonly payload: Uint8Array
  readonly sessionId: number
  readonly sequence: number
  /** Hops on the wire after this relay (its own included). */
  readonly hops: number
}

/** JetStream capture of a route's subjects: a stream per prefix, with these limits. */
export interface StreamLimits {
  readonly name: string
  readonly maxBytes: number
  readonly maxAgeMs: number
  readonly maxMsgs: number
}

export interface NatsOutputCounters {
  readonly route: string
  published: number
  bytes: number
  readonly dropped: Record<NatsOutDropReason, number>
}

export function emptyDrops(): Record<NatsOutDropReason, number> {
  return Object.fromEntries(NATS_OUT_DROP_REASONS.map((r) => [r, 0])) as Record<NatsOutDropReason, number>
}

export class NatsOutput {
  readonly counters: NatsOutputCounters
  readonly #link: NatsLink
  readonly #prefix: string
  readonly #accepts: TopicFilter
  readonly #subjects = new Map<string, string>()
  /** Bytes handed to the client since the last flush the server answered. */
  #pending = 0
  #flushing = false
  /** The link's disconnect count when `#pending` was last valid: a new loss starts the count over. */
  #epoch = 0

  constructor(route: string, link: NatsLink, prefix: string, accepts: TopicFilter) {
    this.counters = { route, published: 0, bytes: 0, dropped: emptyDrops() }
    this.#link = link
    this.#prefix = prefix
    this.#accepts = accepts
  }

  get pendingBytes(): number {
    return this.#pending
  }

  /** Counts a frame not published; false, for `return this.drop(…)`. */
  drop(reason: NatsOutDropReason): false {
    this.counters.dropped[reason]++
    return false
  }

  /** Publishes `message`, or counts why not; true when the client has it. */
  publish(message: OutgoingMessage): boolean {
    if (!this.#accepts(message.topic)) return this.drop('filtered')
    const connection = this.#link.connected
    if (connection === undefined) return this.drop('nats-disconnected')
    const disconnects = this.#link.stats().disconnects
    if (disconnects !== this.#epoch) {
      this.#epoch = disconnects
      this.#pending = 0
      this.#flushing = false
    }
    const { payload } = message
    const maxPayload = connection.info?.max_payload
    if (maxPayload !== undefined && payload.length > maxPayload) return this.drop('nats-max-payload')
    if (this.#pending + payload.length > NATS_MAX_PENDING_BYTES) return this.drop('nats-backlog')
    const stamp = readMessageHeader(payload)
    try {
      connection.publish(this.#subject(message.topic), payload, {
        headers: writeHeaders({
          typeName: message.typeName,
          fingerprint: message.fingerprint,
          sessionId: message.sessionId,
          sequence: message.sequence,
          hops: message.hops,
          stampNs: stamp.stampNs,
          sourceId: stamp.sourceId,
        }),
      })
    } catch {
      // Payload and headers over the server's max_payload, or the client closing.
      return this.drop('publish-error')
    }
    this.counters.published++
    this.counters.bytes += payload.length
    this.#pending += payload.length
    this.#flush(connection)
    return true
  }

  /** One flush at a time: when the server answers it, what was published before it is off the client. */
  #flush(connection: NatsConnection): void {
    if (this.#flushing) return
    this.#flushing = true
    const covered = this.#pending
    const epoch = this.#epoch
    const done = (confirmed: boolean) => {
      if (epoch !== this.#epoch) return
      this.#flushing = false
      if (confirmed) this.#pending = Math.max(0, this.#pending - covered)
      const now = this.#link.connected
      if (this.#pending > 0 && now !== undefined) this.#flush(now)
    }
    connection.flush().then(
      () => done(true),
      () => done(false),
    )
  }

  #subject(topic: string): string {
    let subject = this.#subjects.get(topic)
    if (subject === undefined) {
      if (this.#subjects.size >= MAX_SUBJECT_CACHE) this.#subjects.clear()
      subject = topicToSubject(this.#prefix, topic)
      this.#subjects.set(topic, subject)
    }
    return subject
  }
}

/**
 * Makes (or brings to these limits) the JetStream stream capturing `PREFIX.>`: file storage, the
 * oldest messages discarded past a limit. The relay publishes plainly; the server stores what
 * falls on the stream's subjects.
 */
export async function ensureStream(
  connection: NatsConnection,
  prefix: string,
  limits: StreamLimits,
  logger: Logger,
  route: string,
): Promise<void> {
  const manager = await jetstreamManager(connection)
  const config = {
    subjects: [`${prefix}.>`],
    max_bytes: limits.maxBytes,
    max_age: nanos(limits.maxAgeMs),
    max_msgs: limits.maxMsgs,
  }
  const exists = await manager.streams.info(limits.name).then(
    () => true,
    () => false,
  )
  if (exists) await manager.streams.update(limits.name, config)
  else await manager.streams.add({ name: limits.name, ...config })
  logger.info(
    { route, stream: limits.name, ...config, max_age: `${limits.maxAgeMs} ms` },
    'JetStream stream ready',
  )
}

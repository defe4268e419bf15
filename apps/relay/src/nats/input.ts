/**
 * A `nats://HOST:PORT/PREFIX` input: subscribes to `PREFIX.>` and hands each message that carries
 * the Shoal headers (headers.ts) on a subject the outputs write (subject.ts) to the relay, which
 * sends it to its multicast, broadcast and unicast outputs with its original session and sequence
 * (`publisher.forwardMessage`). Anything else is counted by reason and dropped.
 */
import type { Msg, NatsConnection } from '@nats-io/transport-node'
import type { TopicFilter } from '@shoal/transport'
import { readHeaders } from './headers.js'
import { subjectToTopic } from './subject.js'

/**
 * Bytes of messages from NATS handed to the outputs and not yet sent, at most: past it messages are
 * dropped (`backlog`) rather than held while an output is slower than NATS delivers.
 */
export const NATS_MAX_INFLIGHT_BYTES = 32 * 1024 * 1024
/**
 * What each message in flight is charged besides its payload, bytes: its topic (up to 255), the
 * message object, its promise and the outputs' batch entry. Without it an empty payload cost 0, so
 * a flood of empty messages from NATS while an output is slow was held without any bound.
 */
export const NATS_MESSAGE_COST_BYTES = 512

export const NATS_IN_DROP_REASONS = [
  'malformed',
  'bad-subject',
  'filtered',
  'max-hops',
  'backlog',
  'send-failed',
] as const
export type NatsInDropReason = (typeof NATS_IN_DROP_REASONS)[number]

/** A message from NATS, for the outputs. */
export interface IncomingMessage {
  readonly topic: string
  readonly fingerprint: number
  readonly payload: Uint8Array
  readonly sessionId: number
  readonly sequence: number
  /** Hops on the wire after this relay (its own included). */
  readonly hops: number
}

export interface NatsInputCounters {
  readonly route: string
  received: number
  /** Sent to at least one output. */
  forwarded: number
  readonly dropped: Record<NatsInDropReason, number>
}

export class NatsInput {
  readonly counters: NatsInputCounters
  readonly #prefix: string
  readonly #accepts: TopicFilter
  readonly #maxHops: number
  /** Sends to every output that takes the topic; resolves when they have it; false: no output took it. */
  readonly #deliver: (message: IncomingMessage) => Promise<boolean>
  #inflight = 0

  constructor(
    route: string,
    prefix: string,
    accepts: TopicFilter,
    maxHops: number,
    deliver: (message: IncomingMessage) => Promise<boolean>,
  ) {
    this.counters = {
      route,
      received: 0,
      forwarded: 0,
      dropped: Object.fromEntries(NATS_IN_DROP_REASONS.map((r) => [r, 0])) as Record<
        NatsInDropReason,
        number
      >,
    }
    this.#prefix = prefix
    this.#accepts = accepts
    this.#maxHops = maxHops
    this.#deliver = deliver
  }

  /**
   * Subscribes on a new connection (the client subscribes again by itself after a reconnect).
   * Resolves once the server has the subscription (a flush answered): messages published before
   * are not delivered to it, so the relay is not ready before (the link bounds the wait).
   */
  async subscribe(connection: NatsConnection): Promise<void> {
    connection.subscribe(`${this.#prefix}.>`, {
      callback: (_error, msg) => {
        this.message(msg)
      },
    })
    await connection.flush()
  }

  /** Hands one message from NATS to the outputs, or counts why not; true when handed. */
  message(msg: Pick<Msg, 'subject' | 'data' | 'headers'>): boolean {
    this.counters.received++
    const drop = (reason: NatsInDropReason): false => {
      this.counters.dropped[reason]++
      return false
    }
    const topic = subjectToTopic(this.#prefix, msg.subject)
    if (topic === undefined || Buffer.byteLength(topic) > 255) return drop('bad-subject')
    let headers: ReturnType<typeof readHeaders>
    try {
      headers = readHeaders(msg.headers)
    } catch {
      headers = undefined // headers the client could not parse
    }
    if (headers === undefined) return drop('malformed')
    // As the forwarder does: a message that crossed --max-hops relays goes no further.
    if (headers.hops >= this.#maxHops) return drop('max-hops')
    const hops = headers.hops + 1
    if (!this.#accepts(topic)) return drop('filtered')
    const payload = msg.data
    const cost = payload.length + NATS_MESSAGE_COST_BYTES
    if (this.#inflight + cost > NATS_MAX_INFLIGHT_BYTES) return drop('backlog')
    this.#inflight += cost
    this.#deliver({
      topic,
      fingerprint: headers.fingerprint,
      payload,
      sessionId: headers.sessionId,
      sequence: headers.sequence,
      hops,
    }).then(
      (taken) => {
        this.#inflight -= cost
        if (taken) this.counters.forwarded++
        else drop('filtered')
      },
      () => {
        this.#inflight -= cost
        drop('send-failed')
      },
    )
    return true
  }
}

/**
 * The topic ledger: a publisher's topics and the only place their sequence numbers are handed out
 * (Aeron: the publication's position). Every frame, whole, batched or fragmented, takes its number
 * with `take()`; the heartbeat reads each topic's last one.
 */
import { Stream, sessionHex } from '../stream.js'
import { encodeTopic } from '../wire/header.js'
import type { HeartbeatTopic } from '../wire/heartbeat.js'
import type { SentLog, StreamKey } from './sent-log.js'

export interface TopicState {
  readonly topic: string
  readonly bytes: Uint8Array
  /** The next sequence to hand out. */
  sequence: number
  readonly stream: Stream
  /** The topic's last message was fragmented: encode the next into a recycled buffer first. */
  large: boolean
  /** Fragmented messages of the topic still being sent: heartbeats leave the topic out meanwhile. */
  inFlight: number
  /** The topic's index in the sent log; undefined when there is no log. */
  readonly key: StreamKey | undefined
}

/**
 * Streams of other publishers a relay forwards and keeps in its sent log, at most: the least
 * recently forwarded is forgotten first (its frames can no longer be asked of this relay).
 */
export const MAX_FORWARDED_STREAMS = 4_096

export class Ledger {
  readonly #topics = new Map<string, TopicState>()
  readonly #session: string
  readonly #destination: string
  readonly #port: number
  readonly #log: SentLog | undefined
  /** `session:topic` → the sent-log index of a stream this publisher forwards (a relay's output). */
  readonly #forwarded = new Map<string, StreamKey>()
  /** Forwarded streams forgotten to make room. */
  forwardedEvicted = 0

  constructor(sessionId: number, destination: string, port: number, log: SentLog | undefined) {
    this.#session = sessionHex(sessionId)
    this.#destination = destination
    this.#port = port
    this.#log = log
  }

  /** The state of `topic` if this publisher has sent on it (never made from a name off the network). */
  find(topic: string): TopicState | undefined {
    return this.#topics.get(topic)
  }

  /** The state of `topic`, created on first use (the topic name is checked then). */
  topic(topic: string): TopicState {
    let state = this.#topics.get(topic)
    if (state === undefined) {
      const stream = new Stream(this.#session, this.#destination, this.#port, topic)
      const bytes = encodeTopic(topic)
      state = { topic, bytes, sequence: 0, stream, large: false, inFlight: 0, key: this.#log?.stream(topic) }
      this.#topics.set(topic, state)
    }
    return state
  }

  /**
   * The sent-log index of another publisher's stream this one forwards, made on first use
   * (undefined without a log). The least recently used goes past {@link MAX_FORWARDED_STREAMS}.
   */
  forwarded(sessionId: number, topic: string): StreamKey | undefined {
    const log = this.#log
    if (log === undefined) return undefined
    const name = `${sessionId}:${topic}`
    const forwarded = this.#forwarded
    let key = forwarded.get(name)
    if (key !== undefined) {
      forwarded.delete(name)
      forwarded.set(name, key)
      return key
    }
    if (forwarded.size >= MAX_FORWARDED_STREAMS) {
      forwarded.delete(forwarded.keys().next().value!)
      this.forwardedEvicted++
    }
    key = log.stream(topic)
    forwarded.set(name, key)
    return key
  }

  /** The sent-log index of a forwarded stream, if it is still known (never made from a NACK). */
  findForwarded(sessionId: number, topic: string): StreamKey | undefined {
    return this.#forwarded.get(`${sessionId}:${topic}`)
  }

  /** Hands out the next sequence of `state`. */
  take(state: TopicState): number {
    const sequence = state.sequence
    state.sequence = (sequence + 1) >>> 0
    return sequence
  }

  /**
   * Each topic's last sequence, for a heartbeat: topics with a fragmented message still going out
   * are left out (listing it would show its receivers a loss that is only late).
   */
  heartbeatTopics(): HeartbeatTopic[] {
    const topics: HeartbeatTopic[] = []
    for (const state of this.#topics.values())
      if (state.stream.framesSent > 0 && state.inFlight === 0)
        topics.push({ topicBytes: state.bytes, sequence: (state.sequence - 1) >>> 0 })
    return topics
  }

  states(): IterableIterator<TopicState> {
    return this.#topics.values()
  }
}

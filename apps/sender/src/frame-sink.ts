/**
 * Where every source's frames go: the publisher, with `--count` enforced across all sources, acks
 * requested and awaited with `--ack`, and send failures reported instead of thrown.
 */
import type { MessageType } from '@shoal/schema'
import { BACK_PRESSURED, type Publisher, type PublishResult } from '@shoal/transport'
import type { AckTracker } from './acks.js'

export interface FrameSinkOptions {
  /** `--count`: frames to send in all; then `onLimit` is called and further frames are refused. */
  readonly limit: number | undefined
  /** Present with `--ack`: every frame asks for acks, and they are awaited here. */
  readonly acks: AckTracker | undefined
  readonly onLimit: () => void
  /** A frame that could not be sent (counted by the caller); the sender keeps going. */
  readonly onError: (error: unknown) => void
}

export class FrameSink {
  readonly #publisher: Publisher
  readonly #options: FrameSinkOptions
  /** Publishes and ack waits still running; `settle()` awaits them. */
  readonly #inflight = new Set<Promise<void>>()
  #accepted = 0

  constructor(publisher: Publisher, options: FrameSinkOptions) {
    this.#publisher = publisher
    this.#options = options
  }

  /** Frames handed to the publisher so far. */
  get accepted(): number {
    return this.#accepted
  }

  /** True once `--count` frames were sent. */
  get exhausted(): boolean {
    return this.#options.limit !== undefined && this.#accepted >= this.#options.limit
  }

  /**
   * The fast path (simulated sensors): queues `message` without waiting. Returns false, sending
   * nothing, once `--count` is reached; `'back-pressured'`, sending nothing, while the receivers'
   * flow-control window is closed (await `ready()` and offer it again, or skip it).
   */
  send<T>(topic: string, type: MessageType<T>, message: T): boolean | 'back-pressured' {
    if (this.exhausted) return false
    try {
      if (this.#options.acks === undefined) {
        if (this.#publisher.send(topic, type, message) === BACK_PRESSURED) return 'back-pressured'
      } else this.#track(this.#publisher.publish(topic, type, message, { ack: true }))
    } catch (error) {
      this.#options.onError(error)
    }
    this.#accepted++
    this.#checkLimit()
    return true
  }

  /** Resolves when the receivers' flow-control window lets a frame go. */
  ready(): Promise<void> {
    return this.#publisher.ready()
  }

  /**
   * Sends an encoded message; resolves when the kernel has it (a failure is reported, not thrown).
   * Returns undefined, sending nothing, once `--count` is reached.
   */
  publishEncoded(topic: string, fingerprint: number, payload: Uint8Array): Promise<void> | undefined {
    if (this.exhausted) return undefined
    this.#accepted++
    const acks = this.#options.acks
    const published = this.#publisher.publishEncoded(topic, fingerprint, payload, { ack: acks !== undefined })
    const sent = this.#track(published)
    this.#checkLimit()
    return acks === undefined ? sent : published.then(noop, noop)
  }

  /** Resolves when every frame so far is with the kernel and every ack wait has ended. */
  async settle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.all(this.#inflight)
  }

  #track(published: Promise<PublishResult>): Promise<void> {
    const acks = this.#options.acks
    const done = published
      .then((result) => acks?.wait(result))
      .catch((error: unknown) => this.#options.onError(error))
      .finally(() => this.#inflight.delete(done))
    this.#inflight.add(done)
    return done
  }

  #checkLimit(): void {
    if (this.#options.limit !== undefined && this.#accepted === this.#options.limit) this.#options.onLimit()
  }
}

function noop(): void {}

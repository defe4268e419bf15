/**
 * The flow gate: where a publisher's first sends wait for its receivers (flow control, WIRE.md
 * “STATUS”). Its position is the bytes first sent (the sent log's position); its limit, what the
 * flow-control strategy makes of its receivers' STATUS frames. `open()` says whether a first send
 * may go now; `ready()` resolves when one may, woken by a STATUS or by the next receiver timeout,
 * never by polling. Time spent waiting is counted (`BackPressure`).
 *
 * The publisher may overshoot the limit by one datagram (a batch already filled, the datagram that
 * crosses it): it checks before a datagram, not inside one.
 */

import { sessionHex } from '../stream.js'
import type { StatusBody } from '../wire/status.js'
import {
  BackPressure,
  type BackPressureStats,
  type FlowControl,
  type FlowControlStats,
} from './flow-control.js'
import type { Clock } from './heartbeat.js'
import type { Ledger } from './ledger.js'
import type { SentLog } from './sent-log.js'

export interface FlowStats extends FlowControlStats {
  /** Waits for the window, and the time spent waiting (`publish()`, fragments, forwarding). */
  backPressure: BackPressureStats
  /** `send()` calls refused with `BACK_PRESSURED`. */
  sendsRefused: number
  /** Bytes first sent (the publisher's position), and the limit last worked out. */
  position: number
  limit: number
}

export class FlowGate {
  readonly #flow: FlowControl
  readonly #log: SentLog
  readonly #clock: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>
  readonly #pressure: BackPressure
  /** The limit last worked out: a first send below it needs no clock (see `open`). */
  #limit = Number.POSITIVE_INFINITY
  #waiters: Array<() => void> = []
  #timer: unknown
  #closed = false
  sendsRefused = 0

  /** Called when a wait begins (the publisher announces itself: a required group can form). */
  readonly #onWait: () => void

  constructor(
    flow: FlowControl,
    log: SentLog,
    clock: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>,
    onWait: () => void = () => {},
  ) {
    this.#onWait = onWait
    this.#flow = flow
    this.#log = log
    this.#clock = clock
    this.#pressure = new BackPressure(clock)
    // A group to wait for holds even the first send back.
    this.#limit = flow.limit(log.position, clock.now())
  }

  /**
   * Whether a first send may go now. Below the limit last worked out it may, with no clock read:
   * with `min` a receiver timing out only raises the limit; with `max` the wake-up timer (the next
   * timeout) works it out again.
   */
  open(): boolean {
    if (this.#closed) return true
    const position = this.#log.position
    if (position < this.#limit) return true
    this.#limit = this.#flow.limit(position, this.#clock.now())
    return position < this.#limit
  }

  /** Resolves once a first send may go (at once when it may now). */
  ready(): Promise<void> {
    if (this.open()) return Promise.resolve()
    if (!this.#pressure.waiting) this.#onWait()
    this.#pressure.begin()
    this.#arm()
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  /**
   * A receiver's STATUS: its consumed position is the least, over the topics it lists that this
   * publisher sent on, of where the first frame it has not consumed sits in the sent log (with none,
   * the position now). Receivers are told apart by session and address.
   */
  statusFrom(body: StatusBody, address: string, port: number, ledger: Ledger, leaving = false): void {
    const name = `${sessionHex(body.receiverSession)}@${address}:${port}`
    if (leaving) {
      // Its last word: the limit is worked out again without it.
      if (this.#flow.leave(name)) this.#changed(this.#clock.now())
      return
    }
    const log = this.#log
    let consumed = log.position
    for (const { topic, sequence } of body.entries) {
      const key = ledger.find(topic)?.key
      if (key === undefined) continue
      const position = log.positionOf(key, sequence)
      if (position !== undefined && position < consumed) consumed = position
    }
    this.status(name, consumed, body.windowBytes)
  }

  /** A receiver's STATUS, already turned into its consumed position. */
  status(receiver: string, consumedPosition: number, windowBytes: number): void {
    const now = this.#clock.now()
    this.#flow.onStatus(receiver, consumedPosition, windowBytes, now)
    this.#changed(now)
  }

  /** The receivers changed: the limit is worked out again, and waiting sends go if it allows. */
  #changed(now: number): void {
    this.#limit = this.#flow.limit(this.#log.position, now)
    if (this.#waiters.length > 0) this.#wake()
  }

  /** Whether every receiver reporting has consumed everything first sent (false with none). */
  caughtUp(): boolean {
    return this.#flow.consumedUpTo(this.#log.position, this.#clock.now())
  }

  /** Whether the publisher waits for a required group still short of receivers. */
  get short(): boolean {
    return !this.#closed && this.#flow.short(this.#clock.now())
  }

  /** Receivers reporting now. */
  get receivers(): number {
    return this.#flow.receivers(this.#clock.now())
  }

  /** The position (bytes first sent). */
  get position(): number {
    return this.#log.position
  }

  stats(): FlowStats {
    const now = this.#clock.now()
    // The limit first: it lets receivers that timed out go, so the counts below agree with it.
    const limit = this.#flow.limit(this.#log.position, now)
    return {
      ...this.#flow.stats(),
      backPressure: this.#pressure.stats(now),
      sendsRefused: this.sendsRefused,
      position: this.#log.position,
      limit,
    }
  }

  /** Opens for good and lets every waiter go (the publisher is closing: what is pending goes out). */
  close(): void {
    this.#closed = true
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#pressure.end()
    for (const resolve of this.#waiters.splice(0)) resolve()
  }

  #wake(): void {
    if (!this.open()) {
      this.#arm()
      return
    }
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#pressure.end()
    // Waiters run in order; each re-checks `open()` before it sends (see the framer and outbox).
    for (const resolve of this.#waiters.splice(0)) resolve()
  }

  /** Wakes the waiters at the next receiver timeout (the limit can change with no STATUS then). */
  #arm(): void {
    if (this.#timer !== undefined) return
    const now = this.#clock.now()
    const at = this.#flow.nextChange(now)
    if (at === undefined || !Number.isFinite(at)) return
    this.#timer = this.#clock.setTimeout(
      () => {
        this.#timer = undefined
        this.#limit = this.#flow.limit(this.#log.position, this.#clock.now())
        this.#wake()
      },
      Math.max(1, at - now),
    )
  }
}

/**
 * How far ahead of its receivers a publisher may run (STYLE.md “Engines”; Aeron's `FlowControl`):
 * receivers send STATUS frames, each saying how far the receiver has consumed a topic and how many
 * more bytes it can take; the publisher turns the consumed sequence into a log position (see
 * SentLog.positionOf) and hands both here. Out comes a position limit: the publisher sends no first
 * send that would end past it. A policy object: no socket, the clock is injected.
 *
 * - Each receiver's limit is its consumed position plus its window. The consumed position is the
 *   highest seen, so a STATUS overtaken by a newer one never takes the limit back; the window is
 *   the one sent with that position (the newest STATUS for it).
 * - A window is a claim from the network: it is clamped to {@link MAX_FLOW_WINDOW_BYTES}, so that
 *   no STATUS lets the publisher run further ahead than its sent log can repair.
 * - `'min'` waits for the slowest receiver (no receiver overrun), `'max'` for the fastest (the
 *   others repair or lose). With `groupSize` n, nothing goes out until n receivers are there.
 * - A receiver silent for `receiverTimeoutMs` is dropped (counted `timedOut`), so a killed one
 *   holds the others back only that long; {@link FlowControl.nextChange} says when that can happen,
 *   so a back-pressured publisher sleeps until then instead of spinning.
 *
 * Bounded state: at most `maxReceivers` receivers; a STATUS from a further one is refused
 * (counted), not let in by pushing out a live one: else a flood of STATUS frames in made-up names
 * would choose whom the publisher waits for. A silent one leaves after `receiverTimeoutMs`, which
 * makes room. Receiver names are claims too: pin them to an address before they get here (see
 * ack-book.ts), or a stranger can hold a `'min'` group back by posing as a slow receiver.
 */
import { transportError } from '../errors.js'
import { REAL_CLOCK } from './heartbeat.js'
import { type NowClock, SENT_LOG_BYTES } from './sent-log.js'

/**
 * A receiver not heard from for this long is dropped, ms. Several STATUS intervals (Aeron sends one
 * every 200 ms, and when half its window is consumed): a receiver is dropped only after about ten
 * of its STATUS frames in a row went missing, never for a GC pause (≤ 12 ms measured), while a
 * killed receiver holds a `'min'` group back for two seconds at most.
 */
export const FLOW_RECEIVER_TIMEOUT_MS = 2_000
/** Receivers tracked at once (as MAX_ACK_RECEIVERS): more than a segment's worth of real ones. */
export const MAX_FLOW_RECEIVERS = 256
/**
 * Largest window a STATUS may claim, bytes: the sent log's size. Running further ahead of a
 * receiver than the log holds would make its losses unrepairable anyway.
 */
export const MAX_FLOW_WINDOW_BYTES = SENT_LOG_BYTES

/** Whom the publisher waits for: the slowest receiver, or the fastest. */
export type FlowStrategy = 'min' | 'max'

export interface FlowControlOptions {
  /** Default `'min'`. */
  strategy?: FlowStrategy
  /** Receivers that must be there before anything goes out. Default 0: none. */
  groupSize?: number
  /** Default {@link FLOW_RECEIVER_TIMEOUT_MS}. */
  receiverTimeoutMs?: number
  /** Default {@link MAX_FLOW_RECEIVERS}. */
  maxReceivers?: number
  /** Default {@link MAX_FLOW_WINDOW_BYTES}. */
  maxWindowBytes?: number
  clock?: NowClock
}

export interface FlowControlStats {
  /** Receivers tracked now. */
  receivers: number
  /** Receivers taken in so far. */
  added: number
  /** Receivers dropped after `receiverTimeoutMs` of silence. */
  timedOut: number
  /** Receivers that said they were leaving (a STATUS flagged `LEAVING`), dropped at once. */
  left: number
  /** STATUS frames from a new receiver while the table was full. */
  refused: number
  /** STATUS frames seen (refused and invalid ones included). */
  statuses: number
  /** STATUS frames whose window was cut to `maxWindowBytes`. */
  clamped: number
  /** STATUS frames with a consumed position that is not a finite number ≥ 0 (ignored). */
  invalid: number
}

interface FlowReceiver {
  /** The highest consumed position seen. */
  consumed: number
  /** The window sent with it, clamped. */
  window: number
  heardAt: number
}

export class FlowControl {
  readonly #strategy: FlowStrategy
  readonly #groupSize: number
  readonly #timeoutMs: number
  readonly #maxReceivers: number
  readonly #maxWindow: number
  readonly #clock: NowClock
  readonly #receivers = new Map<string, FlowReceiver>()
  /** A receiver changed since #aggregate and #expiresAt were worked out. */
  #dirty = false
  /** The smallest (min) or largest (max) receiver limit. */
  #aggregate = Number.POSITIVE_INFINITY
  /** When the first receiver times out (∞ with none). */
  #expiresAt = Number.POSITIVE_INFINITY
  #added = 0
  #timedOut = 0
  #left = 0
  #refused = 0
  #statuses = 0
  #clamped = 0
  #invalid = 0

  constructor(options: FlowControlOptions = {}) {
    const {
      strategy = 'min',
      groupSize = 0,
      receiverTimeoutMs = FLOW_RECEIVER_TIMEOUT_MS,
      maxReceivers = MAX_FLOW_RECEIVERS,
      maxWindowBytes = MAX_FLOW_WINDOW_BYTES,
    } = options
    if (strategy !== 'min' && strategy !== 'max')
      throw transportError('SHOAL_BAD_OPTION', `flow strategy ${String(strategy)} is not 'min' or 'max'`)
    if (!(Number.isInteger(maxReceivers) && maxReceivers >= 1))
      throw transportError('SHOAL_BAD_OPTION', `flow maxReceivers ${maxReceivers} is not a positive integer`)
    if (!(Number.isInteger(groupSize) && groupSize >= 0 && groupSize <= maxReceivers))
      throw transportError('SHOAL_BAD_OPTION', `flow groupSize ${groupSize} is outside 0-${maxReceivers}`)
    if (!(receiverTimeoutMs > 0))
      throw transportError('SHOAL_BAD_OPTION', `flow receiverTimeoutMs ${receiverTimeoutMs} is not positive`)
    if (!(Number.isFinite(maxWindowBytes) && maxWindowBytes >= 0))
      throw transportError('SHOAL_BAD_OPTION', `flow maxWindowBytes ${maxWindowBytes} is not a finite size`)
    this.#strategy = strategy
    this.#groupSize = groupSize
    this.#timeoutMs = receiverTimeoutMs
    this.#maxReceivers = maxReceivers
    this.#maxWindow = maxWindowBytes
    this.#clock = options.clock ?? REAL_CLOCK
  }

  /**
   * A STATUS from `receiver` (a name unique per receiver session, e.g. "session@address:port"):
   * it has consumed the topic up to `consumedPosition` and can take `windowBytes` more. Returns
   * false when it was not taken in (table full, or an invalid position).
   */
  onStatus(
    receiver: string,
    consumedPosition: number,
    windowBytes: number,
    now: number = this.#clock.now(),
  ): boolean {
    this.#statuses++
    if (!(Number.isFinite(consumedPosition) && consumedPosition >= 0)) {
      this.#invalid++
      return false
    }
    // A window that is not a number is none (Math.max would keep the NaN).
    let window = Number.isNaN(windowBytes) ? 0 : Math.max(windowBytes, 0)
    if (window > this.#maxWindow) {
      window = this.#maxWindow
      this.#clamped++
    }
    const known = this.#receivers.get(receiver)
    if (known === undefined) {
      if (this.#receivers.size >= this.#maxReceivers) {
        this.#refresh(now)
        if (this.#receivers.size >= this.#maxReceivers) {
          this.#refused++
          return false
        }
      }
      this.#receivers.set(receiver, { consumed: consumedPosition, window, heardAt: now })
      this.#added++
    } else {
      // An older STATUS overtaken by a newer one says the receiver is alive, nothing more.
      if (consumedPosition >= known.consumed) {
        known.consumed = consumedPosition
        known.window = window
      }
      if (now > known.heardAt) known.heardAt = now
    }
    this.#dirty = true
    return true
  }

  /**
   * `receiver` says it is leaving (it closes): it holds the publisher back no more. Returns whether
   * it was tracked. A name not tracked changes nothing.
   */
  leave(receiver: string): boolean {
    if (!this.#receivers.delete(receiver)) return false
    this.#left++
    this.#dirty = true
    return true
  }

  /**
   * The position no first send may end past, at `now`: ∞ with no receiver and no group to wait
   * for; `senderPosition` (nothing more goes out) while fewer than `groupSize` receivers are
   * there; else the slowest receiver's limit (`'min'`) or the fastest's (`'max'`). O(1) unless a
   * STATUS came or a receiver timed out since the last call, then O(receivers).
   */
  limit(senderPosition: number, now: number = this.#clock.now()): number {
    this.#refresh(now)
    const count = this.#receivers.size
    if (count < this.#groupSize) return senderPosition
    return count === 0 ? Number.POSITIVE_INFINITY : this.#aggregate
  }

  /** Whether fewer receivers than the required group size are tracked at `now`. */
  short(now: number = this.#clock.now()): boolean {
    return this.receivers(now) < this.#groupSize
  }

  /** Receivers tracked at `now`. */
  receivers(now: number = this.#clock.now()): number {
    this.#refresh(now)
    return this.#receivers.size
  }

  /**
   * When the limit can change with no STATUS coming in (the next receiver timeout), so that a
   * back-pressured publisher knows when to look again; undefined with no receiver. (Any
   * receiver's timeout: with `'max'` one that is not the fastest changes nothing, and the
   * publisher simply looks again for nothing.)
   */
  nextChange(now: number = this.#clock.now()): number | undefined {
    this.#refresh(now)
    return this.#receivers.size === 0 ? undefined : this.#expiresAt
  }

  /**
   * Whether every receiver tracked at `now` has consumed up to `position` (false with none): a
   * closing publisher whose receivers all have everything need not wait for their repairs.
   */
  consumedUpTo(position: number, now: number = this.#clock.now()): boolean {
    this.#refresh(now)
    if (this.#receivers.size === 0) return false
    for (const receiver of this.#receivers.values()) if (receiver.consumed < position) return false
    return true
  }

  stats(): FlowControlStats {
    return {
      receivers: this.#receivers.size,
      added: this.#added,
      timedOut: this.#timedOut,
      left: this.#left,
      refused: this.#refused,
      statuses: this.#statuses,
      clamped: this.#clamped,
      invalid: this.#invalid,
    }
  }

  /** Drops receivers that timed out, and works the limit out again if anything changed. */
  #refresh(now: number): void {
    if (!this.#dirty && now < this.#expiresAt) return
    const max = this.#strategy === 'max'
    let aggregate = max ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY
    let expiresAt = Number.POSITIVE_INFINITY
    for (const [name, receiver] of this.#receivers) {
      const expires = receiver.heardAt + this.#timeoutMs
      if (now >= expires) {
        this.#receivers.delete(name)
        this.#timedOut++
        continue
      }
      const limit = receiver.consumed + receiver.window
      if (max ? limit > aggregate : limit < aggregate) aggregate = limit
      if (expires < expiresAt) expiresAt = expires
    }
    this.#aggregate = aggregate
    this.#expiresAt = expiresAt
    this.#dirty = false
  }
}

export interface BackPressureStats {
  /** Times the publisher had to wait. */
  episodes: number
  /** Time spent waiting, ms (the wait going on included). */
  totalMs: number
  /** The longest wait, ms (the wait going on included). */
  longestMs: number
  /** Whether it is waiting now. */
  waiting: boolean
}

/**
 * How often and how long a publisher waited for its flow-control limit: {@link begin} when it
 * first has to wait, {@link end} when it may go on. Both may be called again harmlessly (a
 * publisher that re-checks the limit while still waiting does not start a new episode).
 */
export class BackPressure {
  readonly #clock: NowClock
  /** When the wait going on began; undefined when none is. */
  #since: number | undefined
  #episodes = 0
  #totalMs = 0
  #longestMs = 0

  constructor(clock: NowClock = REAL_CLOCK) {
    this.#clock = clock
  }

  begin(now: number = this.#clock.now()): void {
    if (this.#since !== undefined) return
    this.#since = now
    this.#episodes++
  }

  end(now: number = this.#clock.now()): void {
    if (this.#since === undefined) return
    const waited = Math.max(0, now - this.#since)
    this.#totalMs += waited
    if (waited > this.#longestMs) this.#longestMs = waited
    this.#since = undefined
  }

  get waiting(): boolean {
    return this.#since !== undefined
  }

  stats(now: number = this.#clock.now()): BackPressureStats {
    const ongoing = this.#since === undefined ? 0 : Math.max(0, now - this.#since)
    return {
      episodes: this.#episodes,
      totalMs: this.#totalMs + ongoing,
      longestMs: Math.max(this.#longestMs, ongoing),
      waiting: this.#since !== undefined,
    }
  }
}

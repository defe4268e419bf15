/**
 * When a publisher sends a HEARTBEAT (WIRE.md “HEARTBEAT”): soon after it goes quiet, then less and
 * less often while it stays quiet, and at least every `maxMs` while it is busy. A policy object:
 * the clock and the timers are injected, the beat itself is the caller's.
 *
 * - the first heartbeat goes `minMs` after the last frame; each later one after twice the wait
 *   before it, up to `maxMs`; a frame starts the count again at `minMs`;
 * - a publisher that never stops sending still beats every `maxMs`, so that receivers can tell it
 *   is alive from a long silence on one of its topics.
 */

/** First heartbeat after a publisher's last frame, ms. */
export const HEARTBEAT_MIN_MS = 10
/** Longest wait between heartbeats, ms (also the period while the publisher is busy). */
export const HEARTBEAT_MAX_MS = 1_000

export interface HeartbeatTiming {
  /** First heartbeat after the last frame, ms. Default {@link HEARTBEAT_MIN_MS}. */
  minMs: number
  /** Longest wait between heartbeats, ms. Default {@link HEARTBEAT_MAX_MS}. */
  maxMs: number
}

/** The time and timers a scheduler runs on: real ones by default, fake ones in tests. */
export interface Clock {
  now(): number
  setTimeout(run: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const REAL_CLOCK: Clock = {
  now: () => performance.now(),
  setTimeout: (run, ms) => setTimeout(run, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

export class HeartbeatScheduler {
  readonly #timing: HeartbeatTiming
  readonly #clock: Clock
  readonly #beat: () => void
  #timer: unknown
  /** When the pending timer fires. */
  #timerAt = 0
  #lastActivity = 0
  #lastBeat = 0
  /** The wait before the next heartbeat of a quiet spell. */
  #interval: number
  #closed = false

  constructor(timing: HeartbeatTiming, beat: () => void, clock: Clock = REAL_CLOCK) {
    this.#timing = timing
    this.#clock = clock
    this.#beat = beat
    this.#interval = timing.minMs
  }

  /** A frame went out: the next heartbeat comes `minMs` after the last one. Costs two assignments. */
  activity(): void {
    const now = this.#clock.now()
    this.#lastActivity = now
    this.#interval = this.#timing.minMs
    if (this.#closed) return
    if (this.#timer === undefined) {
      this.#lastBeat = now
      this.#arm(this.#timing.minMs)
    } else if (this.#timerAt > now + this.#timing.minMs) {
      // The first frame after a quiet spell: its heartbeat comes minMs after it, not at the next
      // beat of the spell.
      this.#clock.clearTimeout(this.#timer)
      this.#arm(this.#timing.minMs)
    }
  }

  close(): void {
    this.#closed = true
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #arm(ms: number): void {
    const wait = Math.max(1, ms)
    this.#timerAt = this.#clock.now() + wait
    this.#timer = this.#clock.setTimeout(this.#fire, wait)
  }

  readonly #fire = () => {
    this.#timer = undefined
    if (this.#closed) return
    const now = this.#clock.now()
    const quiet = now - this.#lastActivity
    const { maxMs } = this.#timing
    if (quiet >= this.#interval || now - this.#lastBeat >= maxMs) {
      this.#beat()
      this.#lastBeat = now
      if (quiet >= this.#interval) this.#interval = Math.min(this.#interval * 2, maxMs)
      this.#arm(quiet >= this.#interval ? this.#interval : Math.min(this.#interval - quiet, maxMs))
      return
    }
    this.#arm(Math.min(this.#interval - quiet, maxMs - (now - this.#lastBeat)))
  }
}

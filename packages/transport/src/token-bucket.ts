/**
 * The publisher's rate cap (`pacing.bytesPerSecond`): a token bucket across publishes. Pure
 * arithmetic on an injectable clock; the publisher does the sleeping.
 */

/** The shortest sleep of the pacer, ms: Node's timers fire in whole milliseconds. */
export const PACING_TICK_MS = 1

/**
 * What the bucket holds on top of `burstBytes`, in ms of its rate: a sleep rounded up to a
 * {@link PACING_TICK_MS} tick that also fires up to a tick late costs no rate.
 */
export const PACING_SLACK_MS = 2

/**
 * Tokens are bytes. They accrue at `bytesPerSecond` up to {@link TokenBucket.capacity}:
 * `burstBytes` plus {@link PACING_SLACK_MS} of the rate. The bucket starts with `burstBytes`.
 *
 * {@link admit} paces a message's datagrams in bursts. A burst waits until the bucket holds the rest
 * of the message or `burstBytes`, whichever is less, then takes a datagram at a time while the
 * bucket is not empty. The datagram that empties it may overdraw it by less than its own length;
 * the next burst repays that first. So over any interval of t seconds at most
 * `burstBytes + largest datagram + bytesPerSecond × t` bytes go out: the rate is a cap on average,
 * never exceeded over a run, and a message of up to `burstBytes` goes out in one burst.
 */
export class TokenBucket {
  /** Most tokens the bucket holds, bytes. */
  readonly capacity: number
  readonly burstBytes: number
  readonly #bytesPerMs: number
  readonly #now: () => number
  #tokens: number
  #at: number

  constructor(bytesPerSecond: number, burstBytes: number, now: () => number = () => performance.now()) {
    this.#bytesPerMs = bytesPerSecond / 1000
    this.burstBytes = burstBytes
    this.capacity = burstBytes + this.#bytesPerMs * PACING_SLACK_MS
    this.#now = now
    this.#tokens = burstBytes
    this.#at = now()
  }

  /** Tokens in the bucket now, bytes; negative while a burst's overdraft is being repaid. */
  available(): number {
    const now = this.#now()
    this.#tokens = Math.min(this.capacity, this.#tokens + (now - this.#at) * this.#bytesPerMs)
    this.#at = now
    return this.#tokens
  }

  /** How long until the bucket holds `bytes` (at most its capacity), ms; 0 when it does now. */
  delayFor(bytes: number): number {
    const missing = Math.min(bytes, this.capacity) - this.available()
    return missing <= 0 ? 0 : missing / this.#bytesPerMs
  }

  /**
   * Before a datagram of `length` bytes, `unsent` bytes of its message left (this one included):
   * 0 when it may go now (its bytes are taken), else how long to sleep before asking again, ms.
   * `continuing`: the previous datagram of this message went out just before, with no sleep since.
   */
  admit(length: number, unsent: number, continuing: boolean): number {
    if (!(continuing && this.available() > 0)) {
      const wait = this.delayFor(Math.min(unsent, this.burstBytes))
      if (wait > 0) return wait
    }
    this.#tokens -= length
    return 0
  }
}

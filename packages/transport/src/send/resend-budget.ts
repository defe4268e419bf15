/**
 * How much a publisher may send again in answer to NACKs (WIRE.md “Repair”, “Security”): anyone on
 * the segment can send a NACK, and the session and sequences it names are visible to all. So:
 *
 * - a NACK earns at most {@link NACK_AMPLIFICATION} times its own datagram length of resends (a
 *   fragment resent within the holdoff costs nothing: one resend serves every receiver that asked);
 * - resends from all requesters together are capped at `bytesPerSecond` (a token bucket with a
 *   burst of {@link RESEND_BURST_SECONDS} of the rate);
 * - resends asked for by one requester address (IP) are capped at `bytesPerSecondPerRequester`;
 *   at most {@link MAX_REPAIR_REQUESTERS} requesters are tracked, the least recently heard forgotten
 *   first (counted), and one silent for {@link REQUESTER_IDLE_MS} is forgotten.
 *
 * A NACK whose answer is cut short by any of these is counted (`creditLimited`, `rateLimited`);
 * what it asked for beyond is not sent, and never queued.
 */
import { NACK_AMPLIFICATION } from '../wire/nack.js'

/** Resends from all requesters together, bytes/s, by default: 64 MiB/s. */
export const DEFAULT_RESEND_BYTES_PER_SECOND = 64 * 1024 * 1024
/** Resends one requester address may cause, bytes/s, by default: 32 MiB/s. */
export const DEFAULT_RESEND_BYTES_PER_SECOND_PER_REQUESTER = 32 * 1024 * 1024
/** Each bucket holds this many seconds of its rate: the burst a loss after a quiet spell may use. */
export const RESEND_BURST_SECONDS = 0.25
/** Requester addresses tracked at once. */
export const MAX_REPAIR_REQUESTERS = 256
/** A requester not heard for this long is forgotten, ms. */
export const REQUESTER_IDLE_MS = 60_000

export interface ResendLimits {
  /** All requesters together, bytes/s. Default {@link DEFAULT_RESEND_BYTES_PER_SECOND}. */
  bytesPerSecond?: number
  /** One requester address, bytes/s. Default {@link DEFAULT_RESEND_BYTES_PER_SECOND_PER_REQUESTER}. */
  bytesPerSecondPerRequester?: number
}

/** Bytes that accrue at a rate up to a burst: taken whole or not at all. */
class Bucket {
  #tokens: number
  #at: number
  constructor(
    readonly bytesPerMs: number,
    readonly capacity: number,
    now: number,
  ) {
    this.#tokens = capacity
    this.#at = now
  }

  take(bytes: number, now: number): boolean {
    this.#tokens = Math.min(this.capacity, this.#tokens + (now - this.#at) * this.bytesPerMs)
    this.#at = now
    if (this.#tokens < bytes) return false
    this.#tokens -= bytes
    return true
  }

  give(bytes: number): void {
    this.#tokens = Math.min(this.capacity, this.#tokens + bytes)
  }
}

interface Requester {
  readonly bucket: Bucket
  heardAt: number
}

/** One NACK's allowance: `admit` each datagram before resending it; stop at the first refusal. */
export interface ResendGrant {
  /** Whether `bytes` more may be resent for this NACK; counts the NACK as limited when not. */
  admit(bytes: number): boolean
}

export interface ResendBudgetStats {
  /** NACKs whose answer stopped at their credit ({@link NACK_AMPLIFICATION} × their length). */
  creditLimited: number
  /** NACKs whose answer stopped at a rate cap (all requesters, or their own). */
  rateLimited: number
  requesters: number
  requestersForgotten: number
}

export class ResendBudget {
  readonly #total: Bucket
  readonly #perRequester: number
  readonly #now: () => number
  // Insertion order is least-recently-heard order: a requester heard again moves to the end.
  readonly #requesters = new Map<string, Requester>()
  #creditLimited = 0
  #rateLimited = 0
  #forgotten = 0

  constructor(limits: ResendLimits = {}, now: () => number = () => performance.now()) {
    this.#now = now
    const total = limits.bytesPerSecond ?? DEFAULT_RESEND_BYTES_PER_SECOND
    this.#perRequester = limits.bytesPerSecondPerRequester ?? DEFAULT_RESEND_BYTES_PER_SECOND_PER_REQUESTER
    this.#total = new Bucket(total / 1000, total * RESEND_BURST_SECONDS, now())
  }

  /** The allowance for one NACK of `nackBytes` from `requester` (its IP address). */
  grant(requester: string, nackBytes: number): ResendGrant {
    const now = this.#now()
    const own = this.#requester(requester, now).bucket
    let credit = nackBytes * NACK_AMPLIFICATION
    return {
      admit: (bytes) => {
        if (bytes > credit) {
          this.#creditLimited++
          return false
        }
        if (!this.#total.take(bytes, now)) {
          this.#rateLimited++
          return false
        }
        if (!own.take(bytes, now)) {
          this.#total.give(bytes)
          this.#rateLimited++
          return false
        }
        credit -= bytes
        return true
      },
    }
  }

  stats(): ResendBudgetStats {
    return {
      creditLimited: this.#creditLimited,
      rateLimited: this.#rateLimited,
      requesters: this.#requesters.size,
      requestersForgotten: this.#forgotten,
    }
  }

  #requester(address: string, now: number): Requester {
    let requester = this.#requesters.get(address)
    if (requester !== undefined) {
      this.#requesters.delete(address)
    } else {
      for (const [key, oldest] of this.#requesters) {
        if (this.#requesters.size < MAX_REPAIR_REQUESTERS && now - oldest.heardAt < REQUESTER_IDLE_MS) break
        this.#requesters.delete(key)
        this.#forgotten++
      }
      const rate = this.#perRequester
      requester = { bucket: new Bucket(rate / 1000, rate * RESEND_BURST_SECONDS, now), heardAt: now }
    }
    requester.heardAt = now
    this.#requesters.set(address, requester)
    return requester
  }
}

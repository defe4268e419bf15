/**
 * How much a publisher may send again in answer to NACKs (WIRE.md “Repair”, “Security”): anyone on
 * the segment can send a NACK, and the session and sequences it names are visible to all. So:
 *
 * - a NACK earns at most {@link NACK_AMPLIFICATION} times its own datagram length of resends (a
 *   fragment resent within the holdoff costs nothing: one resend serves every receiver that asked);
 * - resends from all requesters together are capped: by default at what the publisher itself sent
 *   lately ({@link RESEND_SHARE} of its first sends, plus {@link RESEND_FLOOR_BYTES_PER_SECOND}), so
 *   NACKs can at most triple its traffic however fast it publishes; or at `bytesPerSecond`;
 * - resends asked for by one requester address (IP) are capped the same way at
 *   {@link REQUESTER_SHARE} of that, or at `bytesPerSecondPerRequester`; at most
 *   {@link MAX_REPAIR_REQUESTERS} requesters are tracked, the least recently heard forgotten first
 *   (counted), and one silent for {@link REQUESTER_IDLE_MS} is forgotten.
 *
 * A NACK whose answer is cut short by any of these is counted (`creditLimited`, `rateLimited`);
 * what it asked for beyond is not sent, and never queued.
 */
import { NACK_AMPLIFICATION } from '../wire/nack.js'

/**
 * By default resends from all requesters together may be this share of the bytes the publisher
 * sent for the first time (its traffic at most triples), plus the floor. A receiver that lost half
 * of a camera stream to a full receive buffer needs about as much again.
 */
export const RESEND_SHARE = 2
/** …and one requester's this share of them. */
export const REQUESTER_SHARE = 1
/** Resends allowed whatever the publisher sent, bytes/s: a quiet publisher's images can be repaired. */
export const RESEND_FLOOR_BYTES_PER_SECOND = 16 * 1024 * 1024
/** Resend bytes saved up at most, by default: a repair window's worth (64 MiB). */
export const RESEND_BURST_BYTES = 64 * 1024 * 1024
/** With a fixed rate (`bytesPerSecond`), a bucket holds this many seconds of it. */
export const RESEND_BURST_SECONDS = 0.25
/** Requester addresses tracked at once. */
export const MAX_REPAIR_REQUESTERS = 256
/** A requester not heard for this long is forgotten, ms. */
export const REQUESTER_IDLE_MS = 60_000

export interface ResendLimits {
  /**
   * All requesters together, bytes/s. Default: {@link RESEND_SHARE} of what the publisher sends,
   * plus {@link RESEND_FLOOR_BYTES_PER_SECOND}.
   */
  bytesPerSecond?: number
  /** One requester address, bytes/s. Default: {@link REQUESTER_SHARE} of what the publisher sends (as much again), plus the floor. */
  bytesPerSecondPerRequester?: number
}

/**
 * Bytes that accrue at a rate, plus a share of what the publisher sends (`sent()` counts its first
 * sends), up to a capacity: taken whole or not at all.
 */
class Bucket {
  #tokens: number
  #at: number
  #sentSeen: number
  constructor(
    readonly bytesPerMs: number,
    readonly share: number,
    readonly capacity: number,
    readonly sent: () => number,
    now: number,
  ) {
    this.#tokens = Math.min(capacity, bytesPerMs * 1000 * RESEND_BURST_SECONDS)
    this.#at = now
    this.#sentSeen = sent()
  }

  take(bytes: number, now: number): boolean {
    const sent = this.sent()
    const earned = (now - this.#at) * this.bytesPerMs + (sent - this.#sentSeen) * this.share
    this.#tokens = Math.min(this.capacity, this.#tokens + earned)
    this.#at = now
    this.#sentSeen = sent
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
  readonly #requesterBucket: (now: number) => Bucket
  readonly #now: () => number
  // Insertion order is least-recently-heard order: a requester heard again moves to the end.
  readonly #requesters = new Map<string, Requester>()
  #creditLimited = 0
  #rateLimited = 0
  #forgotten = 0

  /** `sent()`: the bytes the publisher has sent for the first time so far (not resends). */
  constructor(
    limits: ResendLimits = {},
    sent: () => number = () => 0,
    now: () => number = () => performance.now(),
  ) {
    this.#now = now
    const bucket = (fixed: number | undefined, share: number, at: number) =>
      fixed === undefined
        ? new Bucket(RESEND_FLOOR_BYTES_PER_SECOND / 1000, share, RESEND_BURST_BYTES, sent, at)
        : new Bucket(fixed / 1000, 0, fixed * RESEND_BURST_SECONDS, sent, at)
    this.#total = bucket(limits.bytesPerSecond, RESEND_SHARE, now())
    this.#requesterBucket = (at) => bucket(limits.bytesPerSecondPerRequester, REQUESTER_SHARE, at)
  }

  /** The allowance for one NACK of `nackBytes` from `requester` (its IP address). */
  grant(requester: string, nackBytes: number): ResendGrant {
    const now = this.#now()
    const own = this.#requester(requester, now).bucket
    let credit = nackBytes * NACK_AMPLIFICATION
    // A NACK is counted limited once, however many of its datagrams a limit refused.
    let creditCounted = false
    let rateCounted = false
    const rateLimited = () => {
      if (!rateCounted) this.#rateLimited++
      rateCounted = true
      return false
    }
    return {
      admit: (bytes) => {
        if (bytes > credit) {
          if (!creditCounted) this.#creditLimited++
          creditCounted = true
          return false
        }
        if (!this.#total.take(bytes, now)) return rateLimited()
        if (!own.take(bytes, now)) {
          this.#total.give(bytes)
          return rateLimited()
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
      requester = { bucket: this.#requesterBucket(now), heardAt: now }
    }
    requester.heardAt = now
    this.#requesters.set(address, requester)
    return requester
  }
}

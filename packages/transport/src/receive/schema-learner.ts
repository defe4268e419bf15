/**
 * The schema learner: a receiver's side of in-band schemas (WIRE.md “Schemas”). A frame whose
 * fingerprint no registry knows makes it ask the frame's sender for the schema (SCHEMA_REQUEST),
 * within named limits; a SCHEMA announce, whoever sent it and whether asked for or not, is
 * reassembled under its own small limits, verified (the fingerprint must be the one its descriptor
 * gives the type), and the type it defines is decoded like a built-in one from then on. Every table
 * has a cap; everything refused is counted by reason. No socket: `send` goes out through the
 * subscriber (sealed there when keyed), and the clock is injected.
 */
import type { MessageCodec } from '../message-codec.js'
import { emptySchemaStats, type SchemaStats } from '../stats.js'
import { Limits } from '../wire/constants.js'
import { impliedFragmentSize } from '../wire/fragment.js'
import type { DropReason } from '../wire/frame.js'
import type { FrameHeader } from '../wire/header.js'
import { encodeSchemaRequest, SCHEMA_MAX_BYTES } from '../wire/schema.js'
import { Reassembler } from './reassembler.js'

/**
 * Fingerprints asked for and not known yet, at once; past it, the one asked for first is let go
 * (counted `pendingEvicted`), so a stranger's made-up fingerprints cannot keep a real new type
 * from being asked for.
 */
export const MAX_PENDING_SCHEMAS = 64
/** A fingerprint still unknown is asked for again after this long, ms (the publisher's interval). */
export const SCHEMA_REQUEST_RETRY_MS = 1_000
/** Asks per fingerprint before the receiver stops asking (until it is forgotten). */
export const SCHEMA_REQUEST_MAX_ASKS = 8
/** A pending fingerprint is forgotten this long after it was first asked for, ms; then it may be asked again. */
export const SCHEMA_PENDING_FORGET_MS = 60_000
/** SCHEMA_REQUESTs a receiver sends per second at most, all fingerprints and senders together (and its burst). */
export const SCHEMA_REQUESTS_PER_SECOND = 16
/** Types a receiver learns in-band at most; past it, announces of new types are `schemas-full`. */
export const MAX_LEARNED_TYPES = 256
/**
 * Bytes of descriptor sets verified per second at most (and its burst): parsing costs CPU, so a
 * stranger's announces of made-up types cannot keep a receiver busy. Past it: `schema-limited`.
 */
export const SCHEMA_VERIFY_BYTES_PER_SECOND = 4 * 1024 * 1024
/**
 * Milliseconds of verifying per second at most (10 % of a core). Bytes alone do not bound the CPU:
 * a set's cost depends on its shape (a crafted set within @shoal/schema's caps costs about half a
 * second, a real one a few ms), so the time each verify took is measured and charged. A verify
 * starts only while some is left; one that overdraws leaves the next ones `schema-limited` until
 * the debt is paid.
 */
export const SCHEMA_VERIFY_MS_PER_SECOND = 100
/** What the verify time budget saves up to, ms: a burst of real announces at start verifies at once. */
export const SCHEMA_VERIFY_BURST_MS = 1_000
/** Reassembly of announces, apart from DATA and smaller: sets are small, and a stranger's partial ones cost little. */
export const SCHEMA_REASSEMBLY = {
  maxMessageBytes: SCHEMA_MAX_BYTES,
  maxPartialMessages: 8,
  maxPartialBytes: 4 * SCHEMA_MAX_BYTES,
  maxPartialMessagesPerSource: 4,
  maxPartialBytesPerSource: 2 * SCHEMA_MAX_BYTES,
  timeoutMs: Limits.REASSEMBLY_TIMEOUT_MS,
} as const

/** Why a schema was refused (@shoal/schema's `verifySchema` reasons). */
export type SchemaRejection = 'malformed' | 'missing-type' | 'fingerprint-mismatch' | 'too-large'

export type SchemaVerdict = { ok: true; type: MessageCodec } | { ok: false; reason: SchemaRejection }

/** A type learned in-band, as the subscriber's `'schema'` event hands it out. */
export interface LearnedSchema {
  typeName: string
  fingerprint: number
  descriptorSet: Uint8Array
  type: MessageCodec
  /** Who announced it. */
  from: { address: string; port: number }
}

export interface SchemaLearnerOptions {
  /** This receiver's session id (in its requests). */
  readonly receiverSession: number
  /** Builds and checks the type an announce defines (@shoal/schema's `verifySchema`). */
  readonly verify: (typeName: string, fingerprint: number, set: Uint8Array) => SchemaVerdict
  /** Whether a fingerprint is known without this learner (the subscriber's registry). */
  readonly known: (fingerprint: number) => boolean
  /** A type was learned. */
  readonly learned: (schema: LearnedSchema) => void
  readonly send: (datagram: Uint8Array, to: { address: string; port: number }) => void
  /** A refused announce or request, counted by reason by the engine. */
  readonly drop: (reason: DropReason, address: string, port: number) => void
  /** Milliseconds from any fixed point. */
  readonly now: () => number
}

const REJECTION_REASONS: Record<SchemaRejection, DropReason> = {
  malformed: 'bad-schema',
  'missing-type': 'schema-missing-type',
  'fingerprint-mismatch': 'schema-mismatch',
  'too-large': 'schema-too-large',
}

interface Pending {
  firstAt: number
  lastAt: number
  asks: number
}

/** A token bucket that starts full: `rate` per second, saved up to `burst`. */
class Budget {
  #tokens: number
  #at: number
  constructor(
    readonly rate: number,
    readonly burst: number,
    now: number,
  ) {
    this.#tokens = burst
    this.#at = now
  }
  take(amount: number, now: number): boolean {
    this.#refill(now)
    if (amount > this.#tokens) return false
    this.#tokens -= amount
    return true
  }
  /** Whether anything is left (a cost known only afterwards is then {@link spend}t). */
  left(now: number): boolean {
    this.#refill(now)
    return this.#tokens > 0
  }
  /** Takes `amount`, into debt if need be. */
  spend(amount: number): void {
    this.#tokens -= amount
  }
  #refill(now: number): void {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) * this.rate) / 1000)
    this.#at = now
  }
}

export class SchemaLearner {
  readonly #options: SchemaLearnerOptions
  readonly #types = new Map<number, MessageCodec>()
  readonly #pending = new Map<number, Pending>()
  readonly #reassembler: Reassembler
  readonly #requests: Budget
  readonly #verifying: Budget
  readonly #verifyTime: Budget
  readonly #stats: SchemaStats = emptySchemaStats()
  #sequence = 0

  constructor(options: SchemaLearnerOptions) {
    this.#options = options
    const now = options.now()
    this.#reassembler = new Reassembler({ ...SCHEMA_REASSEMBLY, now: options.now })
    this.#requests = new Budget(SCHEMA_REQUESTS_PER_SECOND, SCHEMA_REQUESTS_PER_SECOND, now)
    this.#verifying = new Budget(SCHEMA_VERIFY_BYTES_PER_SECOND, SCHEMA_VERIFY_BYTES_PER_SECOND, now)
    this.#verifyTime = new Budget(SCHEMA_VERIFY_MS_PER_SECOND, SCHEMA_VERIFY_BURST_MS, now)
  }

  /** A type learned in-band, by fingerprint. */
  lookup(fingerprint: number): MessageCodec | undefined {
    return this.#types.get(fingerprint)
  }

  /**
   * A frame of a fingerprint no registry knows arrived from `address:port`: ask there for its
   * schema (again after {@link SCHEMA_REQUEST_RETRY_MS}), within the limits. True when the
   * fingerprint is pending (asked for, now or before): its frames may wait for it.
   */
  unknown(header: FrameHeader, address: string, port: number): boolean {
    const { fingerprint } = header
    if (fingerprint === 0) return false
    const now = this.#options.now()
    let pending = this.#pending.get(fingerprint)
    if (pending === undefined) {
      if (this.#pending.size >= MAX_PENDING_SCHEMAS) {
        // A Map keeps insertion order: its first key is the one pending longest.
        this.#pending.delete(this.#pending.keys().next().value!)
        this.#stats.pendingEvicted++
      }
      pending = { firstAt: now, lastAt: Number.NEGATIVE_INFINITY, asks: 0 }
      this.#pending.set(fingerprint, pending)
    }
    if (pending.asks >= SCHEMA_REQUEST_MAX_ASKS || now - pending.lastAt < SCHEMA_REQUEST_RETRY_MS)
      return pending.asks > 0
    if (!this.#requests.take(1, now)) {
      this.#stats.requestsSuppressed++
      return pending.asks > 0
    }
    pending.lastAt = now
    pending.asks++
    this.#stats.requested++
    const request = encodeSchemaRequest({
      sessionId: header.sessionId,
      topic: header.topic,
      sequence: this.#sequence,
      fingerprint,
      receiverSession: this.#options.receiverSession,
    })
    this.#sequence = (this.#sequence + 1) >>> 0
    this.#options.send(request, { address, port })
    return true
  }

  /**
   * A SCHEMA frame (or one fragment of one), opened and checked by `decodeFrame`. Returns the
   * datagram's outcome: `schema`, or why it was refused (counted through `drop`).
   */
  announce(header: FrameHeader, payload: Uint8Array, address: string, port: number): 'schema' | DropReason {
    const { fingerprint } = header
    // A type known already costs nothing more, fragment by fragment.
    if (fingerprint !== 0 && (this.#types.has(fingerprint) || this.#options.known(fingerprint))) {
      if (header.fragmentIndex === 0) this.#stats.known++
      this.#pending.delete(fingerprint)
      return 'schema'
    }
    if (fingerprint === 0) return this.#refuse('bad-schema', address, port)
    let set = payload
    if (header.fragmentCount > 1) {
      if (impliedFragmentSize(header) === 0) return this.#refuse('fragment-mismatch', address, port)
      const key = `${header.sessionId}:${header.sequence}:${header.topic}`
      const result = this.#reassembler.accept(key, header, payload, { source: address })
      if (result.status === 'dropped') return this.#refuse(result.reason, address, port)
      if (result.status !== 'complete') return 'schema'
      set = result.message
    } else if (header.messageLength > SCHEMA_MAX_BYTES) return this.#refuse('schema-too-large', address, port)
    if (this.#types.size >= MAX_LEARNED_TYPES) return this.#refuse('schemas-full', address, port)
    const started = this.#options.now()
    if (!this.#verifyTime.left(started) || !this.#verifying.take(set.length, started))
      return this.#refuse('schema-limited', address, port)
    let verdict: SchemaVerdict
    try {
      verdict = this.#options.verify(header.topic, fingerprint, set)
    } catch {
      // The verifier should not throw on bad input; if it does, the announce is malformed all the same.
      verdict = { ok: false, reason: 'malformed' }
    }
    this.#verifyTime.spend(this.#options.now() - started)
    if (!verdict.ok) return this.#refuse(REJECTION_REASONS[verdict.reason], address, port)
    this.#types.set(fingerprint, verdict.type)
    this.#pending.delete(fingerprint)
    this.#stats.accepted++
    this.#options.learned({
      typeName: header.topic,
      fingerprint,
      // A copy (`new Uint8Array`, not `slice`: a Buffer's slice is a view).
      descriptorSet: new Uint8Array(set),
      type: verdict.type,
      from: { address, port },
    })
    return 'schema'
  }

  /** Expires partial announces and forgets fingerprints pending too long. */
  sweep(now: number): void {
    this.#reassembler.sweep()
    for (const [fingerprint, pending] of this.#pending)
      if (now - pending.firstAt >= SCHEMA_PENDING_FORGET_MS) this.#pending.delete(fingerprint)
  }

  /** Gives up partial announces (the subscriber closes). */
  close(): void {
    this.#reassembler.giveUpAll()
  }

  stats(): SchemaStats {
    return { ...this.#stats, pending: this.#pending.size }
  }

  #refuse(reason: DropReason, address: string, port: number): DropReason {
    this.#stats.rejected++
    this.#options.drop(reason, address, port)
    return reason
  }
}

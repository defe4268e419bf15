/**
 * The schema announcer: a publisher's policy for SCHEMA frames (WIRE.md “Schemas”). It announces a
 * type the first time the publisher sends it (unless receivers of this build know it already), and
 * again when a receiver asks for its fingerprint, within two named limits: each fingerprint at most
 * once per {@link SCHEMA_ANNOUNCE_INTERVAL_MS}, and all announces together within a byte budget
 * ({@link SCHEMA_BUDGET_BYTES_PER_SECOND}, saved up to {@link SCHEMA_BUDGET_BURST_BYTES}). So a
 * stranger's requests, however many, make the publisher send no more than that budget. No socket:
 * `send` puts the datagrams on the publisher's one path out (sealed there when keyed); the clock is
 * injected.
 */
import {
  descriptorSetOf,
  fileDescriptorSet,
  type MessageType,
  registry as schemaRegistry,
} from '@shoal/schema'
import type { MessageCodec } from '../message-codec.js'
import { emptySchemaStats, type SchemaStats } from '../stats.js'
import { CRC_LENGTH } from '../wire/constants.js'
import { type FragmentParts, fragmentCapacity, fragmentCountFor } from '../wire/fragment.js'
import { headerLength } from '../wire/header.js'
import { encodeSchemaAnnounce, SCHEMA_MAX_BYTES } from '../wire/schema.js'

/** Shortest time between two announces of one fingerprint, ms: requests within it are `limited`. */
export const SCHEMA_ANNOUNCE_INTERVAL_MS = 1_000
/** Bytes of announces per second a publisher sends at most, all fingerprints together. */
export const SCHEMA_BUDGET_BYTES_PER_SECOND = 256 * 1024
/** What the budget saves up to, bytes: the largest schema goes out whole once. */
export const SCHEMA_BUDGET_BURST_BYTES = SCHEMA_MAX_BYTES + 64 * 1024
/**
 * Fingerprints a publisher keeps the schema of (those it sent). It grows only with the types its
 * application sends, never with requests; past it, the first one sent is forgotten (a request
 * for it is then `unknown`).
 */
export const MAX_ANNOUNCED_TYPES = 1_024

/** Where a publisher finds the schema of a type it sends. @shoal/schema's registries satisfy it. */
export interface SchemaSource {
  /** The binary FileDescriptorSet that defines `fullName` (and what it imports), or undefined. */
  descriptorSet(fullName: string): Uint8Array | undefined
  /** The set a type object was built from (a run-time type), when the source knows it. */
  descriptorSetOf?(type: MessageCodec): Uint8Array | undefined
  /** The type of a fingerprint (for `publishEncoded`, which has no type). */
  byFingerprint?(fingerprint: number): { readonly typeName: string } | undefined
}

export interface SchemaAnnouncerOptions {
  readonly sessionId: number
  /** Largest datagram (less the seal when sealed). */
  readonly budget: number
  readonly source: SchemaSource
  /** True for a type every receiver of this build knows: not announced on first send, only on request. */
  readonly builtIn: (fingerprint: number) => boolean
  /** Sends the datagrams of one announce (in the background: a failure is the publisher's warning). */
  readonly send: (datagrams: FragmentParts[]) => void
  /** Milliseconds from any fixed point. */
  readonly now: () => number
  readonly intervalMs?: number
  readonly bytesPerSecond?: number
  readonly burstBytes?: number
}

interface Entry {
  readonly typeName: string
  /** The type object sent, when the publisher had one (a run-time type knows its own set). */
  readonly type: MessageCodec | undefined
  /** When it was last announced; -Infinity: never. */
  lastAt: number
}

export type RequestVerdict = 'announced' | 'limited' | 'unknown'

export class SchemaAnnouncer {
  readonly #options: SchemaAnnouncerOptions
  readonly #types = new Map<number, Entry>()
  /** The fingerprint of the last send: the hot path's one comparison. */
  #last = 0
  #sequence = 0
  #tokens: number
  #tokensAt: number
  readonly #intervalMs: number
  readonly #bytesPerMs: number
  readonly #burst: number
  readonly #stats: SchemaStats = emptySchemaStats()

  constructor(options: SchemaAnnouncerOptions) {
    this.#options = options
    this.#intervalMs = options.intervalMs ?? SCHEMA_ANNOUNCE_INTERVAL_MS
    this.#bytesPerMs = (options.bytesPerSecond ?? SCHEMA_BUDGET_BYTES_PER_SECOND) / 1000
    this.#burst = options.burstBytes ?? SCHEMA_BUDGET_BURST_BYTES
    this.#tokens = this.#burst
    this.#tokensAt = options.now()
  }

  /** A frame of `fingerprint` (of `type`, when the publisher has it) is about to go out. */
  sending(fingerprint: number, type?: MessageCodec): void {
    if (fingerprint === this.#last || fingerprint === 0) return
    this.#last = fingerprint
    if (this.#types.has(fingerprint)) return
    const name = type?.typeName ?? this.#options.source.byFingerprint?.(fingerprint)?.typeName
    if (name === undefined) return
    if (this.#types.size >= MAX_ANNOUNCED_TYPES) {
      const oldest = this.#types.keys().next().value as number
      this.#types.delete(oldest)
    }
    const added: Entry = { typeName: name, type, lastAt: Number.NEGATIVE_INFINITY }
    this.#types.set(fingerprint, added)
    if (!this.#options.builtIn(fingerprint)) this.#announce(fingerprint, added)
  }

  /** A receiver asked for `fingerprint` (a SCHEMA_REQUEST for this publisher's session). */
  requested(fingerprint: number): RequestVerdict {
    this.#stats.requested++
    const entry = this.#types.get(fingerprint)
    if (entry === undefined) {
      this.#stats.unknown++
      return 'unknown'
    }
    return this.#announce(fingerprint, entry)
  }

  stats(): SchemaStats {
    return { ...this.#stats }
  }

  /** Announces within the limits; the answer to a request. */
  #announce(fingerprint: number, entry: Entry): RequestVerdict {
    const now = this.#options.now()
    if (now - entry.lastAt < this.#intervalMs) {
      this.#stats.limited++
      return 'limited'
    }
    const source = this.#options.source
    const set =
      (entry.type === undefined ? undefined : source.descriptorSetOf?.(entry.type)) ??
      source.descriptorSet(entry.typeName)
    if (set === undefined || set.length > SCHEMA_MAX_BYTES) {
      this.#stats.unknown++
      return 'unknown'
    }
    // The budget is checked before anything is encoded: a refused request costs no work.
    const topicBytes = new TextEncoder().encode(entry.typeName).length
    const capacity = Math.min(fragmentCapacity(this.#options.budget, topicBytes), 0xffff)
    const bytes =
      set.length +
      fragmentCountFor(set.length, capacity) * headerLength(topicBytes) +
      CRC_LENGTH * fragmentCountFor(set.length, capacity)
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#tokensAt) * this.#bytesPerMs)
    this.#tokensAt = now
    if (bytes > this.#tokens) {
      this.#stats.limited++
      return 'limited'
    }
    let datagrams: FragmentParts[]
    try {
      datagrams = encodeSchemaAnnounce(
        {
          sessionId: this.#options.sessionId,
          sequence: this.#sequence,
          typeName: entry.typeName,
          fingerprint,
          descriptorSet: set,
        },
        this.#options.budget,
      )
    } catch {
      // A type name longer than a topic may be: it cannot be announced.
      this.#stats.unknown++
      return 'unknown'
    }
    this.#tokens -= bytes
    entry.lastAt = now
    this.#sequence = (this.#sequence + 1) >>> 0
    this.#stats.announced++
    this.#stats.announcedBytes += bytes
    this.#options.send(datagrams)
    return 'announced'
  }
}

/**
 * What a publisher announces without a source: a run-time type's own set (@shoal/schema's
 * `messageTypeFromDescriptorSet`, `loadProtoTypes`), and the built-in types'.
 */
export const BUILT_IN_SCHEMAS: SchemaSource = {
  descriptorSet: fileDescriptorSet,
  // A WeakMap lookup: any other codec object simply has none.
  descriptorSetOf: (type) => descriptorSetOf(type as MessageType),
  byFingerprint: (fingerprint) => schemaRegistry.byFingerprint(fingerprint),
}

/**
 * A publisher's announcer for its `schemas` option: the source given, then the built-in types;
 * undefined for `false`. `send`: the publisher's path out, in the background.
 */
export function createSchemaAnnouncer(
  schemas: SchemaSource | false | undefined,
  sessionId: number,
  budget: number,
  send: (datagrams: FragmentParts[]) => void,
): SchemaAnnouncer | undefined {
  if (schemas === false) return undefined
  const source: SchemaSource =
    schemas === undefined
      ? BUILT_IN_SCHEMAS
      : {
          descriptorSet: (name) => schemas.descriptorSet(name) ?? fileDescriptorSet(name),
          descriptorSetOf: (type) =>
            schemas.descriptorSetOf?.(type) ?? BUILT_IN_SCHEMAS.descriptorSetOf!(type),
          byFingerprint: (fingerprint) =>
            schemas.byFingerprint?.(fingerprint) ?? schemaRegistry.byFingerprint(fingerprint),
        }
  return new SchemaAnnouncer({
    sessionId,
    budget,
    source,
    builtIn: (fingerprint) => schemaRegistry.byFingerprint(fingerprint) !== undefined,
    send,
    now: () => performance.now(),
  })
}

/**
 * The reassembler's options, results and repair timing (see reassembler.ts): what its callers (the
 * receive engine, the repair requester) exchange with it.
 */
import { Limits } from '../wire/constants.js'
import type { FragmentRange } from '../wire/nack.js'

export interface ReassemblerOptions {
  /** Largest message accepted, bytes. Default {@link Limits.MAX_MESSAGE_BYTES} (64 MiB). */
  maxMessageBytes?: number
  /** Partial messages held at once. Default {@link Limits.MAX_PARTIAL_MESSAGES} (128). */
  maxPartialMessages?: number
  /** Bytes held by partial messages. Default {@link Limits.MAX_PARTIAL_BYTES} (256 MiB). */
  maxPartialBytes?: number
  /** Partial messages from one sender address. Default {@link Limits.MAX_PARTIAL_MESSAGES_PER_SOURCE} (64). */
  maxPartialMessagesPerSource?: number
  /** Bytes held for one sender address. Default {@link Limits.MAX_PARTIAL_BYTES_PER_SOURCE} (128 MiB). */
  maxPartialBytesPerSource?: number
  /** A partial message with no new fragment for this long expires, ms. Default 2,000. */
  timeoutMs?: number
  /** Clock in ms; injectable for tests. */
  now?: () => number
}

export interface ReassemblerStats {
  completed: number
  duplicateFragments: number
  expired: number
  evicted: number
  mismatched: number
  tooLarge: number
  partialMessages: number
  /** Memory held by partial messages: fragments kept as they came, or their allocated buffers. */
  partialBytes: number
  /** Spare buffers kept from given-up messages, and their bytes (see {@link SPARE_BUFFERS_MAX}). */
  spareBuffers: number
  spareBytes: number
  /** Messages reassembled into a spare buffer instead of a new one. */
  reusedBuffers: number
  /** Fragments that arrived after they had been asked for (NACKed). */
  repairedFragments: number
}

/**
 * Whom to ask for a fragmented message's missing pieces, and which message it is: given for frames
 * marked `REPAIRABLE` when the receiver repairs.
 */
export interface RepairTarget {
  readonly sessionId: number
  readonly topic: string
  readonly sequence: number
  readonly address: string
  readonly port: number
}

/** When a receiver asks for missing fragments (see WIRE.md “Repair”). */
export interface RepairTiming {
  /** A partial message with no new fragment for this long has its missing tail asked for, ms. */
  idleMs: number
  /** Fragments asked for and still missing are asked for again after this long, ms. */
  retryMs: number
  /**
   * Times what is still missing of one message is asked for again, at most; after that it waits
   * for the reassembly timeout. (Fragments newly found missing are always asked for once.)
   */
  maxRetries: number
}

export interface AcceptOptions {
  /** Whom to ask for the message's missing fragments (it is repairable). */
  repair?: RepairTarget | undefined
  /** The message was asked for whole: its fragments count as repaired. */
  askedWhole?: boolean | undefined
  /** The sender address, for the per-address caps. */
  source?: string
  /**
   * Bytes of the datagram the payload is a view of: what holding it as it came costs. Default: the
   * payload and a CRC (a payload that owns its memory).
   */
  datagramBytes?: number
}

/** One NACK to send: the fragments of `target` that are missing. */
export interface RepairRequest {
  target: RepairTarget
  ranges: FragmentRange[]
  /** Payload bytes of one fragment of the message (the last may be shorter). */
  fragmentSize: number
}

export type ReassemblyResult =
  | { status: 'complete'; message: Uint8Array }
  | { status: 'pending' }
  | { status: 'duplicate' }
  | { status: 'dropped'; reason: 'too-large' | 'fragment-mismatch' }

/** Why partial messages were given up, reported to the caller so it can count them per stream. */
export interface AbandonedMessage {
  key: string
  reason: 'reassembly-expired' | 'reassembly-evicted' | 'reassembly-unfinished'
}

/** Repair retries back off to this many times `retryMs` at most. */
export const REPAIR_BACKOFF_MAX = 4

/**
 * The wait before the `retries`-th ask again: `retryMs`, then twice and four times as long (a
 * publisher busy sending answers late; asking faster only multiplies its resends).
 */
export function retryDelay(retryMs: number, retries: number): number {
  return retryMs * Math.min(2 ** retries, REPAIR_BACKOFF_MAX)
}

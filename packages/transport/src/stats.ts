/** The snapshot shapes both ends report, and the counters they add up (a stream's live counters: `stream.ts`). */

import type { SealStats } from './seal/seal-stats.js'
import type { FlowStats } from './send/flow-gate.js'
import type { DropReason } from './wire/frame.js'

export interface StreamStats {
  /** The publisher's session id, 8 hex digits. */
  source: string
  /** Where the stream's datagrams came from (receive side) or go to (send side), `addr:port`. */
  address: string
  topic: string
  frames: number
  bytes: number
  datagrams: number
  /** Frames lost: skipped by sequence and not arrived late (receive side). */
  gaps: number
  duplicates: number
  reordered: number
  /**
   * Frames that arrived further from the stream's position than `MAX_SEQUENCE_JUMP`: a stranger's
   * claim, or a publisher heard again after a long loss (see WIRE.md “Loss accounting”).
   */
  jumps: number
  /** Times the stream moved to a confirmed new position (after such jumps). */
  resyncs: number
  /** Frames of this stream dropped after they were recognised, by reason. */
  drops: Partial<Record<DropReason, number>>
}

/** The counters of several streams added up (receive side: those no longer tracked). */
export type StreamTotals = Omit<StreamStats, 'source' | 'address' | 'topic'> & {
  /** How many streams were added up. */
  streams: number
}

export function emptyStreamTotals(): StreamTotals {
  return {
    streams: 0,
    frames: 0,
    bytes: 0,
    datagrams: 0,
    gaps: 0,
    duplicates: 0,
    reordered: 0,
    jumps: 0,
    resyncs: 0,
    drops: {},
  }
}

/** Adds one stream's counters to `totals`. */
export function addToTotals(totals: StreamTotals, stream: StreamStats): void {
  totals.streams++
  totals.frames += stream.frames
  totals.bytes += stream.bytes
  totals.datagrams += stream.datagrams
  totals.gaps += stream.gaps
  totals.duplicates += stream.duplicates
  totals.reordered += stream.reordered
  totals.jumps += stream.jumps
  totals.resyncs += stream.resyncs
  for (const [reason, count] of Object.entries(stream.drops))
    totals.drops[reason as DropReason] = (totals.drops[reason as DropReason] ?? 0) + (count ?? 0)
}

/**
 * The receive side's table of streams (see `receive/stream-table.ts`): how many are tracked, how
 * many were let go and why, and the counters of those let go, so that totals stay exact.
 */
export interface StreamTableStats {
  /** Streams tracked now. */
  active: number
  /** Streams let go to stay within the caps (least recently heard first). */
  evicted: number
  /** Streams let go after being idle for the idle time. */
  expired: number
  /** New streams not tracked: their address held as many established streams as it may (`streams-full`). */
  refused: number
  /** Counters of every stream let go, added up: `received` plus these are the totals. */
  retired: StreamTotals
}

/** Repair counters of a publisher or a subscriber (each side fills its own). */
/** A type, not an interface, so that it is a `Record<string, number>` to generic consumers (metrics). */
export type RepairStats = {
  /** NACKs sent (subscriber). */
  nacksSent: number
  /** NACKs not sent: the sender address had not sent enough to earn them (subscriber). */
  nacksSuppressed: number
  /** NACKs received for this publisher's messages (publisher). */
  nacksReceived: number
  /** Fragments sent again (publisher). */
  fragmentsResent: number
  /** Fragments that arrived after being asked for (subscriber). */
  fragmentsRepaired: number
  /** NACKs for messages no longer held, or not held at all (publisher). */
  unavailable: number
  /** NACKs whose answer stopped at their credit, a multiple of their own length (publisher). */
  creditLimited: number
  /** NACKs whose answer stopped at a resend rate cap, all requesters' or their own (publisher). */
  rateLimited: number
  /** Whole frames asked for by NACK_FRAMES, first asks and retries (subscriber). */
  framesAsked: number
  /** Missing frames given up on after the last retry; they stay counted lost (subscriber). */
  framesGivenUp: number
  /** Missing frames not asked for: more were wanted at once than the cap (subscriber). */
  framesNotAsked: number
  /** Whole datagrams (frames, batches) sent again from the sent log for NACK_FRAMES (publisher). */
  datagramsResent: number
  /**
   * Sequences `ordered` delivery moved past once their gap was given up; they stay counted lost
   * (subscriber).
   */
  orderSkipped: number
  /**
   * Forwarded streams whose sent-log index was forgotten to make room (a relay's output, past
   * MAX_FORWARDED_STREAMS): NACKs about them are `unavailable` (publisher).
   */
  forwardedEvicted: number
}

export function emptyRepairStats(): RepairStats {
  return {
    nacksSent: 0,
    nacksSuppressed: 0,
    nacksReceived: 0,
    fragmentsResent: 0,
    fragmentsRepaired: 0,
    unavailable: 0,
    creditLimited: 0,
    rateLimited: 0,
    framesAsked: 0,
    framesGivenUp: 0,
    framesNotAsked: 0,
    datagramsResent: 0,
    orderSkipped: 0,
    forwardedEvicted: 0,
  }
}

/**
 * What became of one datagram a subscriber read: exactly one per datagram, so they add up to
 * `datagramsIn`. `delivered`: a whole frame handed to the application (or, raw, the datagram);
 * `fragment`: a fragment taken for reassembly (its message, once whole, is delivered or dropped and
 * counted in `drops`); `batch`: a batch unpacked (its frames counted one by one in `drops` and their
 * streams); `forwarded`: handed to a relay; `filtered`: a topic not subscribed to; `duplicate`: a frame
 * or fragment seen before. On a publisher's socket: `ack` (counted), `nack` (answered as far as its
 * limits allow), `reply` (a plain datagram, raw mode), `foreign-ack` (for a session a relay
 * forwards). Anything else: the drop reason.
 */
export type DatagramOutcome =
  | 'delivered'
  | 'fragment'
  | 'batch'
  | 'forwarded'
  | 'filtered'
  | 'duplicate'
  | 'ack'
  | 'nack'
  | 'reply'
  | 'foreign-ack'
  | 'status'
  | 'heartbeat'
  /** A SCHEMA announce (or a fragment of one) taken in, whatever its verdict (counted in `schemas`). */
  | 'schema'
  /** A SCHEMA_REQUEST answered, refused by a limit, or passed upstream (a relay's output): see `schemas`. */
  | 'schema-request'
  /** A frame of a fingerprint asked for, held until its schema comes (delivered then, or counted `unknown-type`). */
  | 'schema-wait'
  | DropReason

export interface StatsSnapshot {
  sent: StreamStats[]
  received: StreamStats[]
  /** Every drop, by reason, including datagrams that could not be tied to a stream. */
  drops: Partial<Record<DropReason, number>>
  /** Repair of fragmented messages (WIRE.md “Repair”). */
  repair: RepairStats
  /** Receive side: the stream table's size, evictions and the counters of streams let go. */
  streams?: StreamTableStats
  /** Receive side: what became of every datagram read, one outcome each (they add up to `datagramsIn`). */
  outcomes?: Partial<Record<DatagramOutcome, number>>
  /** Receive side: datagrams the kernel dropped for the socket, its receive buffer full (Linux). */
  kernelDrops?: number
  /** HEARTBEAT frames sent, and refused by the kernel (publisher); taken (subscriber). */
  heartbeats?: { sent: number; received: number; failed?: number }
  /** Publisher with flow control: receivers tracked, back-pressure, position and limit (WIRE.md “STATUS”). */
  flow?: FlowStats
  /** Receive side: the publishers (sessions) heard, alive or gone (see WIRE.md “HEARTBEAT”). */
  sources?: { alive: number; gone: number }
  /**
   * Receive side, flow control: STATUS frames sent, and publishers not reported to because more
   * were heard at once than MAX_STATUS_SESSIONS (WIRE.md “STATUS”).
   */
  status?: { sent: number; sessionsRefused: number }
  /** In-band schemas (WIRE.md “Schemas”): announces and requests, sent and taken, by verdict. */
  schemas?: SchemaStats
  /** Keyed (WIRE.md “Sealing”): how this side seals, what it sealed and opened, senders tracked. */
  seal?: SealStats
  datagramsIn: number
  datagramsOut: number
  bytesIn: number
  bytesOut: number
}

export function countDrop(drops: Partial<Record<DropReason, number>>, reason: DropReason): void {
  drops[reason] = (drops[reason] ?? 0) + 1
}

/**
 * In-band schema counters (WIRE.md “Schemas”). A type, not an interface, so that it is a
 * `Record<string, number>` to generic consumers (metrics). Each side fills its own; the rest stay 0.
 */
export type SchemaStats = {
  /** SCHEMA announces sent (publisher): on a type's first send and in answer to requests. */
  announced: number
  /** Bytes of those announces' datagrams (publisher). */
  announcedBytes: number
  /** SCHEMA_REQUESTs sent (subscriber) or received for this publisher's session (publisher). */
  requested: number
  /** Requests not answered: the fingerprint was announced within the interval, or over the budget (publisher). */
  limited: number
  /** Requests for a fingerprint this publisher never sent, or whose schema it does not have (publisher). */
  unknown: number
  /** Announces that made a type known (subscriber). */
  accepted: number
  /** Announces of a type known already: nothing to do (subscriber). */
  known: number
  /** Announces refused: not well formed, or the fingerprint does not match the descriptor (subscriber). */
  rejected: number
  /** Requests not sent: the request rate was spent (subscriber). */
  requestsSuppressed: number
  /** Pending fingerprints let go to make room for a new one, the table full (subscriber). */
  pendingEvicted: number
  /** Fingerprints asked for and not known yet (subscriber). */
  pending: number
  /** Frames held for their schema (subscriber); those not `released` were counted `unknown-type`. */
  held: number
  /** Held frames handed out once their schema came (subscriber). */
  released: number
}

export function emptySchemaStats(): SchemaStats {
  return {
    announced: 0,
    announcedBytes: 0,
    requested: 0,
    limited: 0,
    unknown: 0,
    accepted: 0,
    known: 0,
    rejected: 0,
    requestsSuppressed: 0,
    pendingEvicted: 0,
    pending: 0,
    held: 0,
    released: 0,
  }
}

/** What a relay counts: every datagram, ack and heartbeat it handles, and the tables it fills. */
import type { AckRouteCounters } from './ack-routes.js'
import { RELAY_DROP_REASONS, type RelayDropReason } from './loop-guard.js'
import type { SchemaCounters } from './schema-requests.js'

export interface OutputCounters {
  readonly route: string
  /** Datagrams handed to this output. */
  sent: number
  /** Sends that failed (socket errors). */
  errors: number
  /** Datagrams larger than the output's budget, sent anyway: IP fragments them on the way. */
  oversize: number
}

/**
 * What became of each ack that arrived on an output socket: every one ends in exactly one of these,
 * once its send (if any) has finished.
 */
export interface AckCounters {
  /** Acks sent on towards their publisher. */
  forwarded: number
  /** Acks that are not what a receiver writes (several fragments, no valid receiver body). */
  malformed: number
  /** Acks for a session the relay has no way back for (never seen, forgotten, or refused). */
  unroutable: number
  /** Acks that had crossed `--max-hops` relays already. */
  'max-hops': number
  /** Acks whose send failed (socket errors). */
  errors: number
}

/** The tables the relay fills from what it receives; each has a cap and counts what it forgets. */
export const RELAY_TABLES = ['dedup', 'ack-routes'] as const
export type RelayTable = (typeof RELAY_TABLES)[number]

export interface TableCounters {
  /** Entries held now. */
  readonly entries: number
  /** Entries forgotten to make room for new ones. */
  readonly evicted: number
}

export interface HeartbeatCounters {
  /** HEARTBEAT frames that came in. */
  received: number
  /** Passed on to the outputs. */
  forwarded: number
  /** Not passed on: copies (a loop, a second path), the relay's own output, past --max-hops. */
  dropped: number
  /** Sent again when a session goes quiet, raised to what was forwarded, so its segment hears of a lost tail (`HeartbeatRepeats`). */
  repeated: number
  /** Repeats left out by their rate cap. */
  repeatLimited: number
}

export interface RelayCounters {
  /** Publishers' heartbeats, counted apart from frames (`received` and `forwarded` are frames). */
  readonly heartbeats: Readonly<HeartbeatCounters>
  /** Datagrams that came in (the frames of a batch one by one). */
  readonly received: number
  /** Datagrams forwarded to at least one output. */
  readonly forwarded: number
  /** Datagrams not forwarded, by reason; `received = forwarded + every drop`. */
  readonly dropped: Readonly<Record<RelayDropReason, number>>
  readonly outputs: readonly Readonly<OutputCounters>[]
  readonly acks: Readonly<AckCounters>
  /** In-band schemas: announces forwarded, requests passed upstream or why not. */
  readonly schemas: Readonly<SchemaCounters>
  /** The ways back for acks: frames that would have moved a pinned one, moves after idle, refusals. */
  readonly ackRoutes: Readonly<Omit<AckRouteCounters, 'evicted'>>
  readonly tables: Readonly<Record<RelayTable, TableCounters>>
}

/** Every drop, summed. */
export function totalDropped(counters: Pick<RelayCounters, 'dropped'>): number {
  let total = 0
  for (const reason of RELAY_DROP_REASONS) total += counters.dropped[reason]
  return total
}

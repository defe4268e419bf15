/**
 * A publisher's HEARTBEAT at a subscriber (WIRE.md “HEARTBEAT”): for each of its streams this
 * subscriber tracks, the frames up to the last one sent that have not arrived are gaps now (and
 * repairable ones are asked for); the publisher is heard, and answered with a STATUS (flow
 * control). Only from a stream's own sender: a stranger's heartbeat moves nothing. A relay's input
 * passes heartbeats on instead.
 */
import type { DatagramOutcome } from '../stats.js'
import { Flag } from '../wire/constants.js'
import type { FrameHeader } from '../wire/header.js'
import { decodeHeartbeatBody } from '../wire/heartbeat.js'
import type { ReceiveParts } from './parts.js'

/** Passes a datagram on to a relay, `foreign` when it did not come from its stream's own sender. */
export type ForwardHeartbeat = (foreign: boolean) => 'forwarded'

/**
 * Takes one HEARTBEAT (`data` the whole frame, `payload` its body) from `address:port`; returns its
 * outcome. `forward`: the subscriber is a relay's input.
 */
export function onHeartbeat(
  parts: ReceiveParts,
  forward: ForwardHeartbeat | undefined,
  header: FrameHeader,
  payload: Uint8Array,
  data: Uint8Array,
  address: string,
  port: number,
  now: number,
): DatagramOutcome {
  const entries = decodeHeartbeatBody(payload)
  if (entries === undefined) {
    parts.tally.drop('bad-heartbeat', undefined, address, port)
    return 'bad-heartbeat'
  }
  parts.counters.heartbeatsReceived++
  const { sessionId } = header
  const flagged = (header.flags & Flag.FOREIGN) !== 0
  // The lost tails of the streams of its session from its sender are asked for (a relay's input
  // too: hop by hop); a stranger's heartbeat moves nothing.
  let own = false
  for (const { topic, sequence } of entries) {
    const stream = parts.streams.find(sessionId, topic)
    if (stream === undefined || stream.isForeign(address, port, now, flagged)) continue
    own = true
    const missing = stream.tracker.tail(sequence, now)
    if (missing > 0) parts.repairs?.tail(stream, sessionId, topic, sequence, missing, address, port)
  }
  // Relays pass it on, marked foreign unless it came from a stream's own sender: receivers beyond
  // then let a stranger's heartbeat move nothing.
  if (forward !== undefined) return forward(!own)
  if (own) parts.sources.heartbeat(sessionId, now)
  // Flow control: the publisher hears from this receiver (its group forms, it keeps it); a
  // relay's forwarded heartbeat gets nothing (the relay is not the publisher).
  if (header.hops === 0) parts.status?.heartbeat(sessionId, address, port, data.length, now)
  return 'heartbeat'
}

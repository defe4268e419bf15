/**
 * HEARTBEAT frames: a publisher's `[topic, last sequence sent]` list, sent when it goes quiet and at
 * least every second, so that receivers see loss after a stream's last frame and tell a quiet
 * publisher from a gone one. See WIRE.md (“HEARTBEAT”).
 *
 * Datagram = header (kind HEARTBEAT, topic `*`, the publisher's session, sequence = heartbeat
 * counter, fingerprint 0, one fragment) · payload: ( u8 topic length T · topic · u32 last sequence )*
 * · CRC-32.
 */

import { encodeControlFrame } from './ack.js'
import { CRC_LENGTH, FIXED_HEADER_LENGTH, FrameKind } from './constants.js'
import { encodeTopic } from './header.js'
import {
  readTopicEntries,
  TOPIC_ENTRY_OVERHEAD,
  type TopicSequence,
  type TopicSequenceEntry,
  topicEntryPayloads,
} from './topic-entries.js'

/** The topic of a HEARTBEAT frame (its entries name the real ones). */
export const HEARTBEAT_TOPIC = '*'
const HEARTBEAT_TOPIC_BYTES = encodeTopic(HEARTBEAT_TOPIC)
/** Bytes of one entry beside its topic: the length byte and the u32 sequence. */
export const HEARTBEAT_ENTRY_OVERHEAD = TOPIC_ENTRY_OVERHEAD
/** Entries read from one heartbeat, at most: a longer payload is refused (`bad-heartbeat`). */
export const MAX_HEARTBEAT_ENTRIES = 1_024

/** A heartbeat entry: `sequence` is the last sequence the publisher sent on `topic`. */
export type HeartbeatEntry = TopicSequenceEntry

/** A topic ready to be listed: its name's bytes and its last sequence. */
export type HeartbeatTopic = TopicSequence

/**
 * The heartbeat datagrams for `topics`: as many entries in each as fit `budget`, numbered from
 * `counter` on. Each datagram is self-contained. No topics: one heartbeat with no entries (a
 * publisher that has sent no frame yet announcing itself, so receivers report to it: a required
 * group forms before the first frame).
 */
export function encodeHeartbeats(
  sessionId: number,
  counter: number,
  topics: readonly HeartbeatTopic[],
  budget: number,
): Uint8Array[] {
  const room = budget - FIXED_HEADER_LENGTH - HEARTBEAT_TOPIC_BYTES.length - CRC_LENGTH
  const payloads =
    topics.length === 0 ? [new Uint8Array(0)] : topicEntryPayloads(topics, 0, room, MAX_HEARTBEAT_ENTRIES)
  return payloads.map((payload, i) =>
    encodeControlFrame(
      FrameKind.HEARTBEAT,
      { sessionId, sequence: (counter + i) >>> 0, topic: HEARTBEAT_TOPIC },
      payload,
    ),
  )
}

/**
 * Reads a heartbeat's entries (none: an announcement); undefined when the payload is not whole
 * entries (each a topic of 1–255 bytes of UTF-8 and a sequence) or has more than
 * {@link MAX_HEARTBEAT_ENTRIES}.
 */
export function decodeHeartbeatBody(payload: Uint8Array): HeartbeatEntry[] | undefined {
  return readTopicEntries(payload, 0, MAX_HEARTBEAT_ENTRIES)
}

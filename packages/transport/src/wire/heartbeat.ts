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
import { CRC_LENGTH, FIXED_HEADER_LENGTH, FrameKind, LITTLE_ENDIAN, MAX_TOPIC_BYTES } from './constants.js'
import { encodeTopic } from './header.js'

/** The topic of a HEARTBEAT frame (its entries name the real ones). */
export const HEARTBEAT_TOPIC = '*'
const HEARTBEAT_TOPIC_BYTES = encodeTopic(HEARTBEAT_TOPIC)
/** Bytes of one entry beside its topic: the length byte and the u32 sequence. */
export const HEARTBEAT_ENTRY_OVERHEAD = 1 + 4
/** Entries read from one heartbeat, at most: a longer payload is refused (`bad-heartbeat`). */
export const MAX_HEARTBEAT_ENTRIES = 1_024

export interface HeartbeatEntry {
  readonly topic: string
  /** The last sequence the publisher sent on `topic`. */
  readonly sequence: number
}

/** A topic ready to be listed: its name's bytes and its last sequence. */
export interface HeartbeatTopic {
  readonly topicBytes: Uint8Array
  readonly sequence: number
}

/**
 * The heartbeat datagrams for `topics`: as many entries in each as fit `budget`, numbered from
 * `counter` on. Each datagram is self-contained.
 */
export function encodeHeartbeats(
  sessionId: number,
  counter: number,
  topics: readonly HeartbeatTopic[],
  budget: number,
): Uint8Array[] {
  const room = budget - FIXED_HEADER_LENGTH - HEARTBEAT_TOPIC_BYTES.length - CRC_LENGTH
  const datagrams: Uint8Array[] = []
  let start = 0
  while (start < topics.length) {
    let bytes = 0
    let end = start
    while (end < topics.length) {
      const entry = HEARTBEAT_ENTRY_OVERHEAD + topics[end]!.topicBytes.length
      if (bytes + entry > room || end - start === MAX_HEARTBEAT_ENTRIES) break
      bytes += entry
      end++
    }
    const payload = new Uint8Array(bytes)
    const view = new DataView(payload.buffer)
    let at = 0
    for (let i = start; i < end; i++) {
      const { topicBytes, sequence } = topics[i]!
      payload[at] = topicBytes.length
      payload.set(topicBytes, at + 1)
      view.setUint32(at + 1 + topicBytes.length, sequence, LITTLE_ENDIAN)
      at += HEARTBEAT_ENTRY_OVERHEAD + topicBytes.length
    }
    const sequence = (counter + datagrams.length) >>> 0
    datagrams.push(
      encodeControlFrame(FrameKind.HEARTBEAT, { sessionId, sequence, topic: HEARTBEAT_TOPIC }, payload),
    )
    start = end
  }
  return datagrams
}

const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Reads a heartbeat's entries; undefined when the payload is not whole entries (each a topic of
 * 1–255 bytes of UTF-8 and a sequence), or has more than {@link MAX_HEARTBEAT_ENTRIES}.
 */
export function decodeHeartbeatBody(payload: Uint8Array): HeartbeatEntry[] | undefined {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length)
  const entries: HeartbeatEntry[] = []
  let at = 0
  while (at < payload.length) {
    const length = payload[at]!
    if (length === 0 || length > MAX_TOPIC_BYTES || at + HEARTBEAT_ENTRY_OVERHEAD + length > payload.length)
      return undefined
    if (entries.length === MAX_HEARTBEAT_ENTRIES) return undefined
    let topic: string
    try {
      topic = decoder.decode(payload.subarray(at + 1, at + 1 + length))
    } catch {
      return undefined
    }
    entries.push({ topic, sequence: view.getUint32(at + 1 + length, LITTLE_ENDIAN) })
    at += HEARTBEAT_ENTRY_OVERHEAD + length
  }
  return entries.length === 0 ? undefined : entries
}

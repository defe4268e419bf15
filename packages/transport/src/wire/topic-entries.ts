/**
 * The `[topic, sequence]` entry list that HEARTBEAT and STATUS payloads share:
 * ( u8 topic length T · topic: T bytes of UTF-8 · u32 sequence )*. One codec, so both read and
 * split the list the same way. See WIRE.md (“HEARTBEAT”, “STATUS”).
 */
import { LITTLE_ENDIAN, MAX_TOPIC_BYTES } from './constants.js'

/** Bytes of one entry beside its topic: the length byte and the u32 sequence. */
export const TOPIC_ENTRY_OVERHEAD = 1 + 4

/** An entry read from the wire. What `sequence` means is the frame kind's (last sent, next wanted). */
export interface TopicSequenceEntry {
  readonly topic: string
  readonly sequence: number
}

/** An entry ready to be written: its topic's bytes (1–255, as `encodeTopic` returns them) and sequence. */
export interface TopicSequence {
  readonly topicBytes: Uint8Array
  readonly sequence: number
}

/**
 * Splits `topics` into payloads of at most `room` bytes each (a datagram's payload room): a
 * `prefix`-byte fixed part, left zero for the caller to fill, then as many entries as fit, at most
 * `maxEntries`. Every payload takes at least one entry, so the split always ends (an entry is at
 * most 260 bytes: any budget of at least `MIN_DATAGRAM_BUDGET` has room for one beside a header).
 * `atLeastOne`: with no topics, one payload of the prefix alone instead of none.
 */
export function topicEntryPayloads(
  topics: readonly TopicSequence[],
  prefix: number,
  room: number,
  maxEntries: number,
  atLeastOne = false,
): Uint8Array[] {
  const payloads: Uint8Array[] = []
  let start = 0
  while (start < topics.length) {
    let bytes = prefix + TOPIC_ENTRY_OVERHEAD + topics[start]!.topicBytes.length
    let end = start + 1
    while (end < topics.length && end - start < maxEntries) {
      const entry = TOPIC_ENTRY_OVERHEAD + topics[end]!.topicBytes.length
      if (bytes + entry > room) break
      bytes += entry
      end++
    }
    const payload = new Uint8Array(bytes)
    const view = new DataView(payload.buffer)
    let at = prefix
    for (let i = start; i < end; i++) {
      const { topicBytes, sequence } = topics[i]!
      payload[at] = topicBytes.length
      payload.set(topicBytes, at + 1)
      view.setUint32(at + 1 + topicBytes.length, sequence, LITTLE_ENDIAN)
      at += TOPIC_ENTRY_OVERHEAD + topicBytes.length
    }
    payloads.push(payload)
    start = end
  }
  if (payloads.length === 0 && atLeastOne) payloads.push(new Uint8Array(prefix))
  return payloads
}

const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Reads the entries of `payload` from byte `from` to its end; undefined when they are not whole
 * entries (each a topic of 1–255 bytes of UTF-8 and a sequence), or more than `maxEntries`.
 * Zero entries is an empty list: whether that is allowed is the frame kind's to say.
 */
export function readTopicEntries(
  payload: Uint8Array,
  from: number,
  maxEntries: number,
): TopicSequenceEntry[] | undefined {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length)
  const entries: TopicSequenceEntry[] = []
  let at = from
  while (at < payload.length) {
    const length = payload[at]!
    if (length === 0 || length > MAX_TOPIC_BYTES || at + TOPIC_ENTRY_OVERHEAD + length > payload.length)
      return undefined
    if (entries.length === maxEntries) return undefined
    let topic: string
    try {
      topic = decoder.decode(payload.subarray(at + 1, at + 1 + length))
    } catch {
      return undefined // not UTF-8
    }
    entries.push({ topic, sequence: view.getUint32(at + 1 + length, LITTLE_ENDIAN) })
    at += TOPIC_ENTRY_OVERHEAD + length
  }
  return entries
}

/**
 * STATUS frames: a receiver's flow-control status, sent by unicast to a publisher's address and
 * port, so that the publisher can keep its sending within what its receivers can take. See WIRE.md
 * (“STATUS”).
 *
 * Datagram = header (kind STATUS, topic `*`, session = the publisher's reported on, sequence = the
 * receiver's status counter, fingerprint 0, one fragment) · payload: u32 receiver session · u32
 * window bytes · ( u8 topic length T · topic · u32 next sequence )* · CRC-32.
 */
import { encodeControlFrame } from './ack.js'
import { CRC_LENGTH, FIXED_HEADER_LENGTH, Flag, FrameKind, LITTLE_ENDIAN } from './constants.js'
import { writeCrc } from './frame.js'
import { encodeTopic, setFlags } from './header.js'
import {
  readTopicEntries,
  type TopicSequence,
  type TopicSequenceEntry,
  topicEntryPayloads,
} from './topic-entries.js'

/** The topic of a STATUS frame (its entries name the real ones), as for a HEARTBEAT. */
export const STATUS_TOPIC = '*'
const STATUS_TOPIC_BYTES = encodeTopic(STATUS_TOPIC)
/** u32 receiver session id, u32 window bytes, then the entries. */
export const STATUS_RECEIVER_OFFSET = 0
export const STATUS_WINDOW_OFFSET = 4
export const STATUS_ENTRIES_OFFSET = 8
/**
 * Entries in one STATUS, at most: a longer payload is refused (`bad-status`). A receiver tracking
 * more of a publisher's topics, or with more than fit its datagram budget, sends several.
 */
export const MAX_STATUS_ENTRIES = 1_024
/**
 * The largest window a STATUS can state (u32). A larger one is sent as this: 4 GiB ahead is no
 * limit in practice, and wrapping it to a small number would stall the publisher.
 */
export const MAX_STATUS_WINDOW_BYTES = 0xffff_ffff

/** A STATUS entry: every frame of `topic` before `sequence` has been consumed. */
export type StatusEntry = TopicSequenceEntry

/** A topic ready to be reported: its name's bytes and the next sequence the receiver waits for. */
export type StatusTopic = TopicSequence

export interface StatusBody {
  /** The reporting receiver (random per receiver start, as in ACK and NACK). */
  receiverSession: number
  /** How many more bytes of datagrams the receiver can take beyond what it has consumed. */
  windowBytes: number
  /**
   * Per topic of the publisher's that the receiver has seen, the next sequence it waits for: each
   * frame before it was consumed (delivered, or given up and counted lost). None: the receiver has
   * seen no frame of the publisher yet and announces itself.
   */
  entries: StatusEntry[]
}

/**
 * The STATUS datagrams of one receiver about one publisher: as many entries in each as fit
 * `budget`, numbered from `counter` on, each self-contained (receiver session and window in every
 * one). Always at least one datagram: with no topics, one that only announces the receiver.
 */
export function encodeStatuses(
  publisherSession: number,
  receiverSession: number,
  counter: number,
  windowBytes: number,
  topics: readonly StatusTopic[],
  budget: number,
): Uint8Array[] {
  const room = budget - FIXED_HEADER_LENGTH - STATUS_TOPIC_BYTES.length - CRC_LENGTH
  const window = Math.min(Math.max(0, Math.floor(windowBytes)), MAX_STATUS_WINDOW_BYTES)
  const payloads = topicEntryPayloads(topics, STATUS_ENTRIES_OFFSET, room, MAX_STATUS_ENTRIES, true)
  return payloads.map((payload, i) => {
    const view = new DataView(payload.buffer)
    view.setUint32(STATUS_RECEIVER_OFFSET, receiverSession, LITTLE_ENDIAN)
    view.setUint32(STATUS_WINDOW_OFFSET, window, LITTLE_ENDIAN)
    return encodeControlFrame(
      FrameKind.STATUS,
      { sessionId: publisherSession, sequence: (counter + i) >>> 0, topic: STATUS_TOPIC },
      payload,
    )
  })
}

/**
 * A receiver's last STATUS to a publisher, as it closes: no entries, window 0, flag `LEAVING`
 * (WIRE.md “STATUS”): the publisher lets it go at once.
 */
export function encodeLeavingStatus(
  publisherSession: number,
  receiverSession: number,
  counter: number,
): Uint8Array {
  const [datagram] = encodeStatuses(
    publisherSession,
    receiverSession,
    counter,
    0,
    [],
    Number.MAX_SAFE_INTEGER,
  )
  setFlags(datagram!, 0, Flag.LEAVING)
  writeCrc(datagram!, 0, datagram!.length)
  return datagram!
}

/**
 * Reads a STATUS payload; undefined when it is shorter than the receiver session and window, or
 * the rest is not whole entries (each a topic of 1–255 bytes of UTF-8 and a sequence), or has more
 * than {@link MAX_STATUS_ENTRIES}. No entries is valid: a receiver announcing itself.
 */
export function decodeStatusBody(payload: Uint8Array): StatusBody | undefined {
  if (payload.length < STATUS_ENTRIES_OFFSET) return undefined
  const entries = readTopicEntries(payload, STATUS_ENTRIES_OFFSET, MAX_STATUS_ENTRIES)
  if (entries === undefined) return undefined
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length)
  return {
    receiverSession: view.getUint32(STATUS_RECEIVER_OFFSET, LITTLE_ENDIAN),
    windowBytes: view.getUint32(STATUS_WINDOW_OFFSET, LITTLE_ENDIAN),
    entries,
  }
}

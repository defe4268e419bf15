/**
 * How Shoal lays frames out in MCAP, shared by the writer and the reader (and documented in the
 * README's "MCAP layout" table).
 *
 * - One Schema per message type: name `shoal.v1.Imu`, encoding `protobuf`, data the type's
 *   `FileDescriptorSet` (with imports), so any MCAP reader decodes the messages without Shoal.
 * - One Channel per topic *and* sender: topic = the Shoal topic, message encoding `protobuf`, and
 *   the sender in its metadata (MCAP messages have no metadata of their own). A new session, source
 *   address or hop count of a topic opens a new channel of that topic, so each channel is one
 *   sequence-numbered stream, as Shoal's receivers count them.
 * - Message: sequence = the frame's sequence number, log time = receive time, publish time = the
 *   message header's `stamp_ns` (the receive time when the message has none), data = the payload.
 * - A frame of a type Shoal does not know (no descriptor to give) goes to a channel with no schema
 *   (schema id 0), message encoding `protobuf`: kept for replay, undecodable for other readers.
 */

/** Channel metadata keys. */
export const META_SESSION = 'shoal.session'
export const META_SOURCE = 'shoal.source'
export const META_FINGERPRINT = 'shoal.fingerprint'
export const META_HOPS = 'shoal.hops'

/** MCAP's message and schema encoding for protobuf. */
export const PROTOBUF_ENCODING = 'protobuf'

/** The MCAP file suffix: `--record FILE.mcap` writes MCAP. */
export const MCAP_SUFFIX = '.mcap'

/** Whether a path names an MCAP file (its suffix, case-insensitive). */
export function isMcapPath(path: string): boolean {
  return path.toLowerCase().endsWith(MCAP_SUFFIX)
}

/**
 * Every number of the Shoal wire format, in one place. The byte diagram is in WIRE.md.
 *
 * Byte order: network byte order (big-endian), stated once here and passed explicitly to every
 * DataView call as `LITTLE_ENDIAN`.
 */

/** DataView's `littleEndian` argument for every read and write: network byte order. */
export const LITTLE_ENDIAN = false

/** `S` `H`: the first two bytes of every Shoal datagram. */
export const MAGIC = 0x5348
export const WIRE_VERSION = 1

/** Offsets of the fixed header fields, in bytes from the start of a frame. */
export const Offset = {
  MAGIC: 0, // u16
  VERSION: 2, // u8
  KIND: 3, // u8
  FLAGS: 4, // u16
  HOPS: 6, // u8
  TOPIC_LENGTH: 7, // u8
  SESSION: 8, // u32
  SEQUENCE: 12, // u32
  FINGERPRINT: 16, // u32
  MESSAGE_LENGTH: 20, // u32
  FRAGMENT_OFFSET: 24, // u32
  FRAGMENT_INDEX: 28, // u16
  FRAGMENT_COUNT: 30, // u16
  HEADER_LENGTH: 32, // u16
  PAYLOAD_LENGTH: 34, // u16
  TOPIC: 36, // TOPIC_LENGTH bytes of UTF-8
} as const

/** Size of the fixed part of the header, before the topic. */
export const FIXED_HEADER_LENGTH = 36
/** Largest header (u16 header length): fixed part, topic and extension. */
export const MAX_HEADER_LENGTH = 0xffff
/** The CRC32 trailer after the payload. */
export const CRC_LENGTH = 4
/** Topic names are 1..255 bytes of UTF-8. */
export const MAX_TOPIC_BYTES = 255
/** Most fragments one message may be split into (u16 count). */
export const MAX_FRAGMENTS = 0xffff
/** Largest UDP payload over IPv4 (65,535 − 20 IP − 8 UDP). */
export const MAX_DATAGRAM_BYTES = 65_507
/** Largest UDP payload over IPv6 without jumbograms, on loopback's 65,536 MTU (65,536 − 40 − 8). */
export const MAX_DATAGRAM_BYTES_IPV6 = 65_488
/** Smallest datagram budget accepted: room for the largest header and some payload. */
export const MIN_DATAGRAM_BUDGET = 512
/** Default budgets on a 1500-byte Ethernet MTU: 1500 − 20 IPv4 − 8 UDP; 1500 − 40 IPv6 − 8 UDP. */
export const DEFAULT_DATAGRAM_BUDGET_IPV4 = 1_472
export const DEFAULT_DATAGRAM_BUDGET_IPV6 = 1_452
/** IP + UDP header bytes subtracted from an interface MTU to get the datagram budget. */
export const IPV4_UDP_OVERHEAD = 28
export const IPV6_UDP_OVERHEAD = 48

/** Frame kinds (byte 3). Values not listed are rejected as `unknown-kind`. */
export const FrameKind = {
  /** A message, or one fragment of one. */
  DATA: 0,
  /** A receiver's acknowledgement of one DATA frame, sent by unicast to the frame's source. */
  ACK: 1,
  /** A receiver's repair request: fragments of one message it is missing (see WIRE.md “Repair”). */
  NACK: 2,
  /**
   * A publisher's last sequence per topic, sent when it goes quiet and at least every second, so
   * receivers see the loss of a stream's last frames and tell a quiet publisher from a gone one
   * (see WIRE.md “HEARTBEAT”).
   */
  HEARTBEAT: 3,
  /** Several small DATA frames batched in one datagram. */
  BATCH: 4,
  /**
   * A receiver's flow-control status, sent by unicast to a publisher: how many more bytes it can
   * take and the next sequence it waits for per topic, so the publisher can pace itself to its
   * receivers (see WIRE.md “STATUS”). Peers from before it drop it as `unknown-kind`.
   */
  STATUS: 5,
  /**
   * A receiver's repair request for whole frames of one stream, by sequence ranges: the NACK for
   * what fragment ranges cannot name (small and batched frames, messages it saw nothing of). See
   * WIRE.md “NACK by sequence”. Peers from before it drop it as `unknown-kind`.
   */
  NACK_FRAMES: 6,
  /**
   * A publisher's schema announce: the type named by the topic, whose fingerprint is in the
   * header, defined by the binary FileDescriptorSet in the payload; fragmented like a large DATA
   * message (see WIRE.md “Schemas”). Peers from before it drop it as `unknown-kind`.
   */
  SCHEMA: 7,
  /**
   * A receiver's request for the schema of a fingerprint it met and does not know, by unicast to
   * the frames' sender (a publisher, or a relay that passes it upstream). Peers from before it drop
   * it as `unknown-kind`.
   */
  SCHEMA_REQUEST: 8,
} as const
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind]
/**
 * The highest kind this version knows. Kinds are numbered without gaps, so a decoder needs no table:
 * any kind above it is from a later version and is dropped (`unknown-kind`).
 */
export const MAX_FRAME_KIND = FrameKind.SCHEMA_REQUEST

/** Flag bits (bytes 4–5). Bits 0–7 must be understood: a frame with an unknown one is rejected. */
export const Flag = {
  /** The publisher asks every receiver for an ACK frame. */
  ACK_REQUEST: 1 << 0,
  /**
   * Sealed with a group key (WIRE.md “Sealing”): key id, salt and counter open the header
   * extension, a 16-byte AEAD tag follows the payload (counted in its length).
   */
  AUTHENTICATED: 1 << 1,
  /** The sealed payload is encrypted (always together with AUTHENTICATED). */
  ENCRYPTED: 1 << 2,
  /**
   * Informational: the publisher holds this fragmented message for repair, so a receiver missing
   * some of its fragments may ask for them with a NACK. Relays clear it (they hold nothing).
   */
  REPAIRABLE: 1 << 8,
  /**
   * Informational: a relay forwarded this frame although it came from another sender than the
   * frames of its stream the relay had (a forgery, or a second path): receivers deliver it but let
   * it move nothing and count in no gap (WIRE.md “Loss accounting”, “Relays”).
   */
  FOREIGN: 1 << 9,
  /**
   * Informational, on a STATUS: the receiver is closing and reports no more; its publisher stops
   * waiting for it at once instead of after its receiver timeout (WIRE.md “STATUS”). A publisher
   * that does not know the bit takes the frame as a plain STATUS with window 0 and lets the
   * receiver go at its timeout.
   */
  LEAVING: 1 << 10,
} as const
/** Flags this version implements. A frame with another must-understand bit set is dropped. */
export const KNOWN_FLAGS = Flag.ACK_REQUEST | Flag.AUTHENTICATED | Flag.ENCRYPTED
/** Bits 0–7: must understand. Bits 8–15: informational, ignored when unknown. */
export const MUST_UNDERSTAND_FLAGS = 0x00ff

/** Default receive-side limits (see WIRE.md “Limits”). */
export const Limits = {
  /** Largest message a receiver reassembles, bytes. */
  MAX_MESSAGE_BYTES: 64 * 1024 * 1024,
  /** Partial messages held at once before the oldest is evicted. */
  MAX_PARTIAL_MESSAGES: 128,
  /** Bytes held by partial messages before the oldest is evicted. */
  MAX_PARTIAL_BYTES: 256 * 1024 * 1024,
  /** Partial messages from one sender address before its oldest is evicted. */
  MAX_PARTIAL_MESSAGES_PER_SOURCE: 64,
  /** Bytes held by the partial messages of one sender address before its oldest is evicted. */
  MAX_PARTIAL_BYTES_PER_SOURCE: 128 * 1024 * 1024,
  /** A partial message with no new fragment for this long is expired, ms. */
  REASSEMBLY_TIMEOUT_MS: 2_000,
  /** Default relay hop limit. */
  MAX_HOPS: 8,
} as const

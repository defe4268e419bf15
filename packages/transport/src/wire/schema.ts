/**
 * SCHEMA and SCHEMA_REQUEST frames: a publisher announces the schema of a type it sends (its full
 * name, fingerprint and binary FileDescriptorSet), and a receiver that met a fingerprint it does
 * not know asks for it. See WIRE.md (“Schemas”).
 *
 * An announce is laid out like a DATA message so that it rides the same paths: fragmented to the
 * datagram budget, sealed datagram by datagram, forwarded by relays fragment by fragment, reassembled
 * under the receivers' limits. Its topic is the type's full name (a capture shows what it
 * defines), its fingerprint the type's, its sequence the publisher's announce counter.
 */
import { CRC_LENGTH, FIXED_HEADER_LENGTH, FrameKind, LITTLE_ENDIAN } from './constants.js'
import { type FragmentParts, fragmentParts } from './fragment.js'
import { encodedFrameLength, encodeFrameInto } from './frame.js'
import { encodeTopic, type FrameHeader } from './header.js'

/**
 * Largest FileDescriptorSet announced or accepted, bytes. Real sets are a few KiB (a type, its
 * imports and the well-known types it uses); a cap keeps a stranger's announce from costing a
 * receiver more than this to reassemble and parse.
 */
export const SCHEMA_MAX_BYTES = 1024 * 1024

/** SCHEMA_REQUEST payload: the requesting receiver's session id (u32), and nothing else. */
export const SCHEMA_REQUEST_RECEIVER_OFFSET = 0
export const SCHEMA_REQUEST_PAYLOAD_BYTES = 4

export interface SchemaAnnounce {
  /** The announcing publisher's session. */
  sessionId: number
  /** The publisher's announce counter. */
  sequence: number
  /** The type's full protobuf name, e.g. `acme.v1.Wind` (1..255 bytes of UTF-8, it is the topic). */
  typeName: string
  fingerprint: number
  /** Binary `google.protobuf.FileDescriptorSet` that defines the type and what it imports. */
  descriptorSet: Uint8Array
}

/**
 * An announce as datagrams of at most `budget` bytes: one, or fragments like a DATA message's.
 * Throws `SHOAL_BAD_TOPIC` for a type name that cannot be a topic.
 */
export function encodeSchemaAnnounce(announce: SchemaAnnounce, budget: number): FragmentParts[] {
  return fragmentParts(
    {
      kind: FrameKind.SCHEMA,
      flags: 0,
      hops: 0,
      topic: announce.typeName,
      sessionId: announce.sessionId,
      sequence: announce.sequence,
      fingerprint: announce.fingerprint,
      extensionLength: 0,
    },
    encodeTopic(announce.typeName),
    announce.descriptorSet,
    budget,
  )
}

export interface SchemaRequest {
  /** The session of the frames whose type is unknown (the publisher asked). */
  sessionId: number
  /** The topic those frames came on: a relay finds the stream's sender by it. */
  topic: string
  /** The requesting receiver's request counter. */
  sequence: number
  /** The fingerprint whose schema is wanted (never 0). */
  fingerprint: number
  /** The requesting receiver's session id (random per start, as in ACK and NACK). */
  receiverSession: number
}

/** One SCHEMA_REQUEST datagram. */
export function encodeSchemaRequest(request: SchemaRequest): Uint8Array {
  const topicBytes = encodeTopic(request.topic)
  const payload = new Uint8Array(SCHEMA_REQUEST_PAYLOAD_BYTES)
  new DataView(payload.buffer).setUint32(
    SCHEMA_REQUEST_RECEIVER_OFFSET,
    request.receiverSession,
    LITTLE_ENDIAN,
  )
  const header: FrameHeader = {
    kind: FrameKind.SCHEMA_REQUEST,
    flags: 0,
    hops: 0,
    topic: request.topic,
    sessionId: request.sessionId,
    sequence: request.sequence,
    fingerprint: request.fingerprint,
    messageLength: payload.length,
    fragmentOffset: 0,
    fragmentIndex: 0,
    fragmentCount: 1,
    payloadLength: payload.length,
    extensionLength: 0,
  }
  const out = new Uint8Array(encodedFrameLength(header, topicBytes))
  encodeFrameInto(header, topicBytes, payload, out, 0)
  return out
}

/** Bytes of a SCHEMA_REQUEST on `topic` (unsealed). */
export function schemaRequestLength(topic: string): number {
  return FIXED_HEADER_LENGTH + encodeTopic(topic).length + SCHEMA_REQUEST_PAYLOAD_BYTES + CRC_LENGTH
}

/**
 * The receiver session of a SCHEMA_REQUEST (its header checked by `decodeFrame`); undefined when
 * the payload is not exactly a u32, it is fragmented, or it asks for fingerprint 0 (`bad-schema-request`).
 */
export function decodeSchemaRequest(header: FrameHeader, payload: Uint8Array): number | undefined {
  if (header.fragmentCount !== 1 || header.fingerprint === 0) return undefined
  if (payload.length !== SCHEMA_REQUEST_PAYLOAD_BYTES) return undefined
  return new DataView(payload.buffer, payload.byteOffset, payload.length).getUint32(
    SCHEMA_REQUEST_RECEIVER_OFFSET,
    LITTLE_ENDIAN,
  )
}

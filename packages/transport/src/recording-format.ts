/**
 * The recording format: received frames appended to a file, one record each, so a receiver can
 * record and a sender can replay. Append-only; each record is length-prefixed and CRC-checked, so
 * after a kill at most the record being written is lost, and a reader skips a damaged record (or
 * bytes that are no record) and goes on at the next good one.
 *
 * File   = "SHOALREC" (8 bytes) · u16 format version (2) · u16 reserved (0) · record*
 * Record = u32 body length · u32 CRC-32 of body · body
 * Body   = u64 receive time, ns since the Unix epoch · u32 session · u32 sequence · u32 fingerprint
 *          · u8 hops · u8 topic length T · u8 source address length A · u8 kind
 *          · topic (T bytes UTF-8) · source address (A bytes ASCII) · payload (the rest)
 * All integers big-endian.
 *
 * Kind 0 is a frame. Kind 1 (version 2) is a type's schema, written before the first frame of that
 * type in each file when the writer knows it: fingerprint = the type's, topic = its full name,
 * payload = its binary protobuf `FileDescriptorSet`; session, sequence, hops 0, no source. So a file
 * of types a reader does not know still decodes. Version 1 files (kind 0 only) read as before; a
 * version-1 reader refuses version 2 files rather than take a schema for a frame.
 */
import { LITTLE_ENDIAN } from './wire/constants.js'
import { crc32 } from './wire/crc.js'

export const RECORDING_MAGIC = 'SHOALREC'
/** The version written. */
export const RECORDING_VERSION = 2
/** The versions read: 1 (frames only) and 2 (frames and schemas). */
export const RECORDING_READ_VERSIONS: readonly number[] = [1, 2]
/** A record's kind (the body's last fixed byte): a frame, or a type's schema (version 2). */
export const RECORD_KIND_FRAME = 0
export const RECORD_KIND_SCHEMA = 1
export const RECORDING_FILE_HEADER_LENGTH = 12
export const RECORD_PREFIX_LENGTH = 8
export const RECORD_FIXED_BODY_LENGTH = 24
/** Largest record body a reader accepts (a 64 MiB message plus its metadata). */
export const MAX_RECORD_BODY = 64 * 1024 * 1024 + 1024
/** Default size at which a recording rotates to a new file. */
export const DEFAULT_ROTATE_BYTES = 256 * 1024 * 1024
/** Rotated files kept: FILE.1 … FILE.N, oldest dropped. */
export const DEFAULT_ROTATE_KEEP = 5

export interface RecordedFrame {
  /** Receive time, ns since the Unix epoch. */
  receivedAtNs: bigint
  sessionId: number
  sequence: number
  fingerprint: number
  hops: number
  topic: string
  source: string
  payload: Uint8Array
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** A frame record. (One argument only: `frames.map(encodeRecord)` must not pass an index as a kind.) */
export function encodeRecord(frame: RecordedFrame): Uint8Array {
  return encodeRecordOfKind(frame, RECORD_KIND_FRAME)
}

function encodeRecordOfKind(frame: RecordedFrame, kind: number): Uint8Array {
  const topic = encoder.encode(frame.topic)
  const source = encoder.encode(frame.source)
  if (topic.length > 255 || source.length > 255) throw new RangeError('topic or source longer than 255 bytes')
  const bodyLength = RECORD_FIXED_BODY_LENGTH + topic.length + source.length + frame.payload.length
  const out = new Uint8Array(RECORD_PREFIX_LENGTH + bodyLength)
  const view = new DataView(out.buffer)
  const b = RECORD_PREFIX_LENGTH
  view.setUint32(0, bodyLength, LITTLE_ENDIAN)
  view.setBigUint64(b, frame.receivedAtNs, LITTLE_ENDIAN)
  view.setUint32(b + 8, frame.sessionId, LITTLE_ENDIAN)
  view.setUint32(b + 12, frame.sequence, LITTLE_ENDIAN)
  view.setUint32(b + 16, frame.fingerprint, LITTLE_ENDIAN)
  view.setUint8(b + 20, frame.hops)
  view.setUint8(b + 21, topic.length)
  view.setUint8(b + 22, source.length)
  view.setUint8(b + 23, kind)
  out.set(topic, b + RECORD_FIXED_BODY_LENGTH)
  out.set(source, b + RECORD_FIXED_BODY_LENGTH + topic.length)
  out.set(frame.payload, b + RECORD_FIXED_BODY_LENGTH + topic.length + source.length)
  view.setUint32(4, crc32(out.subarray(b)), LITTLE_ENDIAN)
  return out
}

/** A schema record (kind 1): the type's name in the topic's place, its set as the payload. */
export function encodeSchemaRecord(schema: RecordedSchema): Uint8Array {
  const frame = {
    receivedAtNs: schema.receivedAtNs,
    sessionId: 0,
    sequence: 0,
    fingerprint: schema.fingerprint,
    hops: 0,
    topic: schema.typeName,
    source: '',
    payload: schema.data,
  }
  return encodeRecordOfKind(frame, RECORD_KIND_SCHEMA)
}

/** Decodes one record body (after its length and CRC were checked): a frame, a schema, or undefined. */
export function decodeRecordEntry(body: Uint8Array): RecordedEntry | undefined {
  const kind = body[23]
  const frame = kind === RECORD_KIND_FRAME || kind === RECORD_KIND_SCHEMA ? decodeFields(body) : undefined
  if (frame === undefined) return undefined
  if (kind === RECORD_KIND_FRAME) return { kind: 'frame', frame }
  const { receivedAtNs, fingerprint, topic: typeName, payload: data } = frame
  if (typeName === '') return undefined
  return { kind: 'schema', schema: { receivedAtNs, fingerprint, typeName, data } }
}

/** Decodes one frame record body (after its length and CRC were checked); undefined for other kinds. */
export function decodeRecordBody(body: Uint8Array): RecordedFrame | undefined {
  return body[23] === RECORD_KIND_FRAME ? decodeFields(body) : undefined
}

function decodeFields(body: Uint8Array): RecordedFrame | undefined {
  if (body.length < RECORD_FIXED_BODY_LENGTH) return undefined
  const view = new DataView(body.buffer, body.byteOffset, body.length)
  const t = view.getUint8(21)
  const a = view.getUint8(22)
  if (RECORD_FIXED_BODY_LENGTH + t + a > body.length) return undefined
  try {
    const topicStart = RECORD_FIXED_BODY_LENGTH
    return {
      receivedAtNs: view.getBigUint64(0, LITTLE_ENDIAN),
      sessionId: view.getUint32(8, LITTLE_ENDIAN),
      sequence: view.getUint32(12, LITTLE_ENDIAN),
      fingerprint: view.getUint32(16, LITTLE_ENDIAN),
      hops: view.getUint8(20),
      topic: decoder.decode(body.subarray(topicStart, topicStart + t)),
      source: decoder.decode(body.subarray(topicStart + t, topicStart + t + a)),
      payload: body.slice(topicStart + t + a),
    }
  } catch {
    return undefined
  }
}

export function fileHeader(): Uint8Array {
  const out = new Uint8Array(RECORDING_FILE_HEADER_LENGTH)
  out.set(encoder.encode(RECORDING_MAGIC), 0)
  new DataView(out.buffer).setUint16(8, RECORDING_VERSION, LITTLE_ENDIAN)
  return out
}

/** A type's schema, as a kind-1 record holds it. */
export interface RecordedSchema {
  /** When it was written, ns since the Unix epoch. */
  receivedAtNs: bigint
  fingerprint: number
  /** Full protobuf name, e.g. `acme.v1.Wind` (at most 255 bytes of UTF-8). */
  typeName: string
  /** The binary protobuf `FileDescriptorSet` that declares it. */
  data: Uint8Array
}

/** One good record: a frame or a schema. */
export type RecordedEntry =
  | { readonly kind: 'frame'; readonly frame: RecordedFrame }
  | { readonly kind: 'schema'; readonly schema: RecordedSchema }

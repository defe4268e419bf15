/**
 * The NATS headers of a Shoal message: what its frame said besides the payload, so a plain NATS
 * client knows the type and a relay on the far side sends it on with its original identity.
 *
 * | Header            | Value                                                              |
 * | ----------------- | ------------------------------------------------------------------ |
 * | `Shoal-Type`      | full protobuf type name, e.g. `shoal.v1.Imu` (absent: unknown type) |
 * | `Shoal-Fingerprint` | type fingerprint, 8 hex digits                                   |
 * | `Shoal-Session`   | publisher session id, 8 hex digits                                 |
 * | `Shoal-Sequence`  | sequence in the (session, topic) stream, decimal u32               |
 * | `Shoal-Hops`      | relays crossed, decimal 0-255                                      |
 * | `Shoal-Stamp-Ns`  | the message's `header.stamp_ns`, decimal ns since the Unix epoch (when set) |
 * | `Shoal-Source-Id` | the message's `header.source_id` (when set)                        |
 */
import { type MsgHdrs, headers as natsHeaders } from '@nats-io/transport-node'
import { CONTROL_CHARACTER } from '@shoal/service'
import protobuf from 'protobufjs'

export const HEADER = {
  type: 'Shoal-Type',
  fingerprint: 'Shoal-Fingerprint',
  session: 'Shoal-Session',
  sequence: 'Shoal-Sequence',
  hops: 'Shoal-Hops',
  stamp: 'Shoal-Stamp-Ns',
  sourceId: 'Shoal-Source-Id',
} as const

/** What the relay puts in and reads back from a message's headers. */
export interface ShoalHeaders {
  readonly typeName: string | undefined
  readonly fingerprint: number
  readonly sessionId: number
  readonly sequence: number
  readonly hops: number
  readonly stampNs: string | undefined
  readonly sourceId: string | undefined
}

/** Longest `Shoal-Source-Id` written, characters: a header line, not a payload. */
export const MAX_SOURCE_ID_HEADER = 256

const hex8 = (n: number) => n.toString(16).padStart(8, '0')

export function writeHeaders(h: ShoalHeaders): MsgHdrs {
  const out = natsHeaders()
  if (h.typeName !== undefined) out.set(HEADER.type, h.typeName)
  out.set(HEADER.fingerprint, hex8(h.fingerprint))
  out.set(HEADER.session, hex8(h.sessionId))
  out.set(HEADER.sequence, String(h.sequence))
  out.set(HEADER.hops, String(h.hops))
  if (h.stampNs !== undefined) out.set(HEADER.stamp, h.stampNs)
  // Header values are one line: a source id with control characters is left out, never written.
  if (
    h.sourceId !== undefined &&
    h.sourceId.length <= MAX_SOURCE_ID_HEADER &&
    !CONTROL_CHARACTER.test(h.sourceId)
  )
    out.set(HEADER.sourceId, h.sourceId)
  return out
}

function readNumber(
  value: string | undefined,
  pattern: RegExp,
  radix: number,
  max: number,
): number | undefined {
  if (value === undefined || !pattern.test(value)) return undefined
  const n = Number.parseInt(value, radix)
  return n <= max ? n : undefined
}

/** The headers of a message from NATS; undefined (the message is dropped as malformed) when one is missing or bad. */
export function readHeaders(h: MsgHdrs | undefined): ShoalHeaders | undefined {
  if (h === undefined) return undefined
  const fingerprint = readNumber(h.get(HEADER.fingerprint), /^[0-9a-fA-F]{1,8}$/, 16, 0xffff_ffff)
  const sessionId = readNumber(h.get(HEADER.session), /^[0-9a-fA-F]{1,8}$/, 16, 0xffff_ffff)
  const sequence = readNumber(h.get(HEADER.sequence), /^\d{1,10}$/, 10, 0xffff_ffff)
  const hops = readNumber(h.get(HEADER.hops) || '0', /^\d{1,3}$/, 10, 0xff)
  if (fingerprint === undefined || sessionId === undefined || sequence === undefined || hops === undefined)
    return undefined
  const text = (name: string) => (h.has(name) ? h.get(name) : undefined)
  return {
    typeName: text(HEADER.type),
    fingerprint,
    sessionId,
    sequence,
    hops,
    stampNs: text(HEADER.stamp),
    sourceId: text(HEADER.sourceId),
  }
}

/**
 * `header.source_id` and `header.stamp_ns` of an encoded Shoal message (field 1, `shoal.v1.Header`,
 * in every Shoal type), read from the wire without decoding the rest (an image's pixels stay
 * unread). Empty or absent fields, or a payload that is not such a message: undefined.
 */
export function readMessageHeader(payload: Uint8Array): { sourceId?: string; stampNs?: string } {
  try {
    const reader = protobuf.Reader.create(payload)
    while (reader.pos < reader.len) {
      const tag = reader.uint32()
      if (tag === ((1 << 3) | 2)) return readHeaderFields(reader.bytes())
      reader.skipType(tag & 7)
    }
  } catch {
    // Not protobuf, or not Shoal's Header in field 1: the headers go without.
  }
  return {}
}

function readHeaderFields(bytes: Uint8Array): { sourceId?: string; stampNs?: string } {
  const reader = protobuf.Reader.create(bytes)
  const out: { sourceId?: string; stampNs?: string } = {}
  while (reader.pos < reader.len) {
    const tag = reader.uint32()
    if (tag === ((1 << 3) | 2)) {
      const id = reader.string()
      if (id !== '') out.sourceId = id
    } else if (tag === ((3 << 3) | 0)) {
      const stamp = reader.uint64()
      // A Long (unsigned: its toString is the u64's decimal) where `long` is loaded, else a number.
      const text = typeof stamp === 'number' ? String(stamp) : stamp.toString()
      if (text !== '0') out.stampNs = text
    } else reader.skipType(tag & 7)
  }
  return out
}

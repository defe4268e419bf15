import { formatFingerprint, type MessageType, registry, type TypeRegistry } from '@shoal/schema'
import type { ReceivedFrame } from '@shoal/transport'

/** One JSON line of `--output json`: a received frame. The README documents this shape. */
export interface FrameObject {
  /** When the frame's last datagram arrived, ISO 8601 UTC (millisecond resolution). */
  receivedAt: string
  topic: string
  /** Full protobuf type name (`shoal.v1.Imu`). */
  type: string
  /** The type fingerprint on the wire, `0x` and 8 hex digits. */
  fingerprint: string
  source: {
    /** The publisher's session id, 8 hex digits (what `/metrics` labels `source`). */
    session: string
    address: string
    port: number
  }
  sequence: number
  hops: number
  /** Encoded message size. */
  bytes: number
  /** The message as the type's `toObject` gives it; bytes fields abbreviated unless `--full`. */
  message: Record<string, unknown>
}

export interface FrameObjectOptions {
  readonly full: boolean
  /** The types to print messages with (the receiver's, with `--proto` ones); default the built-in ones. */
  readonly types?: TypeRegistry | undefined
}

/** What a bytes field becomes in a line without `--full`. */
export interface OmittedBytes {
  bytes: number
}

/**
 * The frame as a plain object for JSON. Without `full`, every bytes field (`Image.data`, megabytes
 * once base64) becomes `{ "bytes": <length> }`, which `fromObject` rejects rather than mistaking
 * for data. `frame.message` is modified: its bytes fields are emptied before `toObject`.
 */
export function frameToObject(frame: ReceivedFrame, options: FrameObjectOptions): FrameObject {
  // A type learned in-band (WIRE.md “Schemas”) is in no registry of this app: the frame has it.
  const type = (options.types ?? registry).byFingerprint(frame.fingerprint) ?? asMessageType(frame.type)
  return {
    receivedAt: new Date(frame.receivedAt).toISOString(),
    topic: frame.topic,
    type: frame.typeName ?? type?.typeName ?? 'unknown',
    fingerprint: formatFingerprint(frame.fingerprint),
    source: { session: frame.source.session, address: frame.source.address, port: frame.source.port },
    sequence: frame.sequence,
    hops: frame.hops,
    bytes: frame.payload.length,
    message: type === undefined ? {} : messageToObject(type, frame.message, options.full),
  }
}

/** A frame's codec as a @shoal/schema type, when it is one (it has `toObject`). */
function asMessageType(codec: ReceivedFrame['type']): MessageType | undefined {
  return codec !== undefined && typeof (codec as Partial<MessageType>).toObject === 'function'
    ? (codec as MessageType)
    : undefined
}

function messageToObject(type: MessageType, message: unknown, full: boolean): Record<string, unknown> {
  if (full || message === null || typeof message !== 'object') return type.toObject(message)
  const omitted = emptyBytesFields(message as Record<string, unknown>)
  const object = type.toObject(message)
  restoreAsLengths(object, omitted)
  return object
}

/** Bytes field lengths by key, nested like the message. */
type Omitted = Map<string, OmittedBytes | OmittedBytes[] | Omitted | Omitted[]>

const EMPTY = new Uint8Array(0)

/** Replaces every bytes field of a decoded message (nested too) with an empty one; returns the lengths. */
function emptyBytesFields(message: Record<string, unknown>): Omitted {
  const omitted: Omitted = new Map()
  // for…in: decoded messages keep unset fields' defaults (an empty bytes field) on the prototype.
  for (const key in message) {
    // Messages of run-time (reflection) types inherit `$type`, their protobufjs Type: not a field.
    if (key.startsWith('$')) continue
    const value = message[key]
    if (value instanceof Uint8Array) {
      omitted.set(key, { bytes: value.length })
      if (value.length > 0) message[key] = EMPTY
    } else if (Array.isArray(value) && value.length > 0 && value[0] instanceof Uint8Array) {
      omitted.set(
        key,
        value.map((item: Uint8Array) => ({ bytes: item.length })),
      )
      message[key] = value.map(() => EMPTY)
    } else if (Array.isArray(value) && value.length > 0 && isMessage(value[0])) {
      omitted.set(
        key,
        value.map((item: Record<string, unknown>) => emptyBytesFields(item)),
      )
    } else if (isMessage(value)) {
      const inner = emptyBytesFields(value)
      if (inner.size > 0) omitted.set(key, inner)
    }
  }
  return omitted
}

function restoreAsLengths(object: Record<string, unknown>, omitted: Omitted): void {
  for (const [key, value] of omitted) {
    const target = object[key]
    if (value instanceof Map) {
      if (isMessage(target)) restoreAsLengths(target, value)
    } else if (Array.isArray(value) && value.some((item) => item instanceof Map)) {
      if (Array.isArray(target))
        (value as Omitted[]).forEach((inner, i) => {
          if (isMessage(target[i])) restoreAsLengths(target[i], inner)
        })
    } else {
      object[key] = value
    }
  }
}

function isMessage(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && !isLong(value)
}

/** protobufjs gives uint64 fields as Long objects: values, not messages. */
function isLong(value: object): boolean {
  return 'low' in value && 'high' in value && 'unsigned' in value
}

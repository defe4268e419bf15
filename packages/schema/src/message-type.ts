import type { IConversionOptions, Type, Writer } from 'protobufjs'
import protojson from 'protobufjs/ext/protojson.js'
import protobuf from 'protobufjs/minimal.js'
import { fingerprintOf } from './fingerprint.js'

/**
 * One message type: its identity (full name and fingerprint) and its codecs. Everything the transport
 * and the apps need to move frames of this type, without touching protobufjs directly.
 */
export interface MessageType<T = unknown> {
  /** Full protobuf name without a leading dot, e.g. `'shoal.v1.Imu'`. */
  readonly typeName: string
  /** Type fingerprint, a u32; see `fingerprintOf`. */
  readonly fingerprint: number
  /**
   * Encodes to protobuf binary. Fast path: no validation; a value of the wrong type is encoded as
   * whatever protobufjs makes of it. The result may be a view into a shared pool buffer: use its
   * `byteOffset`/`byteLength`, never `.buffer` alone.
   */
  encode(message: T): Uint8Array
  /**
   * Encodes straight into `buf` from `offset`, with no buffer of its own (the transport writes
   * frames this way, header and message in one buffer). Returns the end offset when the encoding
   * fits before `buf.length`; otherwise the encoding in a new buffer (bytes of `buf` after `offset`
   * may have been written). A `Buffer` is used as it is; another `Uint8Array` gets a `Buffer` view.
   */
  encodeInto(message: T, buf: Uint8Array, offset: number): number | Uint8Array
  /**
   * Decodes protobuf binary; throws on malformed input. `bytes` fields of the result are views into
   * `bytes` (no copy): copy them before reusing the input buffer.
   */
  decode(bytes: Uint8Array): T
  /**
   * Builds a message from a JSON value (e.g. one line of JSON lines), per the ProtoJSON mapping:
   * camelCase or proto field names, 64-bit integers as strings or numbers, enums as names or numbers,
   * bytes as base64. Throws an Error naming the type and the offending field on unknown fields or
   * wrongly typed values. Accepts everything {@link MessageType.toObject} produces.
   */
  fromObject(object: Record<string, unknown>): T
  /**
   * A JSON-friendly plain object: camelCase keys, 64-bit integers as decimal strings, bytes as base64,
   * enums as names, non-finite doubles as `"NaN"`/`"Infinity"`, and every field present (defaults
   * included, unset message fields as `null`). `JSON.stringify` of it round-trips through `fromObject`.
   */
  toObject(message: T): Record<string, unknown>
  /** A new message with the given fields set (no conversion or validation). */
  create(properties?: Partial<T>): T
}

/** The static class that `pbjs -t static-module` generates for every message (the part we use). */
export interface StaticMessageClass<T> {
  encode(message: T, writer?: Writer): Writer
  decode(reader: Uint8Array): T
  fromObject(object: Record<string, unknown>): T
  toObject(message: T, options?: IConversionOptions): Record<string, unknown>
  create(properties?: T): T
  getTypeUrl(prefix?: string): string
}

/**
 * The writer every `encodeInto` uses, pointed at the caller's buffer for the call. One is enough:
 * encoding is synchronous and re-entrant calls cannot happen.
 */
const sharedWriter: Writer = protobuf.Writer.create()
const NO_BUFFER = new Uint8Array(0)

/** Anything that encodes into a protobufjs writer: a generated static class or a reflection `Type`. */
export interface WriterEncoder<T> {
  encode(message: T, writer?: Writer): Writer
}

/** {@link MessageType.encodeInto} for any {@link WriterEncoder}; shared by generated and run-time types. */
export function encodeInto<T>(
  staticClass: WriterEncoder<T>,
  message: T,
  buf: Uint8Array,
  offset: number,
): number | Uint8Array {
  // protobufjs's Node writer writes long strings with Buffer#utf8Write, so it needs a Buffer.
  const target = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  const w = sharedWriter
  w.buf = target
  w.pos = offset
  w.view = null
  w.states = null
  try {
    staticClass.encode(message, w)
    // The writer grows by copying into a new buffer: then it did not fit.
    return w.buf === target ? w.pos : w.buf.subarray(offset, w.pos)
  } finally {
    w.buf = NO_BUFFER
    w.view = null
    w.states = null
  }
}

/** Options for {@link MessageType.toObject}: the JSON-friendly conversion. */
export const TO_OBJECT_OPTIONS: IConversionOptions = {
  longs: String,
  enums: String,
  bytes: String,
  defaults: true,
  arrays: true,
  json: true,
}

/**
 * Pairs a generated static class (fast binary codec) with its reflection type (fingerprint, JSON
 * validation) into a {@link MessageType}. Throws if the two do not describe the same message.
 */
export function defineMessageType<T>(staticClass: StaticMessageClass<T>, reflection: Type): MessageType<T> {
  const typeName = reflection.fullName.replace(/^\./, '')
  const staticName = staticClass.getTypeUrl('').replace(/^\//, '')
  if (staticName !== typeName) {
    throw new Error(
      `defineMessageType: static class ${staticName} does not match reflection type ${typeName}`,
    )
  }
  return Object.freeze({
    typeName,
    fingerprint: fingerprintOf(reflection),
    encode: (message: T): Uint8Array => staticClass.encode(message).finish(),
    encodeInto: (message: T, buf: Uint8Array, offset: number): number | Uint8Array =>
      encodeInto(staticClass, message, buf, offset),
    decode: (bytes: Uint8Array): T => staticClass.decode(bytes),
    fromObject(object: Record<string, unknown>): T {
      let parsed: unknown
      try {
        parsed = protojson.fromJson(reflection, object)
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error)
        throw new Error(`${typeName}.fromObject: invalid input: ${reason}`, { cause: error })
      }
      // The reflection message holds runtime values (Long, enum numbers, Uint8Array) that the static
      // fromObject copies into an instance of the generated class.
      return staticClass.fromObject(parsed as Record<string, unknown>)
    },
    toObject: (message: T): Record<string, unknown> => staticClass.toObject(message, TO_OBJECT_OPTIONS),
    create: (properties?: Partial<T>): T => staticClass.create(properties as T),
  })
}

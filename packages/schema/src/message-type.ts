import type { IConversionOptions, Type, Writer } from 'protobufjs'
import protojson from 'protobufjs/ext/protojson.js'
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

/** Options for {@link MessageType.toObject}: the JSON-friendly conversion. */
const TO_OBJECT_OPTIONS: IConversionOptions = {
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

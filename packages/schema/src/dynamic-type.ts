import protobuf from 'protobufjs'
import descriptorExt, { type IDescriptorProto, type IFileDescriptorSet } from 'protobufjs/ext/descriptor.js'
import protojson from 'protobufjs/ext/protojson.js'
import { fileDescriptorSet } from './descriptor-set.js'
import { fingerprintOf } from './fingerprint.js'
import { encodeInto, type MessageType, TO_OBJECT_OPTIONS } from './message-type.js'

/**
 * Message types built at run time from a binary `FileDescriptorSet` (a set from `--proto`, or one
 * announced in-band by a publisher), with protobufjs reflection as the codec. They keep the
 * {@link MessageType} contract of the generated types; only slower (reflection, no static code).
 *
 * The fingerprint is {@link fingerprintOf} over the type reflected from the set: the same function and
 * the same input a build-time type gets, so a set made from a built-in .proto gives its fingerprint.
 */

/**
 * Largest descriptor set accepted (bytes). It caps the work of decoding one and building its types:
 * Shoal's largest set (shoal.v1.Imu with its imports) is under 2 KiB, a big real schema some 100 KiB.
 */
export const MAX_DESCRIPTOR_SET_BYTES = 1024 * 1024

/**
 * Most fields one message of a set from the network ({@link verifySchema}) may declare. protobufjs
 * adds fields one by one and re-indexes the message's fields by number on each add, so building a
 * message costs the square of its fields: a crafted 180 KB set of one message with 8,192 fields took
 * 6 s, one of 760 KB with 32,768 fields 224 s, in one synchronous call on a receiver's event loop.
 * At 512 about 17 ms. Real messages stay far below (descriptor.proto's largest: some 15 fields).
 * Sets from local files (`--proto`, {@link messageTypeFromDescriptorSet}) are trusted: no cap.
 */
export const MAX_DESCRIPTOR_FIELDS_PER_MESSAGE = 512

/**
 * Most definitions (files, messages, fields, enums, enum values, services, methods, extensions and
 * oneofs, all together) a set from the network may declare. Building costs some 30 µs each, so with
 * {@link MAX_DESCRIPTOR_FIELDS_PER_MESSAGE} the worst set verifies in about half a second; Shoal's
 * largest set (shoal.v1.Imu with its imports) has some 60 definitions, a large real schema (100 KiB)
 * some 4,000.
 */
export const MAX_DESCRIPTOR_DEFINITIONS = 8_192

/** The set each run-time type was built from (the type objects are frozen, so it lives beside them). */
const setOfType = new WeakMap<MessageType, Uint8Array>()

/**
 * The binary `FileDescriptorSet` a type can be decoded with, or `undefined`: the set a run-time type was
 * built from, or for a built-in type the one protoc made ({@link fileDescriptorSet}). A fresh copy.
 */
export function descriptorSetOf(type: MessageType): Uint8Array | undefined {
  const own = setOfType.get(type)
  return own !== undefined ? own.slice() : fileDescriptorSet(type.typeName)
}

/** Why {@link verifySchema} refused a schema; also the counter label receivers use. */
export type SchemaRejection = 'malformed' | 'missing-type' | 'fingerprint-mismatch' | 'too-large'

export type SchemaVerdict =
  | { readonly ok: true; readonly type: MessageType }
  | { readonly ok: false; readonly reason: SchemaRejection; readonly detail: string }

/** An Error from {@link messageTypeFromDescriptorSet}, with the reason as a machine-readable field. */
export class SchemaError extends Error {
  readonly reason: SchemaRejection
  constructor(reason: SchemaRejection, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'SchemaError'
    this.reason = reason
  }
}

/**
 * Builds the message type `fullName` (a leading dot is accepted) from a binary `FileDescriptorSet`
 * (with the imports it needs, as `protoc --include_imports --descriptor_set_out` writes it). Throws a
 * {@link SchemaError} (`too-large`, `malformed`, `missing-type`) saying what is wrong.
 */
export function messageTypeFromDescriptorSet(descriptorSet: Uint8Array, fullName: string): MessageType {
  return buildType(descriptorSet, fullName, false)
}

/** {@link messageTypeFromDescriptorSet}; `untrusted`: within the caps of a set from the network. */
function buildType(descriptorSet: Uint8Array, fullName: string, untrusted: boolean): MessageType {
  const name = fullName.replace(/^\./, '')
  const reflection = reflectType(rootOf(descriptorSet, untrusted), name)
  let fingerprint: number
  try {
    fingerprint = fingerprintOf(reflection)
  } catch (error) {
    throw new SchemaError('too-large', `descriptor set: ${messageOf(error)}`, { cause: error })
  }
  const type = messageTypeOf(reflection, name, fingerprint)
  setOfType.set(type, descriptorSet.slice())
  return type
}

/**
 * Gives a type defined elsewhere (a `shoal-codegen` class) the set it can be announced with, if the
 * set gives the type's own fingerprint (a receiver verifies exactly that); else the type keeps none.
 * Returns whether it did. Not exported from the package: {@link descriptorSetOf} reads it.
 */
export function attachDescriptorSet(type: MessageType, descriptorSet: Uint8Array): boolean {
  try {
    if (messageTypeFromDescriptorSet(descriptorSet, type.typeName).fingerprint !== type.fingerprint)
      return false
  } catch {
    return false
  }
  setOfType.set(type, descriptorSet.slice())
  return true
}

/**
 * Checks a schema from an untrusted source (the network): the set must be at most
 * {@link MAX_DESCRIPTOR_SET_BYTES}, declare at most {@link MAX_DESCRIPTOR_DEFINITIONS} definitions
 * and {@link MAX_DESCRIPTOR_FIELDS_PER_MESSAGE} fields per message, decode, declare `fullName`, and
 * give exactly `fingerprint`. Never throws for bad input; the work is bounded by those caps and the
 * fingerprint's step budget (about half a second at worst).
 */
export function verifySchema(
  fullName: string,
  fingerprint: number,
  descriptorSet: Uint8Array,
): SchemaVerdict {
  let type: MessageType
  try {
    type = buildType(descriptorSet, fullName, true)
  } catch (error) {
    const reason = error instanceof SchemaError ? error.reason : 'malformed'
    return Object.freeze({ ok: false, reason, detail: messageOf(error) })
  }
  if (type.fingerprint !== fingerprint >>> 0) {
    const detail = `${type.typeName}: the set gives fingerprint ${type.fingerprint}, announced ${fingerprint}`
    return Object.freeze({ ok: false, reason: 'fingerprint-mismatch', detail })
  }
  return Object.freeze({ ok: true, type })
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function rootOf(descriptorSet: Uint8Array, untrusted: boolean): protobuf.Root {
  if (descriptorSet.byteLength > MAX_DESCRIPTOR_SET_BYTES) {
    throw new SchemaError(
      'too-large',
      `descriptor set of ${descriptorSet.byteLength} bytes exceeds ${MAX_DESCRIPTOR_SET_BYTES} (MAX_DESCRIPTOR_SET_BYTES)`,
    )
  }
  try {
    const decoded = descriptorExt.FileDescriptorSet.decode(descriptorSet) as unknown as IFileDescriptorSet
    if ((decoded.file ?? []).length === 0) throw new Error('it holds no file')
    // Counted on the decoded set (linear) before protobufjs builds it (not linear: see the caps).
    const excess = untrusted ? excessOf(decoded) : undefined
    if (excess !== undefined) throw new SchemaError('too-large', `descriptor set: ${excess}`)
    return protobuf.Root.fromDescriptor(decoded).resolveAll() as protobuf.Root
  } catch (error) {
    if (error instanceof SchemaError) throw error
    throw new SchemaError('malformed', `not a valid FileDescriptorSet: ${messageOf(error)}`, {
      cause: error,
    })
  }
}

/**
 * Why a decoded set is past {@link MAX_DESCRIPTOR_FIELDS_PER_MESSAGE} or
 * {@link MAX_DESCRIPTOR_DEFINITIONS}, or undefined. Nesting is bounded by the decoder's depth limit.
 */
function excessOf(set: IFileDescriptorSet): string | undefined {
  let definitions = 0
  const count = (n: number | undefined) => {
    definitions += n ?? 0
  }
  const enums = (list: readonly { value?: readonly unknown[] | null }[] | null | undefined) => {
    for (const e of list ?? []) count(1 + (e.value?.length ?? 0))
  }
  const message = (type: IDescriptorProto): string | undefined => {
    const fields = type.field?.length ?? 0
    if (fields > MAX_DESCRIPTOR_FIELDS_PER_MESSAGE)
      return `message ${type.name ?? ''} has ${fields} fields, more than ${MAX_DESCRIPTOR_FIELDS_PER_MESSAGE} (MAX_DESCRIPTOR_FIELDS_PER_MESSAGE)`
    count(1 + fields + (type.extension?.length ?? 0) + (type.oneofDecl?.length ?? 0))
    enums(type.enumType)
    for (const nested of type.nestedType ?? []) {
      const excess = message(nested)
      if (excess !== undefined) return excess
    }
    return undefined
  }
  for (const file of set.file ?? []) {
    count(1 + (file.extension?.length ?? 0))
    enums(file.enumType)
    for (const service of file.service ?? []) count(1 + (service.method?.length ?? 0))
    for (const type of file.messageType ?? []) {
      const excess = message(type)
      if (excess !== undefined) return excess
    }
    if (definitions > MAX_DESCRIPTOR_DEFINITIONS) break
  }
  return definitions > MAX_DESCRIPTOR_DEFINITIONS
    ? `${definitions} definitions, more than ${MAX_DESCRIPTOR_DEFINITIONS} (MAX_DESCRIPTOR_DEFINITIONS)`
    : undefined
}

function reflectType(root: protobuf.Root, name: string): protobuf.Type {
  const found = name === '' ? null : root.lookup(name)
  if (!(found instanceof protobuf.Type)) {
    throw new SchemaError('missing-type', `descriptor set declares no message ${JSON.stringify(name)}`)
  }
  return found
}

/** A {@link MessageType} over a reflection type; `fingerprint` is `fingerprintOf(reflection)`. */
function messageTypeOf(reflection: protobuf.Type, typeName: string, fingerprint: number): MessageType {
  type Message = protobuf.Message<Record<string, unknown>>
  return Object.freeze({
    typeName,
    fingerprint,
    encode: (message: unknown): Uint8Array => reflection.encode(message as Message).finish(),
    encodeInto: (message: unknown, buf: Uint8Array, offset: number): number | Uint8Array =>
      encodeInto(
        reflection as protobuf.Type & { encode(m: unknown, w?: protobuf.Writer): protobuf.Writer },
        message,
        buf,
        offset,
      ),
    decode: (bytes: Uint8Array): unknown => reflection.decode(bytes),
    fromObject(object: Record<string, unknown>): unknown {
      try {
        return reflection.fromObject(
          protojson.fromJson(reflection, object) as unknown as Record<string, unknown>,
        )
      } catch (error) {
        throw new Error(`${typeName}.fromObject: invalid input: ${messageOf(error)}`, { cause: error })
      }
    },
    toObject: (message: unknown): Record<string, unknown> =>
      reflection.toObject(message as Message, TO_OBJECT_OPTIONS),
    create: (properties?: unknown): unknown => reflection.create(properties as Record<string, unknown>),
  })
}

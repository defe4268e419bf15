// The two modules of `@foxglove/schemas/internal` used here, not its index: that one also loads the
// ROS generator and its message library (400 kB of the bundle).
import generator from '@foxglove/schemas/dist/internal/generateProto.js'
import definitions from '@foxglove/schemas/dist/internal/schemas.js'
import protobuf from 'protobufjs'
import descriptor from 'protobufjs/ext/descriptor.js'

/**
 * `foxglove.RawImage`, the message Foxglove's Image panel draws, as a protobuf schema a Foxglove
 * WebSocket channel can advertise: its `FileDescriptorSet` (with `google/protobuf/timestamp.proto`,
 * which it imports) and the reflection type to encode it with.
 *
 * The message is Foxglove's own: `@foxglove/schemas` ships its definition, and its `generateProto`
 * writes the `.proto` text Foxglove publishes (`fixed32` width, height and step; `frame_id` = 7).
 * protobufjs parses that text and makes the descriptors; it cannot name files or their imports
 * (its `toDescriptor` invents file names and leaves `dependency` empty), so the two files are put
 * together here with the names and the import protoc would give them, and every type reference
 * fully qualified. A test decodes with this set through protoc, which checks all of that.
 */

/** The message's full name: the channel's `schemaName`. */
export const RAW_IMAGE_SCHEMA_NAME = 'foxglove.RawImage'
/** Where Foxglove keeps the message's `.proto` file (the name its SDK's descriptor sets use). */
export const RAW_IMAGE_FILE = 'foxglove/RawImage.proto'
/** The file RawImage.proto imports for its `timestamp`. */
export const TIMESTAMP_FILE = 'google/protobuf/timestamp.proto'

export interface RawImageSchema {
  /** The binary `FileDescriptorSet`: timestamp.proto, then RawImage.proto. */
  readonly fileDescriptorSet: Uint8Array
  /** Reflection of `foxglove.RawImage`, proto field names (`frame_id`). */
  readonly type: protobuf.Type
}

/** The message descriptor with every message or enum field's type name fully qualified (`.pkg.Name`). */
function messageDescriptor(type: protobuf.Type): descriptor.IDescriptorProto {
  const message = type.toDescriptor('proto3')
  for (const field of message.field ?? []) {
    const resolved = field.name === undefined ? undefined : type.fields[field.name]?.resolvedType
    if (resolved) field.typeName = resolved.fullName
  }
  return message
}

function fileDescriptor(
  name: string,
  types: readonly protobuf.Type[],
  dependency: readonly string[],
): descriptor.IFileDescriptorProto {
  const pkg = types[0]?.parent?.fullName.replace(/^\./, '')
  return {
    name,
    ...(pkg ? { package: pkg } : {}),
    dependency: [...dependency],
    messageType: types.map(messageDescriptor),
    syntax: 'proto3',
  }
}

let cached: RawImageSchema | undefined

/** Builds the schema once (parsing and encoding a descriptor: a few milliseconds), then hands out the same. */
export function rawImageSchema(): RawImageSchema {
  if (cached !== undefined) return cached
  const source = generator.generateProto(definitions.foxgloveMessageSchemas.RawImage, [])
  const root = new protobuf.Root()
  // protobufjs ships the well-known types as JSON: Timestamp is { int64 seconds = 1; int32 nanos = 2; }.
  const timestamp = protobuf.common.get(TIMESTAMP_FILE)
  if (timestamp === null) throw new Error(`protobufjs does not ship ${TIMESTAMP_FILE}`)
  root.addJSON(timestamp.nested ?? {})
  const parsed = protobuf.parse(source, root, { keepCase: true })
  if (!parsed.imports?.every((file) => file === TIMESTAMP_FILE)) {
    throw new Error(
      `${RAW_IMAGE_SCHEMA_NAME} imports ${parsed.imports?.join(', ')}; only ${TIMESTAMP_FILE} is known`,
    )
  }
  root.resolveAll()
  const type = root.lookupType(RAW_IMAGE_SCHEMA_NAME)
  const set = descriptor.FileDescriptorSet.create({
    file: [
      fileDescriptor(TIMESTAMP_FILE, [root.lookupType('google.protobuf.Timestamp')], []),
      fileDescriptor(RAW_IMAGE_FILE, [type], [TIMESTAMP_FILE]),
    ],
  })
  cached = Object.freeze({ fileDescriptorSet: descriptor.FileDescriptorSet.encode(set).finish(), type })
  return cached
}

import { descriptorSets, fileOfType } from './gen/descriptor-sets.js'

/**
 * Self-describing schemas: the protobuf `FileDescriptorSet` of every shoal.v1 message, so that a file
 * or a viewer can carry the schema next to the data and any protobuf reader (MCAP readers, Foxglove,
 * `protoc --decode --descriptor_set_in`) decodes it without Shoal.
 *
 * The sets are made by protoc at generate time (`scripts/generate.mjs`: `protoc --include_imports
 * --descriptor_set_out` per .proto file), so they cannot drift from the .proto files. A message's set
 * is the one of the file that declares it: that file and everything it imports, transitively, in
 * protoc's order (imports before the files that import them, the declaring file last).
 */

/** The schema encoding MCAP and the Foxglove WebSocket protocol name for a `FileDescriptorSet`. */
export const PROTOBUF_SCHEMA_ENCODING = 'protobuf'

/** A message type's schema as MCAP's Schema record (and Foxglove's channel advertisement) wants it. */
export interface ProtobufSchema {
  /** The message's full name without a leading dot, e.g. `'shoal.v1.Imu'`: the type to decode with. */
  readonly name: string
  /** Always {@link PROTOBUF_SCHEMA_ENCODING}. */
  readonly encoding: typeof PROTOBUF_SCHEMA_ENCODING
  /** The binary `FileDescriptorSet` (a fresh copy; the caller may keep or change it). */
  readonly data: Uint8Array
}

/** Decoded once per file on first use: a recorder asks per channel, not per message. */
const decoded = new Map<string, Uint8Array>()

function setOfFile(file: string): Uint8Array {
  let bytes = decoded.get(file)
  if (bytes === undefined) {
    const base64 = descriptorSets[file]
    if (base64 === undefined) throw new Error(`descriptor-set: generated code names ${file} but has no set`)
    bytes = new Uint8Array(Buffer.from(base64, 'base64'))
    decoded.set(file, bytes)
  }
  return bytes
}

/**
 * The binary `FileDescriptorSet` (with imports, transitive) of a shoal.v1 message, by full name
 * (`'shoal.v1.Imu'`, a leading dot is accepted), or `undefined` for a name Shoal does not declare.
 * Every call returns a fresh copy.
 */
export function fileDescriptorSet(fullName: string): Uint8Array | undefined {
  const file = fileOfType[fullName.replace(/^\./, '')]
  return file === undefined ? undefined : setOfFile(file).slice()
}

/**
 * The set of a built-in .proto file by its import path (`shoal/v1/header.proto`): the file and its
 * imports, as protoc made it; `undefined` for other paths. For `.proto` files that import Shoal's
 * own where those files are not on disk (a bundled service). Internal: not exported by the index.
 */
export function builtInFileSet(importPath: string): Uint8Array | undefined {
  return Object.hasOwn(descriptorSets, importPath) ? setOfFile(importPath).slice() : undefined
}

/** The MCAP/Foxglove schema of a shoal.v1 message ({@link fileDescriptorSet} with its name), or `undefined`. */
export function protobufSchema(fullName: string): ProtobufSchema | undefined {
  const name = fullName.replace(/^\./, '')
  const data = fileDescriptorSet(name)
  return data === undefined ? undefined : Object.freeze({ name, encoding: PROTOBUF_SCHEMA_ENCODING, data })
}

/** Every message full name that has a set, sorted (frame types and building blocks such as `Header`). */
export function describedTypeNames(): readonly string[] {
  return Object.keys(fileOfType).sort()
}

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path'
import protobuf from 'protobufjs'
import descriptorExt, { type IDescriptorProto, type IFileDescriptorSet } from 'protobufjs/ext/descriptor.js'
import { descriptorSetsByFile } from './descriptor-build.js'
import { builtInFileSet } from './descriptor-set.js'
import { MAX_DESCRIPTOR_SET_BYTES, messageTypeFromDescriptorSet } from './dynamic-type.js'
import type { MessageType } from './message-type.js'

/**
 * Loads message types at start from `.proto` files, folders of them, and binary descriptor sets (the
 * `--proto PATH` flag of every service). Every type comes back with the `FileDescriptorSet` it was
 * built from, so recorders and viewers can carry the schema, and a type whose `.proto` is identical to
 * a built-in one gets the built-in's fingerprint (the type is built from the set, as a receiver would).
 *
 * How a path is read: a folder is searched (recursively) for `*.proto` text and for descriptor sets
 * named `*.binpb`, `*.pb`, `*.desc` or `*.protoset`; a file named `*.proto` is `.proto` text; any
 * other file is a binary `FileDescriptorSet` (`protoc --include_imports --descriptor_set_out=FILE`).
 *
 * `.proto` imports are looked up in the importing file's folder and its parents, then in every folder
 * given; an import of Shoal's own files (`import "shoal/v1/header.proto"`) found nowhere on disk is
 * taken from the descriptor sets built into this package (so it works in a bundled service too);
 * `google/protobuf/*.proto` well-known types come with protobufjs.
 */

/** Most files one call reads (from all paths and folders together). */
export const MAX_PROTO_FILES = 1024
/** Deepest folder nesting searched below a folder given. */
export const MAX_PROTO_FOLDER_DEPTH = 16
/** Largest `.proto` or descriptor-set file read (bytes): the same cap as a set from the network. */
export const MAX_PROTO_FILE_BYTES = MAX_DESCRIPTOR_SET_BYTES

/** File name endings read as binary descriptor sets inside a folder. */
export const DESCRIPTOR_SET_EXTENSIONS: readonly string[] = ['.binpb', '.pb', '.desc', '.protoset']

export interface LoadedProtoTypes {
  /** Every message declared in the files (nested ones too; for `.proto` text, not those of imports). */
  readonly types: MessageType[]
  /** Per type full name: the binary `FileDescriptorSet` it was built from. */
  readonly descriptorSets: Map<string, Uint8Array>
}

interface Input {
  readonly path: string
  /** The folder import names are relative to (the folder given, or the file's own folder). */
  readonly base: string
  readonly kind: 'proto' | 'set'
}

/**
 * Loads the types of `paths` (see the module docs). Throws an Error naming the file on anything
 * unreadable (and the line, for `.proto` syntax errors), on a type declared twice differently, and
 * past the limits ({@link MAX_PROTO_FILES}, {@link MAX_PROTO_FILE_BYTES}).
 */
export function loadProtoTypes(paths: readonly string[]): LoadedProtoTypes {
  const inputs: Input[] = []
  for (const path of paths) collectInputs(resolve(path), inputs)
  const types: MessageType[] = []
  const descriptorSets = new Map<string, Uint8Array>()
  const origin = new Map<string, string>()
  const keep = (type: MessageType, set: Uint8Array, file: string) => {
    const before = descriptorSets.has(type.typeName)
      ? types.find((t) => t.typeName === type.typeName)
      : undefined
    if (before !== undefined) {
      if (before.fingerprint === type.fingerprint) return
      throw new Error(`${file}: ${type.typeName} differs from the one in ${origin.get(type.typeName)}`)
    }
    types.push(type)
    descriptorSets.set(type.typeName, set)
    origin.set(type.typeName, file)
  }
  const protoInputs = inputs.filter((input) => input.kind === 'proto')
  if (protoInputs.length > 0) {
    for (const { file, set, messages } of loadProtoText(protoInputs)) {
      for (const name of messages) keep(messageTypeFromDescriptorSet(set, name), set, file)
    }
  }
  for (const input of inputs) {
    if (input.kind !== 'set') continue
    const set = readCapped(input.path)
    for (const name of messageNamesOf(set, input.path)) {
      keep(fromSet(set, name, input.path), set, input.path)
    }
  }
  return { types, descriptorSets }
}

function collectInputs(path: string, out: Input[]): void {
  let isFolder: boolean
  try {
    isFolder = statSync(path).isDirectory()
  } catch (error) {
    throw new Error(`${path}: ${(error as NodeJS.ErrnoException).code ?? 'cannot read'}`, { cause: error })
  }
  if (!isFolder) {
    add(out, { path, base: dirname(path), kind: path.endsWith('.proto') ? 'proto' : 'set' })
    return
  }
  const walk = (folder: string, depth: number) => {
    if (depth > MAX_PROTO_FOLDER_DEPTH) {
      throw new Error(`${folder}: nested deeper than ${MAX_PROTO_FOLDER_DEPTH} (MAX_PROTO_FOLDER_DEPTH)`)
    }
    const entries = readdirSync(folder, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))
    for (const entry of entries) {
      const child = join(folder, entry.name)
      if (entry.isDirectory()) walk(child, depth + 1)
      else if (entry.name.endsWith('.proto')) add(out, { path: child, base: path, kind: 'proto' })
      else if (DESCRIPTOR_SET_EXTENSIONS.includes(extname(entry.name)))
        add(out, { path: child, base: path, kind: 'set' })
    }
  }
  walk(path, 0)
}

function add(out: Input[], input: Input): void {
  if (out.some((other) => other.path === input.path)) return
  if (out.length >= MAX_PROTO_FILES)
    throw new Error(`${input.path}: more than ${MAX_PROTO_FILES} files (MAX_PROTO_FILES)`)
  out.push(input)
}

function readCapped(path: string): Uint8Array {
  let bytes: Buffer
  try {
    if (statSync(path).size > MAX_PROTO_FILE_BYTES) {
      throw new Error(`larger than ${MAX_PROTO_FILE_BYTES} bytes (MAX_PROTO_FILE_BYTES)`)
    }
    bytes = readFileSync(path)
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    throw new Error(`${path}: ${reason}`, { cause: error })
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function fromSet(set: Uint8Array, name: string, file: string): MessageType {
  try {
    return messageTypeFromDescriptorSet(set, name)
  } catch (error) {
    const hint = ' (a descriptor set needs its imports: protoc --include_imports)'
    throw new Error(`${file}: ${(error as Error).message}${hint}`, { cause: error })
  }
}

/** Full names of every message in a binary set (nested ones, not map entries). */
function messageNamesOf(set: Uint8Array, file: string): string[] {
  let decoded: IFileDescriptorSet
  try {
    decoded = descriptorExt.FileDescriptorSet.decode(set) as unknown as IFileDescriptorSet
  } catch (error) {
    throw new Error(`${file}: not a binary FileDescriptorSet (${(error as Error).message})`, { cause: error })
  }
  const names: string[] = []
  const walk = (messages: readonly IDescriptorProto[], scope: string) => {
    for (const message of messages) {
      if (message.options?.mapEntry === true) continue
      names.push(`${scope}${message.name}`)
      walk(message.nestedType ?? [], `${scope}${message.name}.`)
    }
  }
  for (const entry of decoded.file ?? [])
    walk(entry.messageType ?? [], entry.package ? `${entry.package}.` : '')
  if (names.length === 0) throw new Error(`${file}: the descriptor set declares no message`)
  return names
}

/**
 * Adds the built-in file `importPath` and its imports to `root`, from the descriptor sets built into
 * this package, except files in `added` (which it extends). Each type keeps its file's import path
 * as `filename`, so the sets made from `root` name the file as imports do.
 */
function addBuiltInFile(root: protobuf.Root, importPath: string, added: Set<string>): void {
  const bytes = builtInFileSet(importPath)!
  const source = protobuf.Root.fromDescriptor(bytes)
  const set = descriptorExt.FileDescriptorSet.decode(bytes) as unknown as IFileDescriptorSet
  for (const file of set.file ?? []) {
    if (file.name == null || added.has(file.name)) continue
    added.add(file.name)
    const pkg = file.package ?? ''
    const names = [...(file.messageType ?? []), ...(file.enumType ?? [])].map((entry) => entry.name ?? '')
    for (const name of names) {
      const object = source.lookup(pkg === '' ? name : `${pkg}.${name}`)
      if (object === null || object.parent === null) continue
      object.parent.remove(object)
      object.filename = file.name
      ;(pkg === '' ? root : root.define(pkg)).add(object)
    }
  }
}

/** Parses the `.proto` inputs into one protobufjs root; yields each input file's set and messages. */
function loadProtoText(inputs: readonly Input[]): { file: string; set: Uint8Array; messages: string[] }[] {
  const names = new Map<string, string>() // absolute path → name in the set (import path)
  for (const input of inputs) names.set(input.path, relative(input.base, input.path) || basename(input.path))
  const roots = [...new Set(inputs.map((input) => input.base))]
  const builtIns = new Set<string>() // Shoal's own files added from the built-in sets
  const root = new protobuf.Root()
  root.resolvePath = (originPath: string, target: string): string => {
    if (originPath === '' || isAbsolute(target)) return target
    const candidates: string[] = []
    for (let folder = dirname(originPath); ; folder = dirname(folder)) {
      candidates.push(join(folder, target))
      if (dirname(folder) === folder || candidates.length > MAX_PROTO_FOLDER_DEPTH) break
    }
    for (const folder of roots) candidates.push(join(folder, target))
    const found = candidates.find((candidate) => existsSync(candidate))
    if (found === undefined && builtInFileSet(target) !== undefined) {
      // Added now, before protobufjs resolves the importing file's types at the end of its load.
      addBuiltInFile(root, target, builtIns)
      return null as unknown as string // protobufjs skips an import resolved to null
    }
    if (found === undefined) {
      throw new Error(
        `${originPath}: import "${target}" not found (looked in the file's folder, its parents and ${roots.join(', ')})`,
      )
    }
    if (!names.has(found)) names.set(found, target)
    return found
  }
  for (const input of inputs) {
    readCapped(input.path) // the size cap, and a clear error for an unreadable file
    try {
      root.loadSync(input.path, { keepCase: false })
    } catch (error) {
      const message = (error as Error).message
      throw new Error(message.includes(input.path) ? message : `${input.path}: ${message}`, { cause: error })
    }
  }
  try {
    root.resolveAll()
  } catch (error) {
    throw new Error(`${inputs.map((input) => input.path).join(', ')}: ${(error as Error).message}`, {
      cause: error,
    })
  }
  const sets = descriptorSetsByFile(root, (path) => names.get(path) ?? path)
  return inputs.map((input) => {
    const name = names.get(input.path) ?? input.path
    const entry = sets.get(name)
    return { file: input.path, set: entry?.set ?? new Uint8Array(0), messages: entry?.messages ?? [] }
  })
}

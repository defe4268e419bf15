import protobuf from 'protobufjs'
import descriptorExt, { type IDescriptorProto, type IFileDescriptorProto } from 'protobufjs/ext/descriptor.js'

/**
 * FileDescriptorSets for types parsed from `.proto` text, made with protobufjs's own descriptor
 * extension (`Type#toDescriptor`), one file descriptor per parsed `.proto` file, so the set can be
 * carried in-band and read by any protobuf reader.
 *
 * protobufjs's `Root#toDescriptor` groups by package and writes one syntax for all files, with no
 * `dependency` lists; a descriptor pool (protoc, Python, C++) needs both right. So the grouping is done
 * here: each file gets its own syntax, its top-level messages and enums, and as dependencies the files
 * that declare the types its fields use. Services and extensions are left out (frames never need them).
 */

/** One parsed file: its top-level messages and enums, by the name it is known under in a set. */
interface FileEntry {
  readonly name: string
  readonly pkg: string
  readonly edition: string
  readonly nested: (protobuf.Type | protobuf.Enum)[]
  readonly dependencies: Set<string>
}

/**
 * Per parsed file (by `fileName(object.filename)`), a descriptor set holding it and every file it
 * depends on, transitively, dependencies first; and the full names of the messages each file declares.
 */
export function descriptorSetsByFile(
  root: protobuf.Root,
  fileName: (path: string) => string,
): Map<string, { set: Uint8Array; messages: string[] }> {
  const files = new Map<string, FileEntry>()
  const messagesOf = new Map<string, string[]>()
  collect(root, files, fileName)
  for (const [name, file] of files) {
    const messages: string[] = []
    for (const object of file.nested) {
      if (object instanceof protobuf.Type) walkType(object, file, files, fileName, messages)
    }
    file.dependencies.delete(name)
    messagesOf.set(name, messages)
  }
  const result = new Map<string, { set: Uint8Array; messages: string[] }>()
  for (const [name, messages] of messagesOf) {
    const ordered: FileEntry[] = []
    visit(name, files, new Set(), ordered)
    const set = descriptorExt.FileDescriptorSet.create({ file: ordered.map(toFileDescriptor) })
    result.set(name, { set: descriptorExt.FileDescriptorSet.encode(set).finish(), messages })
  }
  return result
}

function collect(
  ns: protobuf.NamespaceBase,
  files: Map<string, FileEntry>,
  fileName: (path: string) => string,
) {
  for (const object of ns.nestedArray) {
    if (object instanceof protobuf.Type || object instanceof protobuf.Enum) {
      const name = fileName(object.filename ?? '')
      let file = files.get(name)
      if (file === undefined) {
        const edition = (object as unknown as { _edition?: string | null })._edition ?? 'proto2'
        file = { name, pkg: ns.fullName.replace(/^\./, ''), edition, nested: [], dependencies: new Set() }
        files.set(name, file)
      }
      file.nested.push(object)
    } else if (object instanceof protobuf.Namespace) {
      collect(object, files, fileName)
    }
  }
}

/** Records the messages a type declares (itself, nested ones) and the files its fields need. */
function walkType(
  type: protobuf.Type,
  file: FileEntry,
  files: Map<string, FileEntry>,
  fileName: (path: string) => string,
  messages: string[],
) {
  messages.push(type.fullName.replace(/^\./, ''))
  for (const field of type.fieldsArray) {
    const used = field.resolve().resolvedType
    if (used !== null) {
      const usedFile = fileName(topLevelOf(used).filename ?? '')
      if (files.has(usedFile)) file.dependencies.add(usedFile)
    }
  }
  for (const nested of type.nestedArray) {
    if (nested instanceof protobuf.Type) walkType(nested, file, files, fileName, messages)
  }
}

function topLevelOf(object: protobuf.ReflectionObject): protobuf.ReflectionObject {
  let current = object
  while (current.parent instanceof protobuf.Type) current = current.parent
  return current
}

function visit(name: string, files: Map<string, FileEntry>, seen: Set<string>, out: FileEntry[]) {
  const file = files.get(name)
  if (file === undefined || seen.has(name)) return
  seen.add(name)
  for (const dependency of [...file.dependencies].sort()) visit(dependency, files, seen, out)
  out.push(file)
}

function toFileDescriptor(file: FileEntry): IFileDescriptorProto {
  const proto2or3 = file.edition === 'proto2' || file.edition === 'proto3'
  const descriptor: IFileDescriptorProto = {
    name: file.name,
    dependency: [...file.dependencies].sort(),
    messageType: [],
    enumType: [],
    syntax: proto2or3 ? file.edition : 'editions',
  }
  if (file.pkg !== '') descriptor.package = file.pkg
  if (!proto2or3) descriptor.edition = editionNumber(file.edition)
  for (const object of file.nested) {
    if (object instanceof protobuf.Type) {
      const message = object.toDescriptor(file.edition) as unknown as IDescriptorProto
      descriptor.messageType?.push(forDescriptorPools(message))
    } else descriptor.enumType?.push(object.toDescriptor())
  }
  return descriptor
}

/** `descriptor.proto`'s Edition enum numbers for the editions protobufjs parses. */
function editionNumber(edition: string): number {
  const numbers: Record<string, number> = { '2023': 1000, '2024': 1001, '2026': 1002 }
  const number = numbers[edition]
  if (number === undefined) throw new Error(`unsupported protobuf edition ${edition}`)
  return number
}

/**
 * Two fixes so that descriptor pools (protoc, C++, Python) accept what protobufjs writes, in nested
 * types too; protobufjs reads the result the same either way:
 * - protobufjs names a map field's entry type after the field (`Extra`); pools want `ExtraEntry`
 *   (the field name in CamelCase plus `Entry`), else "map_entry should not be set explicitly".
 * - protobufjs declares the synthetic oneof of a proto3 `optional` field where the field stands;
 *   pools want synthetic oneofs after the real ones. `oneofDecl` is reordered, `oneofIndex` renumbered.
 */
function forDescriptorPools(message: IDescriptorProto): IDescriptorProto {
  const entries = new Map(
    (message.nestedType ?? []).filter((n) => n.options?.mapEntry === true).map((n) => [n.name ?? '', n]),
  )
  for (const field of message.field ?? []) {
    const entry = entries.get(field.typeName ?? '')
    if (field.label !== 3 || entry === undefined || field.name == null) continue
    const entryName = `${field.name.replace(/(?:^|_)([a-z0-9])/g, (_, c: string) => c.toUpperCase())}Entry`
    entry.name = entryName
    field.typeName = entryName
  }
  // Unset fields of a protobufjs message read as defaults from the prototype (oneofIndex 0): only own
  // properties are set ones, and only those may be renumbered.
  const inOneof = (field: object): field is { oneofIndex: number } => Object.hasOwn(field, 'oneofIndex')
  const fields = message.field ?? []
  const oneofs = message.oneofDecl ?? []
  const synthetic = new Set(
    fields.filter((f) => f.proto3Optional === true && inOneof(f)).map((f) => f.oneofIndex as number),
  )
  const order = [...oneofs.keys()].sort(
    (a, b) => Number(synthetic.has(a)) - Number(synthetic.has(b)) || a - b,
  )
  const newIndex = new Map(order.map((old, index) => [old, index]))
  message.oneofDecl = order.map((old) => oneofs[old]!)
  for (const field of fields) {
    if (inOneof(field)) field.oneofIndex = newIndex.get(field.oneofIndex) ?? field.oneofIndex
  }
  for (const nested of message.nestedType ?? []) forDescriptorPools(nested)
  return message
}

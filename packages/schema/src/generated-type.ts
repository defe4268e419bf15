import protobuf, { type INamespace, type Root } from 'protobufjs'
import descriptorExt from 'protobufjs/ext/descriptor.js'
import { attachDescriptorSet } from './dynamic-type.js'
import { defineMessageType, type MessageType, type StaticMessageClass } from './message-type.js'

/**
 * Reflection roots built from descriptors, one per descriptor object: every type of one generated
 * module then shares one root, built once. Weak, so a descriptor no longer used frees its root.
 */
const roots = new WeakMap<INamespace, Root>()

function rootOf(descriptor: INamespace): Root {
  const known = roots.get(descriptor)
  if (known !== undefined) return known
  const root = protobuf.Root.fromJSON(descriptor)
  root.resolveAll()
  roots.set(descriptor, root)
  return root
}

/** The binary FileDescriptorSet of each descriptor, made once (null: protobufjs could not make one). */
const sets = new WeakMap<INamespace, Uint8Array | null>()

/**
 * A set for in-band schemas (a publisher announces it, so receivers without the type learn it).
 * A JSON descriptor has no file layout: protobufjs's `Root#toDescriptor` writes one file per
 * package, which receivers (protobufjs) read; whether it gives the type's fingerprint is checked
 * per type ({@link attachDescriptorSet}).
 */
function setOf(descriptor: INamespace): Uint8Array | undefined {
  let set = sets.get(descriptor)
  if (set === undefined) {
    try {
      const files = rootOf(descriptor).toDescriptor('proto3')
      set = descriptorExt.FileDescriptorSet.encode(files).finish()
    } catch {
      set = null
    }
    sets.set(descriptor, set)
  }
  return set ?? undefined
}

/**
 * A {@link MessageType} for a class of a module that `shoal-codegen` generated from a project's own
 * .proto files: `defineGeneratedType(demo.v1.Reading, descriptor)`, where `descriptor` is the
 * protobufjs JSON descriptor that the same module exports. Any `pbjs -t static-module` class with
 * the matching `pbjs -t json` output works too. The type's fingerprint is computed from the
 * descriptor as for Shoal's own types, and it carries a descriptor set (`descriptorSetOf`), so a
 * publisher announces it in-band. Throws if the descriptor does not declare the class's type.
 */
export function defineGeneratedType<T>(
  staticClass: StaticMessageClass<T>,
  descriptor: INamespace,
): MessageType<T> {
  const typeName = staticClass.getTypeUrl('').replace(/^\//, '')
  let reflection: protobuf.Type
  try {
    reflection = rootOf(descriptor).lookupType(typeName)
  } catch (error) {
    throw new Error(`defineGeneratedType: the descriptor does not declare message ${typeName}`, {
      cause: error,
    })
  }
  const type = defineMessageType(staticClass, reflection)
  const set = setOf(descriptor)
  if (set !== undefined) attachDescriptorSet(type, set)
  return type
}

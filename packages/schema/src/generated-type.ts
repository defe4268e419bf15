import protobuf, { type INamespace, type Root } from 'protobufjs'
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

/**
 * A {@link MessageType} for a class of a module that `shoal-codegen` generated from a project's own
 * .proto files: `defineGeneratedType(demo.v1.Reading, descriptor)`, where `descriptor` is the
 * protobufjs JSON descriptor that the same module exports. Any `pbjs -t static-module` class with
 * the matching `pbjs -t json` output works too. The type's fingerprint is computed from the
 * descriptor as for Shoal's own types. Throws if the descriptor does not declare the class's type.
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
  return defineMessageType(staticClass, reflection)
}

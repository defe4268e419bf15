import { descriptorSetOf } from './dynamic-type.js'
import type { MessageType } from './message-type.js'
import type { TypeRegistry } from './registry.js'

/**
 * Most types a dynamic registry takes on top of its base. Types come from `--proto` files and from
 * schemas announced on the network; each costs a reflection tree (a few KiB to some 100 KiB), so a
 * stream of new fingerprints must not grow the registry without bound.
 */
export const MAX_DYNAMIC_TYPES = 256

/** What {@link DynamicTypeRegistry.add} did. */
export type AddResult =
  /** New: registered, listeners told. */
  | 'added'
  /** A type with this name and fingerprint is already there (base or added): nothing changed. */
  | 'known'
  /** Same name with another fingerprint, or same fingerprint with another name: refused. */
  | 'conflict'
  /** {@link DynamicTypeRegistry.maxTypes} types were already added: refused. */
  | 'full'

/** A {@link TypeRegistry} that grows at run time, e.g. from `--proto` files or in-band schemas. */
export interface DynamicTypeRegistry extends TypeRegistry {
  /**
   * Registers a type. A type never replaces another: one whose name or fingerprint is taken by a
   * different type is refused (`'conflict'`), so a frame's type stays unambiguous for the life of the
   * process.
   */
  add(type: MessageType): AddResult
  /**
   * Calls `listener` with every type added from now on (not those already there: read `all()` first).
   * Returns a function that removes the listener. Listeners run synchronously inside `add`, in
   * subscription order; if one throws, the others still run and the first error is rethrown.
   */
  onAdd(listener: (type: MessageType) => void): () => void
  /**
   * The binary `FileDescriptorSet` to decode `fullName` with (a fresh copy): the set a run-time type
   * was built from, protoc's set for a built-in type, or `undefined` for unknown names and types
   * defined without one.
   */
  descriptorSet(fullName: string): Uint8Array | undefined
  /** The cap on added types (`options.maxTypes`, default {@link MAX_DYNAMIC_TYPES}). */
  readonly maxTypes: number
}

export interface DynamicRegistryOptions {
  /** Most types `add` accepts (base types do not count); default {@link MAX_DYNAMIC_TYPES}. */
  readonly maxTypes?: number
}

/** A registry holding everything in `base` (read at creation) plus the types `add`ed later. */
export function createDynamicRegistry(
  base: TypeRegistry,
  options: DynamicRegistryOptions = {},
): DynamicTypeRegistry {
  const maxTypes = options.maxTypes ?? MAX_DYNAMIC_TYPES
  if (!Number.isInteger(maxTypes) || maxTypes < 0) {
    throw new RangeError(`createDynamicRegistry: maxTypes must be an integer ≥ 0, got ${maxTypes}`)
  }
  const byName = new Map<string, MessageType>()
  const byFingerprint = new Map<number, MessageType>()
  for (const type of base.all()) {
    byName.set(type.typeName, type)
    byFingerprint.set(type.fingerprint, type)
  }
  let added = 0
  let all: readonly MessageType[] = Object.freeze([...byName.values()])
  const listeners = new Set<(type: MessageType) => void>()

  function add(type: MessageType): AddResult {
    const sameName = byName.get(type.typeName)
    const sameFingerprint = byFingerprint.get(type.fingerprint)
    if (sameName !== undefined && sameName === sameFingerprint) return 'known'
    if (sameName !== undefined || sameFingerprint !== undefined) return 'conflict'
    if (added >= maxTypes) return 'full'
    byName.set(type.typeName, type)
    byFingerprint.set(type.fingerprint, type)
    added += 1
    all = Object.freeze([...all, type])
    let first: { error: unknown } | undefined
    for (const listener of [...listeners]) {
      try {
        listener(type)
      } catch (error) {
        first ??= { error }
      }
    }
    if (first !== undefined) throw first.error
    return 'added'
  }

  return Object.freeze({
    byName: (typeName: string) => byName.get(typeName),
    byFingerprint: (fingerprint: number) => byFingerprint.get(fingerprint),
    all: () => all,
    add,
    onAdd(listener: (type: MessageType) => void): () => void {
      // A wrapper, so that subscribing the same function twice gives two independent subscriptions.
      const entry = (type: MessageType) => listener(type)
      listeners.add(entry)
      return () => {
        listeners.delete(entry)
      }
    },
    descriptorSet(fullName: string): Uint8Array | undefined {
      const type = byName.get(fullName.replace(/^\./, ''))
      return type === undefined ? undefined : descriptorSetOf(type)
    },
    maxTypes,
  })
}

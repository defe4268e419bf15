import {
  createDynamicRegistry,
  type DynamicTypeRegistry,
  formatFingerprint,
  loadProtoTypes,
  registry,
  type TypeRegistry,
} from '@shoal/schema'
import { ConfigError } from './errors.js'

/** The flag that loads message types at start, as typed. */
export const PROTO_FLAG = '--proto'

/**
 * `--proto PATH...`: a registry of the built-in types plus those loaded from the paths (`.proto`
 * files, folders of them, descriptor sets; see @shoal/schema's `loadProtoTypes`). It is dynamic: a
 * service may add types it learns later (schemas announced on the network), and recorders and
 * viewers read each type's `FileDescriptorSet` from it (`descriptorSet(name)`).
 *
 * Throws a {@link ConfigError} (exit 2) naming `--proto` and the file: unreadable, not a `.proto` or
 * descriptor set, a syntax error (with its line), a type that conflicts with a built-in one (same
 * name, other fields; or the same fingerprint under another name), or more types than the registry
 * takes (`MAX_DYNAMIC_TYPES`).
 */
export function resolveProtoTypes(
  paths: readonly string[],
  base: TypeRegistry = registry,
): DynamicTypeRegistry {
  const types = createDynamicRegistry(base)
  if (paths.length === 0) return types
  let loaded: ReturnType<typeof loadProtoTypes>
  try {
    loaded = loadProtoTypes(paths)
  } catch (error) {
    throw protoError(`invalid ${PROTO_FLAG}: ${(error as Error).message}`, error)
  }
  for (const type of loaded.types) {
    const result = types.add(type)
    if (result === 'conflict') {
      const other = types.byName(type.typeName) ?? types.byFingerprint(type.fingerprint)
      throw protoError(
        `invalid ${PROTO_FLAG} ${paths.join(' ')}: ${type.typeName} (${formatFingerprint(type.fingerprint)}) conflicts with the known type ${other?.typeName} (${formatFingerprint(other?.fingerprint ?? 0)}); a loaded type may not change a built-in one`,
      )
    }
    if (result === 'full') {
      throw protoError(
        `invalid ${PROTO_FLAG} ${paths.join(' ')}: more than ${types.maxTypes} types (MAX_DYNAMIC_TYPES); load fewer files`,
      )
    }
  }
  return types
}

/** Names of the types `--proto` added (not the built-in ones), for the start-up log. */
export function addedTypeNames(types: TypeRegistry, base: TypeRegistry = registry): string[] {
  return types
    .all()
    .filter((type) => base.byName(type.typeName) === undefined)
    .map((type) => type.typeName)
}

function protoError(message: string, cause?: unknown): ConfigError {
  return new ConfigError(message, { code: 'SHOAL_CONFIG_PROTO', flag: PROTO_FLAG, cause })
}

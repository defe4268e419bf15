import { createHash } from 'node:crypto'
import protobuf from 'protobufjs'

/**
 * Type fingerprints: a stable u32 per message type, carried in every frame so a receiver can find the
 * right decoder (`TypeRegistry.byFingerprint`) and refuse frames from an incompatible schema.
 *
 * The fingerprint covers what a binary decoder depends on, and nothing else:
 *
 * - the message's full name (`shoal.v1.Imu`);
 * - for every field, ordered by number: the field number, the label (`singular`, `optional`,
 *   `repeated`, `required`, `map<key type>`, or `oneof(<numbers of its members>)`) and the type;
 * - a scalar type by its proto name (`double`, `uint64`, `bytes`...); a message type by its full
 *   name and its own fingerprint, recursively (so changing `Vector3` changes `Imu`); an enum by its
 *   full name and the sorted set of its value numbers.
 *
 * Deliberately excluded: comments, field and enum-value names (renaming is wire compatible),
 * options such as `packed`, `json_name` or `deprecated`, declaration order, and reserved ranges.
 *
 * Algorithm: build the canonical text ({@link fingerprintSource}), SHA-256 it (UTF-8), and read the
 * first 4 bytes of the digest as a big-endian unsigned 32-bit integer.
 */

/** Version tag hashed into every fingerprint; bump it if the canonical form ever changes. */
const FINGERPRINT_VERSION = 'shoal-fingerprint-v1'

/**
 * Most message descriptions one fingerprint may walk. Nested types are described again wherever they
 * are used (no memo: the `#recursive` cut depends on the path), so a crafted schema in which each
 * type uses the next one twice would cost 2^depth; a descriptor from the network must not buy that.
 * Real schemas stay far below (shoal.v1.Imu: 5).
 */
export const MAX_FINGERPRINT_STEPS = 10_000

/**
 * The fingerprint of a message type, a u32 (0 ≤ n ≤ 0xffffffff). See the module docs for what it
 * covers. Throws if the schema needs more than {@link MAX_FINGERPRINT_STEPS} message descriptions.
 */
export function fingerprintOf(type: protobuf.Type): number {
  return hashToU32(fingerprintSource(type))
}

/**
 * The canonical text that {@link fingerprintOf} hashes. Exposed to explain a fingerprint change:
 * diff the source of the old and the new schema.
 */
export function fingerprintSource(type: protobuf.Type): string {
  return `${FINGERPRINT_VERSION}\n${describeMessage(type, [], { steps: 0 })}`
}

/** Formats a fingerprint for logs and errors: `0x` and 8 lower-case hex digits. */
export function formatFingerprint(fingerprint: number): string {
  return `0x${(fingerprint >>> 0).toString(16).padStart(8, '0')}`
}

function hashToU32(text: string): number {
  return createHash('sha256').update(text, 'utf8').digest().readUInt32BE(0)
}

function fullNameOf(object: protobuf.ReflectionObject): string {
  return object.fullName.replace(/^\./, '')
}

/** Message descriptions done so far by one {@link fingerprintSource} call. */
interface Budget {
  steps: number
}

/** `inProgress` holds the types being described up the stack, to cut recursive schemas. */
function describeMessage(type: protobuf.Type, inProgress: readonly protobuf.Type[], budget: Budget): string {
  budget.steps += 1
  if (budget.steps > MAX_FINGERPRINT_STEPS) {
    throw new Error(
      `cannot fingerprint ${fullNameOf(type)}: more than ${MAX_FINGERPRINT_STEPS} nested message descriptions`,
    )
  }
  const stack = [...inProgress, type]
  const lines = [`message ${fullNameOf(type)}`]
  const fields = [...type.fieldsArray].sort((a, b) => a.id - b.id)
  for (const field of fields) {
    lines.push(`field ${field.id} ${labelOf(field)} ${describeFieldType(field, stack, budget)}`)
  }
  return lines.join('\n')
}

function labelOf(field: protobuf.Field): string {
  if (field instanceof protobuf.MapField) return `map<${field.keyType}>`
  if (field.repeated) return 'repeated'
  if (field.required) return 'required'
  if (field.options?.proto3_optional === true) return 'optional'
  const oneof = field.partOf
  if (oneof) {
    const members = oneof.fieldsArray.map((member) => member.id).sort((a, b) => a - b)
    return `oneof(${members.join(',')})`
  }
  return 'singular'
}

function describeFieldType(field: protobuf.Field, stack: readonly protobuf.Type[], budget: Budget): string {
  let resolved: protobuf.Type | protobuf.Enum | null
  try {
    resolved = field.resolve().resolvedType
  } catch (error) {
    throw new Error(
      `cannot fingerprint ${field.fullName.replace(/^\./, '')}: type "${field.type}" not found`,
      {
        cause: error,
      },
    )
  }
  if (resolved === null) return field.type // a scalar: double, uint64, bytes, ...
  if (resolved instanceof protobuf.Enum) {
    const numbers = [...new Set(Object.values(resolved.values))].sort((a, b) => a - b)
    return `enum ${fullNameOf(resolved)}[${numbers.join(',')}]`
  }
  if (stack.includes(resolved)) return `message ${fullNameOf(resolved)}#recursive`
  const nested = hashToU32(describeMessage(resolved, stack, budget))
  return `message ${fullNameOf(resolved)}#${formatFingerprint(nested)}`
}

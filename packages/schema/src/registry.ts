import { formatFingerprint } from './fingerprint.js'
import type { MessageType } from './message-type.js'

/** Looks message types up by full name or by fingerprint (as carried in a frame). */
export interface TypeRegistry {
  /** The type with this full name, e.g. `'shoal.v1.Imu'`, or `undefined`. */
  byName(typeName: string): MessageType | undefined
  /** The type with this fingerprint, or `undefined` (e.g. a frame from a newer or foreign schema). */
  byFingerprint(fingerprint: number): MessageType | undefined
  /** Every registered type, in registration order. */
  all(): readonly MessageType[]
}

const U32_MAX = 0xffff_ffff

/**
 * Builds a registry. Throws if a fingerprint is not a u32, or if two different types share a
 * fingerprint or a name (a frame's type must be unambiguous). Passing the same type twice is allowed.
 */
export function createRegistry(types: Iterable<MessageType>): TypeRegistry {
  const byName = new Map<string, MessageType>()
  const byFingerprint = new Map<number, MessageType>()
  for (const type of types) {
    if (!Number.isInteger(type.fingerprint) || type.fingerprint < 0 || type.fingerprint > U32_MAX) {
      throw new RangeError(
        `createRegistry: fingerprint of ${type.typeName} is not a u32: ${type.fingerprint}`,
      )
    }
    const sameName = byName.get(type.typeName)
    const sameFingerprint = byFingerprint.get(type.fingerprint)
    if (sameName === type && sameFingerprint === type) continue
    if (sameFingerprint !== undefined) {
      throw new Error(
        `createRegistry: ${sameFingerprint.typeName} and ${type.typeName} share fingerprint ${formatFingerprint(type.fingerprint)}`,
      )
    }
    if (sameName !== undefined) {
      throw new Error(`createRegistry: two different types are named ${type.typeName}`)
    }
    byName.set(type.typeName, type)
    byFingerprint.set(type.fingerprint, type)
  }
  const all = Object.freeze([...byName.values()])
  return Object.freeze({
    byName: (typeName: string) => byName.get(typeName),
    byFingerprint: (fingerprint: number) => byFingerprint.get(fingerprint),
    all: () => all,
  })
}

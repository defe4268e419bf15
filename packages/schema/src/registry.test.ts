import { describe, expect, it } from 'vitest'
import type { MessageType } from './message-type.js'
import { createRegistry } from './registry.js'
import { Heartbeat, Imu, registry, Temperature } from './shoal-types.js'

/** A stand-in type: only name and fingerprint matter to the registry. */
function fake(typeName: string, fingerprint: number): MessageType {
  const fail = () => {
    throw new Error('not a real type')
  }
  return {
    typeName,
    fingerprint,
    encode: fail,
    encodeInto: fail,
    decode: fail,
    fromObject: fail,
    toObject: fail,
    create: fail,
  }
}

describe('createRegistry', () => {
  it('finds types by name and by fingerprint', () => {
    const a = fake('t.A', 1)
    const b = fake('t.B', 0xffff_ffff)
    const r = createRegistry([a, b])
    expect(r.byName('t.A')).toBe(a)
    expect(r.byName('t.B')).toBe(b)
    expect(r.byFingerprint(1)).toBe(a)
    expect(r.byFingerprint(0xffff_ffff)).toBe(b)
    expect(r.all()).toEqual([a, b])
  })

  it('returns undefined for unknown names and fingerprints', () => {
    const r = createRegistry([fake('t.A', 1)])
    expect(r.byName('t.B')).toBeUndefined()
    expect(r.byName('A')).toBeUndefined()
    expect(r.byFingerprint(2)).toBeUndefined()
  })

  it('rejects two types that share a fingerprint, naming both', () => {
    expect(() => createRegistry([fake('t.A', 0xabcd), fake('t.B', 0xabcd)])).toThrow(
      't.A and t.B share fingerprint 0x0000abcd',
    )
  })

  it('rejects a real type and an impostor with its fingerprint', () => {
    expect(() => createRegistry([Imu, fake('evil.Imu', Imu.fingerprint)])).toThrow(/share fingerprint/)
  })

  it('rejects two different types with the same name', () => {
    expect(() => createRegistry([fake('t.A', 1), fake('t.A', 2)])).toThrow(
      'two different types are named t.A',
    )
  })

  it('accepts the same type twice', () => {
    expect(createRegistry([Imu, Temperature, Imu]).all()).toEqual([Imu, Temperature])
  })

  it.each([-1, 2 ** 32, 1.5, Number.NaN])('rejects the non-u32 fingerprint %s', (fingerprint) => {
    expect(() => createRegistry([fake('t.A', fingerprint)])).toThrow(RangeError)
  })

  it('accepts any iterable and cannot be changed through all()', () => {
    const r = createRegistry(new Set([Imu, Heartbeat]))
    expect(() => (r.all() as MessageType[]).push(Temperature)).toThrow(TypeError)
    expect(r.all()).toHaveLength(2)
  })
})

describe('registry', () => {
  it('resolves each type by its own fingerprint', () => {
    expect(registry.all().length).toBeGreaterThanOrEqual(5)
    for (const type of registry.all()) expect(registry.byFingerprint(type.fingerprint)).toBe(type)
  })

  it('has the five required frame types', () => {
    for (const name of ['Imu', 'NavSatFix', 'Temperature', 'Image', 'Heartbeat']) {
      expect(registry.byName(`shoal.v1.${name}`)?.typeName).toBe(`shoal.v1.${name}`)
    }
  })

  it('does not register building blocks that have no header', () => {
    for (const name of ['Header', 'Vector3', 'Quaternion'])
      expect(registry.byName(`shoal.v1.${name}`)).toBeUndefined()
  })
})

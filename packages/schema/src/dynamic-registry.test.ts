import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { fileDescriptorSet } from './descriptor-set.js'
import { createDynamicRegistry, MAX_DYNAMIC_TYPES } from './dynamic-registry.js'
import { descriptorSetOf, messageTypeFromDescriptorSet } from './dynamic-type.js'
import type { MessageType } from './message-type.js'
import { loadProtoTypes } from './proto-files.js'
import { Imu, registry } from './shoal-types.js'

const windProto = fileURLToPath(new URL('../test/fixtures/proto/acme/v1/wind.proto', import.meta.url))
const wind = loadProtoTypes([windProto])
const Wind = wind.types.find((type) => type.typeName === 'acme.v1.Wind')!

/** A stand-in type with a chosen name and fingerprint (add() looks at nothing else). */
const fake = (typeName: string, fingerprint: number): MessageType => ({ ...Imu, typeName, fingerprint })

describe('createDynamicRegistry', () => {
  it('starts with the base types and their sets', () => {
    const dynamic = createDynamicRegistry(registry)
    expect(dynamic.all()).toEqual(registry.all())
    expect(dynamic.byFingerprint(Imu.fingerprint)).toBe(Imu)
    expect(dynamic.descriptorSet('shoal.v1.Imu')).toEqual(fileDescriptorSet('shoal.v1.Imu'))
    expect(dynamic.descriptorSet('acme.v1.Wind')).toBeUndefined()
    expect(dynamic.maxTypes).toBe(MAX_DYNAMIC_TYPES)
  })

  it('adds a run-time type, finds it by name and fingerprint, and gives the set it was built from', () => {
    const dynamic = createDynamicRegistry(registry)
    expect(dynamic.add(Wind)).toBe('added')
    expect(dynamic.byName('acme.v1.Wind')).toBe(Wind)
    expect(dynamic.byFingerprint(Wind.fingerprint)).toBe(Wind)
    expect(dynamic.all().at(-1)).toBe(Wind)
    expect(dynamic.descriptorSet('.acme.v1.Wind')).toEqual(wind.descriptorSets.get('acme.v1.Wind'))
    expect(dynamic.descriptorSet('acme.v1.Wind')).toEqual(descriptorSetOf(Wind))
    // the base registry is not changed
    expect(registry.byName('acme.v1.Wind')).toBeUndefined()
  })

  it('answers known for the same name and fingerprint (a built-in rebuilt from its set too)', () => {
    const dynamic = createDynamicRegistry(registry)
    const rebuilt = messageTypeFromDescriptorSet(fileDescriptorSet('shoal.v1.Imu')!, 'shoal.v1.Imu')
    expect(dynamic.add(rebuilt)).toBe('known')
    expect(dynamic.byName('shoal.v1.Imu')).toBe(Imu) // never replaced
    expect(dynamic.add(Wind)).toBe('added')
    expect(dynamic.add(Wind)).toBe('known')
    expect(dynamic.all()).toHaveLength(registry.all().length + 1)
  })

  it('refuses a conflicting name or fingerprint and keeps the first type', () => {
    const dynamic = createDynamicRegistry(registry)
    expect(dynamic.add(fake('shoal.v1.Imu', 12345))).toBe('conflict')
    expect(dynamic.add(fake('acme.v1.Other', Imu.fingerprint))).toBe('conflict')
    expect(dynamic.add(Wind)).toBe('added')
    expect(dynamic.add(fake('acme.v1.Wind', Wind.fingerprint ^ 1))).toBe('conflict')
    expect(dynamic.byName('shoal.v1.Imu')).toBe(Imu)
    expect(dynamic.byName('acme.v1.Wind')).toBe(Wind)
    expect(dynamic.byName('acme.v1.Other')).toBeUndefined()
  })

  it('stops at maxTypes (base types do not count)', () => {
    const dynamic = createDynamicRegistry(registry, { maxTypes: 2 })
    expect(dynamic.add(fake('a.A', 1))).toBe('added')
    expect(dynamic.add(fake('a.B', 2))).toBe('added')
    expect(dynamic.add(fake('a.C', 3))).toBe('full')
    expect(dynamic.add(fake('a.A', 1))).toBe('known')
    expect(dynamic.byName('a.C')).toBeUndefined()
    expect(() => createDynamicRegistry(registry, { maxTypes: -1 })).toThrow(RangeError)
  })

  it('tells listeners of each added type once, until they unsubscribe', () => {
    const dynamic = createDynamicRegistry(registry)
    const seen: string[] = []
    const stop = dynamic.onAdd((type) => seen.push(type.typeName))
    dynamic.add(Imu) // known: no event
    dynamic.add(fake('a.A', 1))
    dynamic.add(fake('a.A', 99)) // conflict: no event
    stop()
    dynamic.add(fake('a.B', 2))
    expect(seen).toEqual(['a.A'])
  })

  it('runs every listener even if one throws, then rethrows, with the type added', () => {
    const dynamic = createDynamicRegistry(registry)
    const seen: string[] = []
    dynamic.onAdd(() => {
      throw new Error('listener failed')
    })
    dynamic.onAdd((type) => seen.push(type.typeName))
    expect(() => dynamic.add(fake('a.A', 1))).toThrow('listener failed')
    expect(seen).toEqual(['a.A'])
    expect(dynamic.byName('a.A')).toBeDefined()
  })
})

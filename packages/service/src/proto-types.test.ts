import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { registry } from '@shoal/schema'
import { afterAll, describe, expect, it } from 'vitest'
import { isConfigError } from './errors.js'
import { addedTypeNames, resolveProtoTypes } from './proto-types.js'

const scratch = mkdtempSync(join(tmpdir(), 'shoal-proto-types-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

function write(name: string, text: string): string {
  const path = join(scratch, name)
  writeFileSync(path, text)
  return path
}

const wind = write(
  'wind.proto',
  'syntax = "proto3";\npackage acme.v1;\nimport "shoal/v1/header.proto";\nmessage Wind { shoal.v1.Header header = 1; double speed = 2; }\n',
)

function configError(run: () => unknown) {
  try {
    run()
  } catch (error) {
    if (isConfigError(error)) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('resolveProtoTypes', () => {
  it('without paths: the built-in types, and room to add more', () => {
    const types = resolveProtoTypes([])
    expect(types.all()).toEqual(registry.all())
    expect(addedTypeNames(types)).toEqual([])
  })

  it('adds the types of the files, with their descriptor sets', () => {
    const types = resolveProtoTypes([wind])
    expect(addedTypeNames(types)).toEqual(['acme.v1.Wind'])
    const Wind = types.byName('acme.v1.Wind')!
    expect(types.byFingerprint(Wind.fingerprint)).toBe(Wind)
    expect(types.descriptorSet('acme.v1.Wind')?.byteLength).toBeGreaterThan(0)
    expect(Wind.toObject(Wind.decode(Wind.encode(Wind.fromObject({ speed: 3.5 }))))).toMatchObject({
      speed: 3.5,
    })
  })

  it('a bad path or file is a config error naming --proto and the file (exit 2)', () => {
    const missing = configError(() => resolveProtoTypes([join(scratch, 'nope.proto')]))
    expect(missing.flag).toBe('--proto')
    expect(missing.exitCode).toBe(2)
    expect(missing.code).toBe('SHOAL_CONFIG_PROTO')
    expect(missing.message).toMatch(/^invalid --proto: .*nope\.proto: ENOENT/)
    const broken = write('broken.proto', 'syntax = "proto3";\nmessage A {\n  int32 = 1;\n}\n')
    expect(configError(() => resolveProtoTypes([broken])).message).toMatch(/--proto: .*broken\.proto.*line 3/)
  })

  it('refuses a type that would change a built-in one', () => {
    const fake = write('imu.proto', 'syntax = "proto3";\npackage shoal.v1;\nmessage Imu { double x = 1; }\n')
    const error = configError(() => resolveProtoTypes([fake]))
    expect(error.message).toMatch(
      /--proto .*imu\.proto: shoal\.v1\.Imu \(0x[0-9a-f]{8}\) conflicts with the known type shoal\.v1\.Imu/,
    )
    // the built-in stays
    expect(registry.byName('shoal.v1.Imu')?.fingerprint).not.toBe(undefined)
  })
})

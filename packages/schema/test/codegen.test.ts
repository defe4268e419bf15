import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import protobuf from 'protobufjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { descriptorSetOf, verifySchema } from '../src/dynamic-type.js'
import { fingerprintOf } from '../src/fingerprint.js'
import { shoal } from '../src/gen/shoal.js'
import { defineGeneratedType } from '../src/generated-type.js'
import type { StaticMessageClass } from '../src/message-type.js'
import { Imu } from '../src/shoal-types.js'
import { toUint64, uint64ToBigInt } from '../src/uint64.js'

// shoal-codegen on a project's own .proto that imports one of Shoal's, then the generated module in
// use. The output goes inside this package (git-ignored test-artifacts/) so that its import of
// protobufjs resolves as it would in a project that depends on protobufjs.
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(packageDir, 'bin', 'shoal-codegen.mjs')
const work = join(packageDir, 'test-artifacts', `codegen-${process.pid}`)
const PROTO = `syntax = "proto3";
package demo.v1;
import "shoal/v1/header.proto";
// A reading of the project's own sensor.
message Reading {
  shoal.v1.Header header = 1;
  double value = 2;
  string unit = 3;
  uint64 count = 4;
}
`

function codegen(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { cwd: work, encoding: 'utf8' })
}

interface ReadingMessage {
  header?: { sourceId?: string } | null
  value?: number
  unit?: string
  count?: unknown
}
interface GeneratedModule {
  demo: { v1: { Reading: StaticMessageClass<ReadingMessage> } }
  descriptor: protobuf.INamespace
}

beforeAll(() => {
  mkdirSync(join(work, 'proto', 'demo', 'v1'), { recursive: true })
  writeFileSync(join(work, 'proto', 'demo', 'v1', 'reading.proto'), PROTO)
})
afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('shoal-codegen', () => {
  let generated: GeneratedModule

  beforeAll(async () => {
    const result = codegen('--out', 'gen', 'proto/demo/v1/reading.proto')
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    generated = (await import(pathToFileURL(join(work, 'gen', 'reading.js')).href)) as GeneratedModule
  })

  it('types 64-bit fields with @shoal/schema’s Long, not a `long` the project lacks', () => {
    const declarations = readFileSync(join(work, 'gen', 'reading.d.ts'), 'utf8')
    expect(declarations).toContain('import type { Long } from "@shoal/schema";')
    expect(declarations).not.toContain('require("long")')
    expect(declarations).toContain('export declare const descriptor: $protobuf.INamespace;')
  })

  it('gives classes that defineGeneratedType turns into a working MessageType', () => {
    const Reading = defineGeneratedType(generated.demo.v1.Reading, generated.descriptor)
    expect(Reading.typeName).toBe('demo.v1.Reading')
    const bytes = Reading.encode(
      Reading.create({ header: { sourceId: 'probe0' }, value: 21.5, unit: 'C', count: toUint64(2n ** 60n) }),
    )
    const back = Reading.decode(bytes)
    expect(back.header?.sourceId).toBe('probe0')
    expect(back.value).toBe(21.5)
    expect(uint64ToBigInt(back.count as never)).toBe(2n ** 60n)
    // Its header is Shoal's own message: the bytes decode as a shoal.v1.Header field 1 would.
    expect(Reading.toObject(back)).toMatchObject({
      header: { sourceId: 'probe0' },
      unit: 'C',
      count: '1152921504606846976',
    })
  })

  it('fingerprints the type as one loaded from the .proto at run time', () => {
    const Reading = defineGeneratedType(generated.demo.v1.Reading, generated.descriptor)
    const loaded = new protobuf.Root()
    loaded.resolvePath = (_origin, target) =>
      target.startsWith('shoal/') ? join(packageDir, 'proto', target) : join(work, 'proto', target)
    loaded.loadSync('demo/v1/reading.proto').resolveAll()
    expect(Reading.fingerprint).toBe(fingerprintOf(loaded.lookupType('demo.v1.Reading')))
  })

  it('carries a descriptor set a receiver verifies, so a publisher announces the type in-band', () => {
    const Reading = defineGeneratedType(generated.demo.v1.Reading, generated.descriptor)
    const set = descriptorSetOf(Reading)
    if (set === undefined) throw new Error('no descriptor set for demo.v1.Reading')
    const verdict = verifySchema('demo.v1.Reading', Reading.fingerprint, set)
    if (!verdict.ok) throw new Error(`refused: ${verdict.reason} ${verdict.detail}`)
    const bytes = Reading.encode(
      Reading.fromObject({ header: { sourceId: 'p0' }, value: 1.5, unit: 'kPa', count: '7' }),
    )
    expect(verdict.type.toObject(verdict.type.decode(bytes))).toMatchObject({
      header: { sourceId: 'p0' },
      value: 1.5,
      unit: 'kPa',
      count: '7',
    })
  })

  it('leaves the built-in types working after the generated module is loaded', () => {
    // Both modules declare shoal.v1.Header; with a shared protobuf.roots entry the later one would
    // replace the namespace that Imu.encode looks Vector3 up in.
    const imu = Imu.create({ header: { sourceId: 'imu0' }, orientation: { w: 1 } })
    expect(Imu.decode(Imu.encode(imu)).orientation?.w).toBe(1)
  })

  it('refuses a class the descriptor does not declare', () => {
    expect(() => defineGeneratedType(shoal.v1.Imu, generated.descriptor)).toThrow(
      'defineGeneratedType: the descriptor does not declare message shoal.v1.Imu',
    )
  })
})

describe('shoal-codegen flags', () => {
  it('exits 2 naming the flag or file that is wrong', () => {
    expect(codegen('--bogus', 'x.proto')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('--bogus'),
    })
    expect(codegen('--out')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('--out needs a value'),
    })
    expect(codegen()).toMatchObject({ status: 2, stderr: expect.stringContaining('no .proto file') })
    expect(codegen('missing.proto')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('missing.proto'),
    })
    expect(codegen('--name', 'a/b', 'proto/demo/v1/reading.proto')).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('--name'),
    })
  })
})

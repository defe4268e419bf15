import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import descriptorExt, { type IFileDescriptorProto } from 'protobufjs/ext/descriptor.js'
import { afterAll, describe, expect, it } from 'vitest'
import { fileDescriptorSet } from './descriptor-set.js'
import { loadProtoTypes, MAX_PROTO_FILE_BYTES } from './proto-files.js'
import { registry } from './shoal-types.js'

const fixtures = fileURLToPath(new URL('../test/fixtures/proto/', import.meta.url))
const schemaProto = fileURLToPath(new URL('../proto/', import.meta.url))
const windProto = join(fixtures, 'acme/v1/wind.proto')
const scratch = mkdtempSync(join(tmpdir(), 'shoal-proto-files-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const protoc = process.env.PROTOC ?? 'protoc'
const protocMissing = spawnSync(protoc, ['--version']).status === 0 ? undefined : `${protoc} not runnable`

function write(name: string, content: string | Uint8Array): string {
  const path = join(scratch, name)
  mkdirSync(join(path, '..'), { recursive: true })
  writeFileSync(path, content)
  return path
}

const windObject = {
  header: { sourceId: 'mast1', frameId: '', stampNs: '1700000000123456789' },
  speed: 7.5,
  directionDeg: 270,
  displayUnit: 'SPEED_UNIT_KNOTS',
  gustMs: [120, 80],
  extra: { humidity: 0.5 },
  site: 'pier',
  stationId: '42',
  calibration: { offset: 0.25 },
}

describe('loadProtoTypes from .proto text', () => {
  const loaded = loadProtoTypes([windProto])
  const Wind = loaded.types.find((type) => type.typeName === 'acme.v1.Wind')!

  it('gives the messages of the file (nested too), not those of its imports', () => {
    expect(loaded.types.map((type) => type.typeName)).toEqual(['acme.v1.Wind', 'acme.v1.Wind.Calibration'])
    expect([...loaded.descriptorSets.keys()]).toEqual(['acme.v1.Wind', 'acme.v1.Wind.Calibration'])
  })

  it('round-trips JSON and binary', () => {
    const message = Wind.fromObject(windObject)
    expect(Wind.toObject(Wind.decode(Wind.encode(message)))).toMatchObject(windObject)
  })

  it('makes a set with each file, its syntax and its dependencies, imports first', () => {
    const set = descriptorExt.FileDescriptorSet.decode(loaded.descriptorSets.get('acme.v1.Wind')!)
    const files = set.file.map((file: IFileDescriptorProto) => ({
      name: file.name,
      dependency: file.dependency,
      syntax: file.syntax,
    }))
    expect(files).toEqual([
      { name: 'acme/v1/units.proto', dependency: [], syntax: 'proto3' },
      { name: 'shoal/v1/header.proto', dependency: [], syntax: 'proto3' },
      { name: 'wind.proto', dependency: ['acme/v1/units.proto', 'shoal/v1/header.proto'], syntax: 'proto3' },
    ])
  })

  it('makes a set protoc decodes with (a valid descriptor pool)', (context) => {
    if (protocMissing !== undefined) {
      if (process.env.CI === 'true') throw new Error(`protoc is required when CI=true: ${protocMissing}`)
      context.skip()
    }
    const setFile = write('wind.binpb', loaded.descriptorSets.get('acme.v1.Wind')!)
    const result = spawnSync(protoc, [`--descriptor_set_in=${setFile}`, '--decode=acme.v1.Wind'], {
      input: Wind.encode(Wind.fromObject(windObject)),
      encoding: 'utf8',
    })
    expect(result.stderr).toBe('')
    expect(result.stdout).toContain('speed: 7.5')
    expect(result.stdout).toContain('display_unit: SPEED_UNIT_KNOTS')
    expect(result.stdout).toContain('source_id: "mast1"')
  })

  it('gives a .proto identical to a built-in the built-in fingerprint', () => {
    const copy = loadProtoTypes([join(schemaProto, 'shoal/v1/imu.proto')])
    expect(copy.types.map((type) => type.typeName)).toEqual(['shoal.v1.Imu'])
    expect(copy.types[0]!.fingerprint).toBe(registry.byName('shoal.v1.Imu')!.fingerprint)
    const all = loadProtoTypes([schemaProto])
    for (const builtIn of registry.all()) {
      const again = all.types.find((type) => type.typeName === builtIn.typeName)
      expect(again?.fingerprint, builtIn.typeName).toBe(builtIn.fingerprint)
    }
  })

  it('takes imports of Shoal’s own files from the built-in sets when they are not on disk', () => {
    // imu.proto alone in a folder: its imports (geometry, header) are nowhere beside it
    const alone = write('alone/imu.proto', readFileSync(join(schemaProto, 'shoal/v1/imu.proto')))
    const imu = loadProtoTypes([alone])
    expect(imu.types.map((type) => type.typeName)).toEqual(['shoal.v1.Imu'])
    expect(imu.types[0]!.fingerprint).toBe(registry.byName('shoal.v1.Imu')!.fingerprint)
    const set = descriptorExt.FileDescriptorSet.decode(imu.descriptorSets.get('shoal.v1.Imu')!)
    expect(set.file.map((file: IFileDescriptorProto) => file.name)).toEqual([
      'shoal/v1/geometry.proto',
      'shoal/v1/header.proto',
      'imu.proto',
    ])
  })

  it('reads a folder recursively, naming files relative to it', () => {
    const folder = loadProtoTypes([fixtures])
    expect(folder.types.map((type) => type.typeName)).toEqual(['acme.v1.Wind', 'acme.v1.Wind.Calibration'])
    const set = descriptorExt.FileDescriptorSet.decode(folder.descriptorSets.get('acme.v1.Wind')!)
    expect(set.file.at(-1)?.name).toBe('acme/v1/wind.proto')
    expect(folder.types[0]!.fingerprint).toBe(loaded.types[0]!.fingerprint)
  })
})

describe('loadProtoTypes from descriptor sets', () => {
  it('reads protoc --descriptor_set_out files of any extension, with the same fingerprints', (context) => {
    if (protocMissing !== undefined) {
      if (process.env.CI === 'true') throw new Error(`protoc is required when CI=true: ${protocMissing}`)
      context.skip()
    }
    const out = join(scratch, 'wind.desc')
    const result = spawnSync(
      protoc,
      [
        '-I',
        fixtures,
        '-I',
        schemaProto,
        '--include_imports',
        `--descriptor_set_out=${out}`,
        'acme/v1/wind.proto',
      ],
      { encoding: 'utf8' },
    )
    expect(result.stderr).toBe('')
    const fromSet = loadProtoTypes([out])
    const fromText = loadProtoTypes([windProto])
    const names = fromSet.types.map((type) => type.typeName)
    // a set holds its imports' messages too (Header here)
    expect(names).toEqual(
      expect.arrayContaining(['acme.v1.Wind', 'acme.v1.Wind.Calibration', 'shoal.v1.Header']),
    )
    for (const type of fromText.types) {
      expect(fromSet.types.find((t) => t.typeName === type.typeName)?.fingerprint).toBe(type.fingerprint)
    }
  })

  it('reads a built-in set and gives the built-in fingerprint', () => {
    const file = write('imu.pb', fileDescriptorSet('shoal.v1.Imu')!)
    const imu = loadProtoTypes([file]).types.find((type) => type.typeName === 'shoal.v1.Imu')
    expect(imu?.fingerprint).toBe(registry.byName('shoal.v1.Imu')!.fingerprint)
  })
})

describe('loadProtoTypes errors name the file', () => {
  it('a missing path', () => {
    expect(() => loadProtoTypes([join(scratch, 'nope.proto')])).toThrow(/nope\.proto: ENOENT/)
  })

  it('a syntax error, with its line', () => {
    const file = write('bad/broken.proto', 'syntax = "proto3";\npackage x;\nmessage A {\n  int32 = 1;\n}\n')
    expect(() => loadProtoTypes([file])).toThrow(/broken\.proto.*line 4/)
  })

  it('an import that is not found', () => {
    const file = write('imp/lonely.proto', 'syntax = "proto3";\nimport "not/there.proto";\nmessage A {}\n')
    expect(() => loadProtoTypes([file])).toThrow(/lonely\.proto: import "not\/there\.proto" not found/)
  })

  it('an unknown field type', () => {
    const file = write('unres/u.proto', 'syntax = "proto3";\npackage u;\nmessage A { Missing m = 1; }\n')
    expect(() => loadProtoTypes([file])).toThrow(/u\.proto.*Missing/)
  })

  it('a file that is no descriptor set, and one without its imports', () => {
    const text = write('notaset.pb', 'hello, this is text')
    expect(() => loadProtoTypes([text])).toThrow(/notaset\.pb: not a binary FileDescriptorSet/)
    const imu = descriptorExt.FileDescriptorSet.decode(fileDescriptorSet('shoal.v1.Imu')!)
    const alone = descriptorExt.FileDescriptorSet.encode(
      descriptorExt.FileDescriptorSet.create({ file: [imu.file.at(-1)] }),
    ).finish()
    const file = write('alone.binpb', alone)
    expect(() => loadProtoTypes([file])).toThrow(/alone\.binpb: .*--include_imports/)
  })

  it('a file over the size cap', () => {
    const file = write('huge.binpb', new Uint8Array(MAX_PROTO_FILE_BYTES + 1))
    expect(() => loadProtoTypes([file])).toThrow(/huge\.binpb: larger than/)
  })

  it('a type declared twice differently', () => {
    const a = write('twice/a.proto', 'syntax = "proto3";\npackage t;\nmessage Same { int32 x = 1; }\n')
    const set = loadProtoTypes([a]).descriptorSets.get('t.Same')!
    const b = write('twice2/b.proto', 'syntax = "proto3";\npackage t;\nmessage Same { string x = 1; }\n')
    // two .proto files in one call share one protobufjs root: protobufjs refuses the duplicate
    expect(() => loadProtoTypes([a, b])).toThrow(/b\.proto.*Same/)
    // a .proto and a set that disagree
    const other = loadProtoTypes([b]).descriptorSets.get('t.Same')!
    const setFile = write('twice3/other.binpb', other)
    expect(() => loadProtoTypes([a, setFile])).toThrow(
      /other\.binpb: t\.Same differs from the one in .*a\.proto/,
    )
    expect(loadProtoTypes([a, write('twice4/same.binpb', set)]).types).toHaveLength(1)
  })
})

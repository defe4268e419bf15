import type { IConversionOptions } from 'protobufjs'
import protobuf from 'protobufjs'
import descriptorExt, { type IFileDescriptorSet } from 'protobufjs/ext/descriptor.js'
import { describe, expect, it } from 'vitest'
import { samples } from '../test/fixtures/samples.js'
import {
  describedTypeNames,
  fileDescriptorSet,
  PROTOBUF_SCHEMA_ENCODING,
  protobufSchema,
} from './descriptor-set.js'
import { types } from './shoal-types.js'

/** The JSON-friendly form `MessageType.toObject` writes, so results compare with the samples. */
const AS_SAMPLES: IConversionOptions = {
  longs: String,
  enums: String,
  bytes: String,
  defaults: true,
  arrays: true,
  json: true,
}

/** A protobufjs type built from nothing but the set's bytes: what a reader without Shoal does. */
function typeFromSet(set: Uint8Array, fullName: string): protobuf.Type {
  return protobuf.Root.fromDescriptor(set).resolveAll().lookupType(fullName)
}

describe('fileDescriptorSet', () => {
  it('has a set for every registered frame type', () => {
    for (const type of Object.values(types)) {
      expect(fileDescriptorSet(type.typeName), type.typeName).toBeInstanceOf(Uint8Array)
    }
    expect(describedTypeNames()).toEqual(expect.arrayContaining(Object.values(types).map((t) => t.typeName)))
  })

  it('is a FileDescriptorSet with the declaring file last and its imports before it', () => {
    const bytes = fileDescriptorSet('shoal.v1.Imu')!
    const set = descriptorExt.FileDescriptorSet.decode(bytes) as unknown as IFileDescriptorSet
    const files = set.file ?? []
    const names = files.map((file) => file.name)
    expect(names.at(-1)).toBe('shoal/v1/imu.proto')
    expect(names).toEqual(expect.arrayContaining(['shoal/v1/header.proto', 'shoal/v1/geometry.proto']))
    // every dependency of every file is in the set (transitive), and before the file that needs it
    for (const [index, file] of files.entries()) {
      for (const dependency of file.dependency ?? []) {
        expect(names.indexOf(dependency), `${file.name} imports ${dependency}`).toBeGreaterThanOrEqual(0)
        expect(names.indexOf(dependency)).toBeLessThan(index)
      }
    }
  })

  it('accepts a leading dot, and answers undefined for names Shoal does not declare', () => {
    expect(fileDescriptorSet('.shoal.v1.Temperature')).toEqual(fileDescriptorSet('shoal.v1.Temperature'))
    expect(fileDescriptorSet('shoal.v1.Nope')).toBeUndefined()
    expect(fileDescriptorSet('')).toBeUndefined()
    expect(protobufSchema('foreign.Type')).toBeUndefined()
  })

  it('returns a fresh copy every call', () => {
    const first = fileDescriptorSet('shoal.v1.Scalar')!
    const before = first.slice()
    first.fill(0)
    expect(fileDescriptorSet('shoal.v1.Scalar')).toEqual(before)
  })
})

describe('protobufSchema', () => {
  it('names the type and the protobuf encoding, with the set as data', () => {
    const schema = protobufSchema('.shoal.v1.Image')!
    expect(schema.name).toBe('shoal.v1.Image')
    expect(schema.encoding).toBe(PROTOBUF_SCHEMA_ENCODING)
    expect(schema.encoding).toBe('protobuf')
    expect(schema.data).toEqual(fileDescriptorSet('shoal.v1.Image'))
  })
})

describe.each(samples.map((sample) => ({ name: sample.type.typeName, ...sample })))(
  '$name from its set alone',
  ({ type, object }) => {
    const foreign = typeFromSet(fileDescriptorSet(type.typeName)!, type.typeName)

    it('decodes what Shoal encodes', () => {
      const bytes = type.encode(type.fromObject(object))
      expect(foreign.toObject(foreign.decode(bytes), AS_SAMPLES)).toEqual(object)
    })

    it('encodes what Shoal decodes, byte for byte', () => {
      const ours = type.encode(type.fromObject(object))
      const theirs = foreign.encode(foreign.fromObject(type.toObject(type.decode(ours)))).finish()
      expect(type.toObject(type.decode(theirs))).toEqual(object)
      expect(Buffer.from(theirs).toString('hex')).toBe(Buffer.from(ours).toString('hex'))
    })
  },
)

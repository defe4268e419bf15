import descriptorExt from 'protobufjs/ext/descriptor.js'
import { describe, expect, it } from 'vitest'
import { samples } from '../test/fixtures/samples.js'
import { describedTypeNames, fileDescriptorSet } from './descriptor-set.js'
import {
  descriptorSetOf,
  MAX_DESCRIPTOR_DEFINITIONS,
  MAX_DESCRIPTOR_FIELDS_PER_MESSAGE,
  MAX_DESCRIPTOR_SET_BYTES,
  messageTypeFromDescriptorSet,
  SchemaError,
  verifySchema,
} from './dynamic-type.js'
import { MAX_FINGERPRINT_STEPS } from './fingerprint.js'
import { registry } from './shoal-types.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** A set holding one proto3 file with the given messages (a FileDescriptorProto in object form). */
function setOf(messageType: object[], pkg = 'crafted'): Uint8Array {
  const set = descriptorExt.FileDescriptorSet.create({
    file: [{ name: 'crafted.proto', package: pkg, syntax: 'proto3', messageType }],
  })
  return descriptorExt.FileDescriptorSet.encode(set).finish()
}

describe('messageTypeFromDescriptorSet on every built-in type', () => {
  it('gives the build-time fingerprint for every registered type and building block', () => {
    for (const builtIn of registry.all()) {
      const dynamic = messageTypeFromDescriptorSet(fileDescriptorSet(builtIn.typeName)!, builtIn.typeName)
      expect(dynamic.typeName).toBe(builtIn.typeName)
      expect(dynamic.fingerprint, builtIn.typeName).toBe(builtIn.fingerprint)
    }
    // the building blocks (Header, Vector3...) build too, and with a leading dot
    for (const name of describedTypeNames()) {
      expect(messageTypeFromDescriptorSet(fileDescriptorSet(name)!, `.${name}`).typeName).toBe(name)
    }
  })

  describe.each(samples.map((sample) => ({ name: sample.type.typeName, ...sample })))(
    '$name',
    ({ type, object }) => {
      const dynamic = messageTypeFromDescriptorSet(fileDescriptorSet(type.typeName)!, type.typeName)

      it('encodes byte for byte what the generated codec encodes, and each decodes the other', () => {
        const generated = type.encode(type.fromObject(object))
        const reflected = dynamic.encode(dynamic.fromObject(object))
        expect(hex(reflected)).toBe(hex(generated))
        expect(dynamic.toObject(dynamic.decode(generated))).toEqual(object)
        expect(type.toObject(type.decode(reflected))).toEqual(object)
      })

      it('encodes into a larger buffer at a non-zero offset, and grows when it does not fit', () => {
        const message = dynamic.fromObject(object)
        const expected = dynamic.encode(message)
        // room for protobufjs's worst-case reserve (3 bytes per string character), as the transport gives
        const buf = new Uint8Array(expected.length * 4 + 64)
        const end = dynamic.encodeInto(message, buf, 7)
        expect(end).toBe(7 + expected.length)
        expect(hex(buf.subarray(7, 7 + expected.length))).toBe(hex(expected))
        const small = new Uint8Array(3)
        const grown = dynamic.encodeInto(message, small, 1)
        expect(grown).toBeInstanceOf(Uint8Array)
        expect(hex(grown as Uint8Array)).toBe(hex(expected))
      })

      it('creates, and refuses bad JSON naming the type', () => {
        expect(dynamic.toObject(dynamic.create({}))).toEqual(type.toObject(type.create({})))
        expect(() => dynamic.fromObject({ noSuchField: 1 })).toThrow(`${type.typeName}.fromObject`)
      })
    },
  )

  it('keeps the set it was built from (a copy: the caller may reuse its buffer)', () => {
    const set = fileDescriptorSet('shoal.v1.Imu')!
    const dynamic = messageTypeFromDescriptorSet(set, 'shoal.v1.Imu')
    const before = hex(set)
    set.fill(0)
    expect(hex(descriptorSetOf(dynamic)!)).toBe(before)
    expect(hex(descriptorSetOf(registry.byName('shoal.v1.Imu')!)!)).toBe(before)
  })
})

describe('messageTypeFromDescriptorSet errors', () => {
  it('names a missing type, and refuses enums and packages as message types', () => {
    const set = fileDescriptorSet('shoal.v1.Heartbeat')!
    for (const name of ['shoal.v1.Nope', 'shoal.v1', 'shoal.v1.Heartbeat.State', '']) {
      expect(() => messageTypeFromDescriptorSet(set, name)).toThrow(/declares no message/)
    }
  })

  it('refuses malformed bytes, an empty set and a set missing its imports', () => {
    const cases = [Uint8Array.of(0x0a, 0xff, 0xff), new Uint8Array(0), Uint8Array.of(0xff)]
    const imu = descriptorExt.FileDescriptorSet.decode(fileDescriptorSet('shoal.v1.Imu')!)
    const withoutImports = descriptorExt.FileDescriptorSet.encode(
      descriptorExt.FileDescriptorSet.create({ file: [imu.file.at(-1)] }),
    ).finish()
    for (const bytes of [...cases, withoutImports]) {
      const error = catchError(() => messageTypeFromDescriptorSet(bytes, 'shoal.v1.Imu'))
      expect(error).toBeInstanceOf(SchemaError)
      expect((error as SchemaError).reason).toBe('malformed')
    }
  })
})

describe('verifySchema', () => {
  const set = fileDescriptorSet('shoal.v1.Temperature')!
  const fingerprint = registry.byName('shoal.v1.Temperature')!.fingerprint

  it('accepts a set whose type has the announced fingerprint', () => {
    const verdict = verifySchema('shoal.v1.Temperature', fingerprint, set)
    expect(verdict.ok).toBe(true)
    if (verdict.ok) expect(verdict.type.fingerprint).toBe(fingerprint)
  })

  it('answers each reason', () => {
    const reasonOf = (v: ReturnType<typeof verifySchema>) => (v.ok ? 'ok' : v.reason)
    expect(reasonOf(verifySchema('shoal.v1.Temperature', fingerprint ^ 1, set))).toBe('fingerprint-mismatch')
    expect(reasonOf(verifySchema('shoal.v1.Imu', fingerprint, set))).toBe('missing-type')
    expect(reasonOf(verifySchema('shoal.v1.Temperature', fingerprint, set.subarray(0, 9)))).toBe('malformed')
    const huge = new Uint8Array(MAX_DESCRIPTOR_SET_BYTES + 1)
    expect(reasonOf(verifySchema('shoal.v1.Temperature', fingerprint, huge))).toBe('too-large')
  })

  it('bounds the fingerprint of a schema crafted to cost 2^depth', () => {
    // T0 has two fields of type T1, T1 two of T2, ...: without a budget, 2^depth descriptions.
    const depth = 40
    const messages = Array.from({ length: depth + 1 }, (_, i) => ({
      name: `T${i}`,
      field:
        i === depth
          ? [{ name: 'x', number: 1, label: 1, type: 1 }]
          : [1, 2].map((number) => ({
              name: `f${number}`,
              number,
              label: 1,
              type: 11,
              typeName: `.crafted.T${i + 1}`,
            })),
    }))
    expect(2 ** depth).toBeGreaterThan(MAX_FINGERPRINT_STEPS)
    const verdict = verifySchema('crafted.T0', 0, setOf(messages))
    expect(verdict.ok).toBe(false)
    if (!verdict.ok) expect(verdict.reason).toBe('too-large')
    // a shallow one of the same shape is fine
    expect(messageTypeFromDescriptorSet(setOf(messages), `crafted.T${depth - 5}`).typeName).toBe(
      `crafted.T${depth - 5}`,
    )
  })
})

describe('verifySchema on sets crafted to cost CPU (protobufjs builds a message in fields²)', () => {
  const fields = (n: number, typeName = '.crafted.T') =>
    Array.from({ length: n }, (_, i) => ({ name: `f${i}`, number: i + 1, label: 1, type: 11, typeName }))
  const detailOf = (v: ReturnType<typeof verifySchema>) => (v.ok ? 'ok' : `${v.reason}: ${v.detail}`)

  it('refuses a message with more than MAX_DESCRIPTOR_FIELDS_PER_MESSAGE fields before building it', () => {
    // 32,768 fields (760 KB) took protobufjs 224 s to build: refused at once, by count.
    const set = setOf([{ name: 'T', field: fields(32_768) }])
    expect(set.length).toBeLessThan(MAX_DESCRIPTOR_SET_BYTES)
    expect(detailOf(verifySchema('crafted.T', 1, set))).toMatch(
      /^too-large: .*MAX_DESCRIPTOR_FIELDS_PER_MESSAGE/,
    )
    // the same, nested a level down
    const nested = setOf([
      { name: 'Outer', nestedType: [{ name: 'T', field: fields(MAX_DESCRIPTOR_FIELDS_PER_MESSAGE + 1) }] },
    ])
    expect(detailOf(verifySchema('crafted.Outer', 1, nested))).toMatch(/MAX_DESCRIPTOR_FIELDS_PER_MESSAGE/)
  })

  it('builds a message with exactly MAX_DESCRIPTOR_FIELDS_PER_MESSAGE fields', () => {
    const set = setOf([{ name: 'T', field: fields(MAX_DESCRIPTOR_FIELDS_PER_MESSAGE) }])
    const type = messageTypeFromDescriptorSet(set, 'crafted.T')
    expect(verifySchema('crafted.T', type.fingerprint, set).ok).toBe(true)
  })

  it('trusts a local set (messageTypeFromDescriptorSet: --proto): no count cap', () => {
    const set = setOf([{ name: 'T', field: fields(MAX_DESCRIPTOR_FIELDS_PER_MESSAGE + 1) }])
    const type = messageTypeFromDescriptorSet(set, 'crafted.T')
    expect(detailOf(verifySchema('crafted.T', type.fingerprint, set))).toMatch(/^too-large/)
  })

  it('refuses a set of more than MAX_DESCRIPTOR_DEFINITIONS definitions, each message small', () => {
    const per = 7 // a message and its 7 fields: 8 definitions
    const messages = Array.from({ length: Math.ceil(MAX_DESCRIPTOR_DEFINITIONS / (per + 1)) }, (_, i) => ({
      name: `M${i}`,
      field: fields(per, '.crafted.M0'),
    }))
    const set = setOf(messages)
    expect(set.length).toBeLessThan(MAX_DESCRIPTOR_SET_BYTES)
    expect(detailOf(verifySchema('crafted.M0', 1, set))).toMatch(/^too-large: .*MAX_DESCRIPTOR_DEFINITIONS/)
    // one message fewer is within it (a file counts as one)
    const fewer = setOf(messages.slice(0, Math.floor((MAX_DESCRIPTOR_DEFINITIONS - 1) / (per + 1))))
    expect(detailOf(verifySchema('crafted.M0', 1, fewer))).toMatch(/^fingerprint-mismatch/)
  })
})

function catchError(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error('expected an error')
}

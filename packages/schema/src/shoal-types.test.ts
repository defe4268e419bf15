import fc from 'fast-check'
import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { samples } from '../test/fixtures/samples.js'
import { descriptor } from './gen/descriptor.js'
import { shoal } from './gen/shoal.js'
import { Heartbeat, Image, Imu, registry, types } from './shoal-types.js'
import { toUint64, uint64ToBigInt } from './uint64.js'

const MiB = 1024 * 1024

/** Deterministic pseudo-random bytes (xorshift32), so a failure is reproducible. */
function noise(length: number, seed = 0x9e3779b9): Uint8Array {
  const bytes = new Uint8Array(length)
  let state = seed >>> 0
  for (let i = 0; i < length; i++) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    bytes[i] = state & 0xff
  }
  return bytes
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  )
}

describe('every registered type', () => {
  it('has a sample, and every sample is registered', () => {
    expect(samples.map((s) => s.type.typeName).sort()).toEqual(
      registry
        .all()
        .map((t) => t.typeName)
        .sort(),
    )
  })

  it('is exactly the set of shoal.v1 messages whose field 1 is `Header header`', () => {
    const root = protobuf.Root.fromJSON(descriptor).resolveAll()
    const v1 = root.lookup('shoal.v1') as protobuf.Namespace
    const withHeader = v1.nestedArray
      .filter((object): object is protobuf.Type => object instanceof protobuf.Type)
      .filter((type) => {
        const field = type.fieldsById[1]
        return field?.name === 'header' && field.resolvedType?.fullName === '.shoal.v1.Header'
      })
      .map((type) => type.fullName.slice(1))
    expect(withHeader.length).toBeGreaterThanOrEqual(5)
    expect(
      registry
        .all()
        .map((t) => t.typeName)
        .sort(),
    ).toEqual(withHeader.sort())
  })

  it('exposes the same handles in `types` and in the registry', () => {
    for (const [shortName, type] of Object.entries(types)) {
      expect(type.typeName).toBe(`shoal.v1.${shortName}`)
      expect(registry.byName(type.typeName)).toBe(type)
      expect(registry.byFingerprint(type.fingerprint)).toBe(type)
    }
  })
})

describe.each(samples.map((sample) => [sample.type.typeName, sample] as const))(
  '%s',
  (_name, { type, object }) => {
    it('round-trips fromObject → encode → decode → toObject', () => {
      const bytes = type.encode(type.fromObject(object))
      expect(bytes.byteLength).toBeGreaterThan(0)
      expect(type.toObject(type.decode(bytes))).toEqual(object)
    })

    it('round-trips through JSON text', () => {
      const text = JSON.stringify(type.toObject(type.decode(type.encode(type.fromObject(object)))))
      expect(type.toObject(type.fromObject(JSON.parse(text)))).toEqual(object)
    })

    it('decodes the empty message to all defaults', () => {
      const empty = type.toObject(type.decode(new Uint8Array(0)))
      expect(empty.header).toBeNull()
      expect(type.encode(type.create())).toHaveLength(0)
    })

    it('rejects a truncated encoding', () => {
      const bytes = type.encode(type.fromObject(object))
      expect(() => type.decode(bytes.subarray(0, bytes.length - 1))).toThrow()
    })
  },
)

describe('Image', () => {
  const width = 1280
  const height = 1024
  const step = width * 3
  const data = noise(step * height) // 3.75 MiB of rgb8

  it('round-trips several MiB of pixel data', () => {
    expect(data.byteLength).toBeGreaterThan(3 * MiB)
    const bytes = Image.encode(
      Image.create({
        header: {
          sourceId: 'cam0',
          frameId: 'camera_optical',
          stampNs: toUint64(1_700_000_000_000_000_001n),
        },
        width,
        height,
        encoding: 'rgb8',
        step,
        data,
      }),
    )
    expect(bytes.byteLength).toBeGreaterThan(data.byteLength)
    const decoded = Image.decode(bytes)
    expect([decoded.width, decoded.height, decoded.step, decoded.encoding]).toEqual([
      width,
      height,
      step,
      'rgb8',
    ])
    expect(uint64ToBigInt(decoded.header?.stampNs)).toBe(1_700_000_000_000_000_001n)
    expect(decoded.data).toHaveLength(data.byteLength)
    expect(sameBytes(decoded.data as Uint8Array, data)).toBe(true)
  })

  it('round-trips several MiB through toObject (base64) and fromObject', () => {
    const object = Image.toObject(Image.create({ width, height, step, encoding: 'rgb8', data }))
    expect(object.data).toBe(Buffer.from(data).toString('base64'))
    const back = Image.fromObject(JSON.parse(JSON.stringify(object)))
    expect(sameBytes(back.data as Uint8Array, data)).toBe(true)
  })

  it('decodes `bytes` fields as views into the input buffer (documented: copy before reuse)', () => {
    const input = Image.encode(Image.create({ data: noise(64) }))
    const decoded = Image.decode(input)
    expect((decoded.data as Uint8Array).buffer).toBe(input.buffer)
  })
})

describe('Imu', () => {
  const finite = fc.double({ noNaN: true }).map((x) => (Object.is(x, -0) ? 0 : x))
  const vector = fc.record({ x: finite, y: finite, z: finite })
  // Decoded messages keep proto3 defaults on the prototype, not as own properties: read them explicitly.
  const xyz = (v: shoal.v1.Vector3.$Properties | null | undefined) => ({ x: v?.x, y: v?.y, z: v?.z })

  it('round-trips arbitrary doubles and 64-bit stamps exactly', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        vector,
        vector,
        fc.array(fc.double(), { maxLength: 9 }),
        (stamp, angularVelocity, linearAcceleration, covariance) => {
          const decoded = Imu.decode(
            Imu.encode(
              Imu.create({
                header: { sourceId: 'imu0', stampNs: toUint64(stamp) },
                angularVelocity,
                linearAcceleration,
                orientationCovariance: covariance,
              }),
            ),
          )
          expect(uint64ToBigInt(decoded.header?.stampNs)).toBe(stamp)
          expect(xyz(decoded.angularVelocity)).toEqual(angularVelocity)
          expect(xyz(decoded.linearAcceleration)).toEqual(linearAcceleration)
          expect(decoded.orientationCovariance).toEqual(covariance)
        },
      ),
    )
  })

  it('decodes to instances of the generated class', () => {
    expect(Imu.decode(Imu.encode(Imu.create({})))).toBeInstanceOf(shoal.v1.Imu)
  })
})

describe('Heartbeat', () => {
  it('encodes enum values by number and decodes them back', () => {
    const bytes = Heartbeat.encode(Heartbeat.create({ state: shoal.v1.Heartbeat.State.STATE_STOPPING }))
    expect([...bytes]).toEqual([0x18, 5]) // field 3, varint, value 5
    expect(Heartbeat.decode(bytes).state).toBe(shoal.v1.Heartbeat.State.STATE_STOPPING)
  })
})

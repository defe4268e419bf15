import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { descriptor } from './gen/descriptor.js'
import { shoal } from './gen/shoal.js'
import { defineMessageType } from './message-type.js'
import { Heartbeat, Image, Imu, NavSatFix, Temperature } from './shoal-types.js'

const root = protobuf.Root.fromJSON(descriptor).resolveAll()

describe('defineMessageType', () => {
  it('rejects a static class paired with another reflection type', () => {
    expect(() => defineMessageType(shoal.v1.Imu, root.lookupType('shoal.v1.Temperature'))).toThrow(
      'static class shoal.v1.Imu does not match reflection type shoal.v1.Temperature',
    )
  })

  it('returns a frozen handle', () => {
    expect(Object.isFrozen(Imu)).toBe(true)
  })
})

describe('toObject', () => {
  it('includes defaults, longs as strings, enums as names, bytes as base64', () => {
    expect(Heartbeat.toObject(Heartbeat.create({ header: { sourceId: 's', stampNs: 5 } }))).toEqual({
      header: { sourceId: 's', frameId: '', stampNs: '5' },
      uptimeNs: '0',
      state: 'STATE_UNSPECIFIED',
      detail: '',
      sequence: '0',
    })
    expect(Image.toObject(Image.create({ data: new Uint8Array([0xfb, 0xff]) })).data).toBe('+/8=')
    expect(Imu.toObject(Imu.create()).orientationCovariance).toEqual([])
  })

  it('writes non-finite doubles as the ProtoJSON strings', () => {
    const object = Temperature.toObject(
      Temperature.create({ celsius: Number.NaN, variance: Number.POSITIVE_INFINITY }),
    )
    expect(object).toMatchObject({ celsius: 'NaN', variance: 'Infinity' })
    const back = Temperature.fromObject(JSON.parse(JSON.stringify(object)))
    expect(back.celsius).toBeNaN()
    expect(back.variance).toBe(Number.POSITIVE_INFINITY)
  })
})

describe('fromObject', () => {
  it('accepts proto (snake_case) field names, numbers for longs and enums', () => {
    const message = NavSatFix.fromObject({
      header: { source_id: 'gps0', stamp_ns: 42 },
      position_covariance_type: 3,
      status: 'FIX_STATUS_FIX',
    })
    expect(message.header?.sourceId).toBe('gps0')
    expect(String(message.header?.stampNs)).toBe('42')
    expect(message.positionCovarianceType).toBe(shoal.v1.NavSatFix.CovarianceType.COVARIANCE_TYPE_KNOWN)
    expect(message.status).toBe(shoal.v1.NavSatFix.FixStatus.FIX_STATUS_FIX)
  })

  it('returns an instance of the generated class, ready to encode', () => {
    const message = Imu.fromObject({ linearAcceleration: { z: 9.8125 } })
    expect(message).toBeInstanceOf(shoal.v1.Imu)
    expect(Imu.decode(Imu.encode(message)).linearAcceleration?.z).toBe(9.8125)
  })

  it.each([
    [
      'an unknown top-level field',
      Imu,
      { bogus: 1 },
      /shoal\.v1\.Imu\.fromObject: invalid input: .*unknown field: "bogus"/,
    ],
    ['an unknown nested field', Imu, { angularVelocity: { x: 1, w: 2 } }, /Vector3: unknown field: "w"/],
    [
      'a non-numeric string for a double',
      Temperature,
      { celsius: 'warm' },
      /celsius: invalid number: "warm"/,
    ],
    ['a number where a string is expected', Imu, { header: { sourceId: 7 } }, /sourceId: expected string/],
    ['a fractional integer', Image, { width: 1.5 }, /width: not an integer/],
    ['a negative unsigned', Heartbeat, { uptimeNs: '-1' }, /uptimeNs/],
    ['a non-numeric uint64 string', Heartbeat, { sequence: '12abc' }, /sequence: invalid integer/],
    [
      'an unknown enum name',
      Heartbeat,
      { state: 'STATE_ASLEEP' },
      /state: unknown enum value: "STATE_ASLEEP"/,
    ],
    [
      'a non-array for a repeated field',
      NavSatFix,
      { positionCovariance: 1 },
      /positionCovariance: expected array/,
    ],
    ['invalid base64', Image, { data: '%%%' }, /shoal\.v1\.Image\.fromObject: invalid input/],
    ['an array instead of a message', Imu, { header: [] }, /expected object/],
  ])('rejects %s', (_what, type, input, message) => {
    expect(() => (type.fromObject as (o: Record<string, unknown>) => unknown)(input)).toThrow(message)
  })

  it('keeps the protobufjs error as the cause', () => {
    try {
      Imu.fromObject({ bogus: 1 })
      expect.unreachable()
    } catch (error) {
      expect((error as Error).cause).toBeInstanceOf(Error)
    }
  })
})

describe('encodeInto', () => {
  const imu = Imu.fromObject({
    header: { sourceId: 'imu0@a-source-id-longer-than-forty-characters', stampNs: '1700000000123456789' },
    linearAcceleration: { x: 0.5, y: -1, z: 9.8125 },
    orientationCovariance: [1, 2, 3, 4, 5, 6, 7, 8, 9],
  })

  it('writes the same bytes as encode, at the offset, and nothing before it', () => {
    const expected = Imu.encode(imu)
    const buf = Buffer.alloc(1024, 0xaa)
    const end = Imu.encodeInto(imu, buf, 100)
    expect(end).toBe(100 + expected.length)
    expect(buf.subarray(100, end as number)).toEqual(Buffer.from(expected))
    expect(buf.subarray(0, 100).every((b) => b === 0xaa)).toBe(true)
    expect(buf.subarray(end as number).every((b) => b === 0xaa)).toBe(true)
  })

  it('accepts a plain Uint8Array view', () => {
    const backing = new Uint8Array(600)
    const view = backing.subarray(50, 550)
    const end = Imu.encodeInto(imu, view, 7)
    expect(Buffer.from(view.subarray(7, end as number))).toEqual(Buffer.from(Imu.encode(imu)))
  })

  it('returns the encoding in a new buffer when it does not fit, and the next call is unaffected', () => {
    const expected = Imu.encode(imu)
    const small = Buffer.alloc(expected.length + 10)
    const result = Imu.encodeInto(imu, small, 11)
    expect(result).toBeInstanceOf(Uint8Array)
    expect(Buffer.from(result as Uint8Array)).toEqual(Buffer.from(expected))
    const exact = Buffer.alloc(expected.length)
    expect(Imu.encodeInto(imu, exact, 0)).toBe(expected.length)
    expect(exact).toEqual(Buffer.from(expected))
  })

  it('encodes an empty message as no bytes', () => {
    expect(Temperature.encodeInto(Temperature.create(), Buffer.alloc(4), 4)).toBe(4)
  })
})

import { Image, Imu, Temperature, toUint64 } from '@shoal/schema'
import { describe, expect, it } from 'vitest'
import { HEADER, readHeaders, readMessageHeader, writeHeaders } from './headers.js'

describe('NATS headers of a Shoal message', () => {
  const h = {
    typeName: 'shoal.v1.Imu',
    fingerprint: 0x0a0b0c0d,
    sessionId: 0xfeedbeef,
    sequence: 4_000_000_000,
    hops: 3,
    stampNs: '1765000000123456789',
    sourceId: 'imu0@rover',
  }

  it('round-trip, with the documented names and spellings', () => {
    const written = writeHeaders(h)
    expect(written.get(HEADER.fingerprint)).toBe('0a0b0c0d')
    expect(written.get(HEADER.session)).toBe('feedbeef')
    expect(written.get(HEADER.sequence)).toBe('4000000000')
    expect(readHeaders(written)).toEqual(h)
    const bare = writeHeaders({ ...h, typeName: undefined, stampNs: undefined, sourceId: undefined })
    expect(bare.has(HEADER.type)).toBe(false)
    expect(readHeaders(bare)).toEqual({ ...h, typeName: undefined, stampNs: undefined, sourceId: undefined })
  })

  it('leaves out a source id that is no header line', () => {
    expect(writeHeaders({ ...h, sourceId: 'a\r\nX: y' }).has(HEADER.sourceId)).toBe(false)
  })

  it('refuses missing or out-of-range numbers', () => {
    expect(readHeaders(undefined)).toBeUndefined()
    for (const [name, value] of [
      [HEADER.session, '1ffffffff'],
      [HEADER.sequence, '4294967296'],
      [HEADER.sequence, '-1'],
      [HEADER.fingerprint, 'xyz'],
      [HEADER.hops, '256'],
    ] as const) {
      const bad = writeHeaders(h)
      bad.set(name, value)
      expect(readHeaders(bad), `${name}: ${value}`).toBeUndefined()
    }
  })

  it('reads header.source_id and header.stamp_ns from the wire, u64 exact', () => {
    const stampNs = toUint64('18446744073709551615')
    expect(readMessageHeader(Imu.encode({ header: { sourceId: 'imu0', frameId: 'x', stampNs } }))).toEqual({
      sourceId: 'imu0',
      stampNs: '18446744073709551615',
    })
    const image = Image.encode({ width: 2, data: new Uint8Array(10), header: { sourceId: 'cam' } })
    expect(readMessageHeader(image)).toEqual({ sourceId: 'cam' })
    expect(readMessageHeader(Temperature.encode({ celsius: 20 }))).toEqual({})
    expect(readMessageHeader(new Uint8Array([0xff, 0xff, 0xff]))).toEqual({})
  })
})

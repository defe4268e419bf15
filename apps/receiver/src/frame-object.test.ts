import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createDynamicRegistry, Image, Imu, loadProtoTypes, type MessageType, registry } from '@shoal/schema'
import type { ReceivedFrame } from '@shoal/transport'
import { describe, expect, it } from 'vitest'
import { frameToObject } from './frame-object.js'

function received(type: MessageType, message: Record<string, unknown>): ReceivedFrame {
  const payload = type.encode(type.create(message))
  return {
    topic: 'camera',
    typeName: type.typeName,
    fingerprint: type.fingerprint,
    message: type.decode(payload),
    payload,
    source: { sessionId: 0xa1b2c3d4, session: 'a1b2c3d4', address: '127.0.0.1', port: 40000 },
    sequence: 7,
    hops: 2,
    ackRequested: false,
    receivedAt: Date.UTC(2025, 0, 2, 3, 4, 5, 678),
  }
}

describe('frameToObject', () => {
  it('gives the frame fields and the message via toObject', () => {
    const object = frameToObject(received(Imu, { linearAcceleration: { z: 9.81 } }), { full: false })
    expect(object).toMatchObject({
      receivedAt: '2025-01-02T03:04:05.678Z',
      topic: 'camera',
      type: 'shoal.v1.Imu',
      fingerprint: `0x${Imu.fingerprint.toString(16).padStart(8, '0')}`,
      source: { session: 'a1b2c3d4', address: '127.0.0.1', port: 40000 },
      sequence: 7,
      hops: 2,
      message: { linearAcceleration: { x: 0, y: 0, z: 9.81 }, header: null },
    })
  })

  it('replaces bytes fields by their length unless full', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff)
    const message = { header: { sourceId: 'cam' }, width: 10, height: 10, encoding: 'mono8', data }
    const short = frameToObject(received(Image, message), { full: false })
    expect(short.message).toMatchObject({ width: 10, encoding: 'mono8', data: { bytes: 1000 } })
    expect(() => Image.fromObject(short.message)).toThrow() // never mistaken for the data
    const full = frameToObject(received(Image, message), { full: true })
    expect(Buffer.from(full.message.data as string, 'base64')).toEqual(Buffer.from(data))
  })

  it('keeps an empty bytes field as a length of 0', () => {
    const object = frameToObject(received(Image, { width: 1 }), { full: false })
    expect(object.message.data).toEqual({ bytes: 0 })
  })

  it('names an unknown fingerprint and leaves the message empty', () => {
    const frame = { ...received(Imu, {}), typeName: undefined, fingerprint: 0xdeadbeef, message: undefined }
    expect(frameToObject(frame, { full: false })).toMatchObject({
      type: 'unknown',
      fingerprint: '0xdeadbeef',
      message: {},
    })
  })

  it('shows a type learned in-band (a run-time type the built-in registry lacks) from the frame’s own type', () => {
    const proto = fileURLToPath(
      new URL('../../../packages/schema/test/fixtures/proto/acme/v1/wind.proto', import.meta.url),
    )
    const Wind = loadProtoTypes([proto]).types.find((t) => t.typeName === 'acme.v1.Wind')!
    const payload = Wind.encode({ speed: 4.5, site: 'ridge', calibration: { offset: 1 } })
    const frame: ReceivedFrame = {
      ...received(Imu, {}),
      topic: 'wind',
      typeName: Wind.typeName,
      type: Wind,
      fingerprint: Wind.fingerprint,
      message: Wind.decode(payload),
      payload,
    }
    expect(frameToObject(frame, { full: false })).toMatchObject({
      type: 'acme.v1.Wind',
      message: { speed: 4.5, site: 'ridge', calibration: { offset: 1 } },
    })
  })
})

describe('frameToObject of a type loaded at run time (--proto)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-frame-object-'))
  const proto = join(dir, 'blob.proto')
  writeFileSync(
    proto,
    'syntax = "proto3";\npackage acme.v1;\nimport "shoal/v1/header.proto";\n' +
      'message Part { bytes chunk = 1; }\n' +
      'message Blob { shoal.v1.Header header = 1; bytes data = 2; repeated Part parts = 3; string note = 4; }\n',
  )
  const Blob = loadProtoTypes([proto]).types.find((type) => type.typeName === 'acme.v1.Blob')!
  rmSync(dir, { recursive: true, force: true })
  const types = createDynamicRegistry(registry)
  types.add(Blob)
  const message = {
    header: { sourceId: 'blob0' },
    data: new Uint8Array(40),
    parts: [{ chunk: new Uint8Array(3) }, { chunk: new Uint8Array(5) }],
    note: 'hi',
  }

  it('prints the message with the registry given, bytes fields abbreviated, nested ones too', () => {
    const object = frameToObject(received(Blob, message), { full: false, types })
    expect(object.type).toBe('acme.v1.Blob')
    expect(object.message).toMatchObject({
      header: { sourceId: 'blob0' },
      data: { bytes: 40 },
      parts: [{ chunk: { bytes: 3 } }, { chunk: { bytes: 5 } }],
      note: 'hi',
    })
    const full = frameToObject(received(Blob, message), { full: true, types })
    expect(full.message).toMatchObject({ data: Buffer.alloc(40).toString('base64') })
  })

  it('without the registry (the built-in types only), prints no message', () => {
    expect(frameToObject(received(Blob, message), { full: false }).message).toEqual({})
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FrameKind, MIN_DATAGRAM_BUDGET } from './constants.js'
import { decodeFrame } from './frame.js'
import {
  decodeSchemaRequest,
  encodeSchemaAnnounce,
  encodeSchemaRequest,
  SCHEMA_REQUEST_PAYLOAD_BYTES,
  schemaRequestLength,
} from './schema.js'

const join = ([head, body, crc]: Uint8Array[]) => {
  const out = new Uint8Array(head!.length + body!.length + crc!.length)
  out.set(head!)
  out.set(body!, head!.length)
  out.set(crc!, head!.length + body!.length)
  return out
}

describe('SCHEMA announces', () => {
  it('carry the type name as topic, its fingerprint, the announce counter and the set as payload', () => {
    const set = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff)
    const datagrams = encodeSchemaAnnounce(
      {
        sessionId: 0xabc,
        sequence: 7,
        typeName: 'acme.v1.Wind',
        fingerprint: 0xdeadbeef,
        descriptorSet: set,
      },
      1472,
    )
    expect(datagrams).toHaveLength(1)
    const frame = decodeFrame(join(datagrams[0]!))
    expect(frame).toMatchObject({
      ok: true,
      header: {
        kind: FrameKind.SCHEMA,
        topic: 'acme.v1.Wind',
        sessionId: 0xabc,
        sequence: 7,
        fingerprint: 0xdeadbeef,
        fragmentCount: 1,
        messageLength: 300,
      },
    })
    if (frame.ok) expect(frame.payload).toEqual(set)
  })

  it('are fragmented like a large message, every fragment within the budget, and put back in order', () => {
    const set = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff)
    const datagrams = encodeSchemaAnnounce(
      { sessionId: 1, sequence: 0, typeName: 'acme.v1.Big', fingerprint: 5, descriptorSet: set },
      MIN_DATAGRAM_BUDGET,
    ).map(join)
    expect(datagrams.length).toBeGreaterThan(1)
    const whole = new Uint8Array(set.length)
    for (const datagram of datagrams) {
      expect(datagram.length).toBeLessThanOrEqual(MIN_DATAGRAM_BUDGET)
      const frame = decodeFrame(datagram)
      if (!frame.ok) throw new Error(frame.reason)
      expect(frame.header).toMatchObject({ kind: FrameKind.SCHEMA, fragmentCount: datagrams.length })
      whole.set(frame.payload, frame.header.fragmentOffset)
    }
    expect(whole).toEqual(set)
  })

  it('refuse a type name that cannot be a topic', () => {
    expect(() =>
      encodeSchemaAnnounce(
        {
          sessionId: 1,
          sequence: 0,
          typeName: 'x'.repeat(256),
          fingerprint: 5,
          descriptorSet: new Uint8Array(1),
        },
        1472,
      ),
    ).toThrow(/topic/)
  })
})

describe('SCHEMA_REQUEST frames', () => {
  it('round-trip: session and topic of the stream, the wanted fingerprint, the receiver session', () => {
    const datagram = encodeSchemaRequest({
      sessionId: 0x1234,
      topic: 'wind',
      sequence: 3,
      fingerprint: 0xcafe,
      receiverSession: 0xfeedf00d,
    })
    expect(datagram.length).toBe(schemaRequestLength('wind'))
    const frame = decodeFrame(datagram)
    if (!frame.ok) throw new Error(frame.reason)
    expect(frame.header).toMatchObject({
      kind: FrameKind.SCHEMA_REQUEST,
      sessionId: 0x1234,
      topic: 'wind',
      sequence: 3,
      fingerprint: 0xcafe,
    })
    expect(decodeSchemaRequest(frame.header, frame.payload)).toBe(0xfeedf00d)
  })

  it('refuse a payload that is not exactly a receiver session, and fingerprint 0', () => {
    const datagram = encodeSchemaRequest({
      sessionId: 1,
      topic: 't',
      sequence: 0,
      fingerprint: 9,
      receiverSession: 1,
    })
    const frame = decodeFrame(datagram)
    if (!frame.ok) throw new Error(frame.reason)
    expect(decodeSchemaRequest({ ...frame.header, fingerprint: 0 }, frame.payload)).toBeUndefined()
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (payload) => {
        const session = decodeSchemaRequest(frame.header, payload)
        expect(session === undefined).toBe(payload.length !== SCHEMA_REQUEST_PAYLOAD_BYTES)
      }),
    )
  })
})

/**
 * Hostile SCHEMA announces at a receive engine with no socket: whatever their header fields,
 * fragment geometry and payload (random bytes, or a real descriptor set with bytes changed, under
 * the real type's name and fingerprint), none throws out of the receive path, each datagram ends
 * in exactly one outcome, and nothing is learned but the real type under its real fingerprint (a
 * changed byte the fingerprint does not cover, in a comment or an option, still defines it).
 */
import { fileURLToPath } from 'node:url'
import { loadProtoTypes } from '@shoal/schema'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ReceiveEngine } from '../src/receive/engine.js'
import type { SubscriberInfo } from '../src/receive/options.js'
import {
  encodedFrameLength,
  encodeFrameInto,
  encodeSchemaAnnounce,
  encodeTopic,
  FrameKind,
} from '../src/wire/index.js'

const WIND_PROTO = fileURLToPath(
  new URL('../../schema/test/fixtures/proto/acme/v1/wind.proto', import.meta.url),
)
const loaded = loadProtoTypes([WIND_PROTO])
const Wind = loaded.types.find((t) => t.typeName === 'acme.v1.Wind')!
// A copy of its own: the loader's may be a Buffer, whose `slice` is a view, not a copy.
const WIND_SET = new Uint8Array(loaded.descriptorSets.get('acme.v1.Wind')!)

const info: SubscriberInfo = {
  mode: 'multicast',
  family: 4,
  groups: ['239.0.0.1'],
  source: undefined,
  port: 5000,
  interface: 'lo',
  interfaceAddress: '127.0.0.1',
  bound: { address: '239.0.0.1', port: 5000 },
  recvBuffer: { requested: 1 << 20, granted: 1 << 20, clamped: false },
  name: 'fuzz',
  budget: 1472,
}

function engine() {
  const learned: string[] = []
  const sent: Uint8Array[] = []
  const e = new ReceiveEngine({ group: '239.0.0.1', port: 5000 }, info, 7, {
    emit: (event, payload) => {
      if (event === 'schema') {
        const { typeName, fingerprint, type } = payload as {
          typeName: string
          fingerprint: number
          type: { fingerprint: number }
        }
        learned.push(`${typeName}:${fingerprint}:${type.fingerprint}`)
      }
      return true
    },
    listenerCount: () => 0,
    send: (datagram, _to, done) => {
      sent.push(datagram)
      done(null)
    },
  })
  return { e, learned, sent }
}

/** One SCHEMA datagram with these header fields and payload (CRC right; geometry as given). */
function announceDatagram(fields: {
  topic: string
  fingerprint: number
  messageLength: number
  fragmentOffset: number
  fragmentIndex: number
  fragmentCount: number
  payload: Uint8Array
}): Uint8Array {
  const topicBytes = encodeTopic(fields.topic)
  const header = {
    kind: FrameKind.SCHEMA,
    flags: 0,
    hops: 0,
    topic: fields.topic,
    sessionId: 99,
    sequence: 0,
    fingerprint: fields.fingerprint,
    messageLength: fields.messageLength,
    fragmentOffset: fields.fragmentOffset,
    fragmentIndex: fields.fragmentIndex,
    fragmentCount: fields.fragmentCount,
    payloadLength: fields.payload.length,
    extensionLength: 0,
  } as const
  const out = new Uint8Array(encodedFrameLength(header, topicBytes))
  encodeFrameInto(header, topicBytes, fields.payload, out, 0)
  return out
}

describe('hostile SCHEMA announces at a receive engine', () => {
  it('never throw, end in one outcome each, and teach no type under a fingerprint not its own', () => {
    const { e, learned } = engine()
    let datagrams = 0
    fc.assert(
      fc.property(
        fc.record({
          topic: fc.constantFrom('acme.v1.Wind', 'acme.v1.Nope', 'x', 'shoal.v1.Imu', '.acme.v1.Wind'),
          fingerprint: fc.oneof(fc.constant(Wind.fingerprint), fc.integer({ min: 0, max: 0xffffffff })),
          fragmentCount: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 0xffff })),
          fragmentIndex: fc.integer({ min: 0, max: 0xffff }),
          fragmentOffset: fc.integer({ min: 0, max: 4096 }),
          extra: fc.integer({ min: 0, max: 4096 }),
          payload: fc.oneof(
            fc.uint8Array({ maxLength: 1200 }),
            // The real set with one byte changed, or cut short.
            fc.tuple(fc.nat(WIND_SET.length - 1), fc.integer({ min: 1, max: 255 })).map(([at, xor]) => {
              const copy = WIND_SET.slice()
              copy[at] = copy[at]! ^ xor
              return copy
            }),
            fc.nat(WIND_SET.length - 1).map((n) => WIND_SET.slice(0, n)),
          ),
        }),
        (f) => {
          const whole = f.fragmentCount === 1
          const datagram = announceDatagram({
            ...f,
            fragmentIndex: whole ? 0 : Math.min(f.fragmentIndex, f.fragmentCount - 1),
            fragmentOffset: whole ? 0 : f.fragmentOffset,
            messageLength: whole ? f.payload.length : f.fragmentOffset + f.payload.length + f.extra,
          })
          e.receive(Buffer.from(datagram), '10.0.0.66', 4000)
          datagrams++
        },
      ),
      { numRuns: 3000, seed: 13 },
    )
    const stats = e.snapshot()
    const outcomes = Object.values(stats.outcomes!).reduce((a, b) => a + (b ?? 0), 0)
    expect(outcomes).toBe(datagrams)
    const real = `acme.v1.Wind:${Wind.fingerprint}:${Wind.fingerprint}`
    expect(learned.filter((l) => l !== real)).toEqual([])
    expect(stats.schemas!.accepted).toBe(learned.length)
    expect(stats.schemas!.accepted).toBeLessThanOrEqual(1)
    expect(stats.schemas!.rejected).toBeGreaterThan(1000)
    expect(stats.drops['schema-mismatch']).toBeGreaterThan(0)
    e.close()
  })

  it('the real set, fragmented and in any order, is learned once', () => {
    const { e, learned } = engine()
    const parts = encodeSchemaAnnounce(
      {
        sessionId: 5,
        sequence: 0,
        typeName: 'acme.v1.Wind',
        fingerprint: Wind.fingerprint,
        descriptorSet: WIND_SET,
      },
      600,
    ).map(([h, b, c]) => Buffer.concat([h, b, c]))
    expect(parts.length).toBeGreaterThan(1)
    for (const part of parts.reverse()) e.receive(part, '10.0.0.1', 4000)
    for (const part of parts) e.receive(part, '10.0.0.1', 4000)
    expect(learned).toEqual([`acme.v1.Wind:${Wind.fingerprint}:${Wind.fingerprint}`])
    expect(e.snapshot().schemas).toMatchObject({ accepted: 1, known: 1, rejected: 0 })
    e.close()
  })
})

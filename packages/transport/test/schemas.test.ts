/**
 * In-band schemas on loopback (every socket pinned to 127.0.0.1): a subscriber whose registry
 * lacks a type learns it from the publisher's SCHEMA announce, on its first send or by asking,
 * then decodes it like a built-in; a forged announce is rejected and counted.
 */
import { createSocket } from 'node:dgram'
import { fileURLToPath } from 'node:url'
import { createDynamicRegistry, loadProtoTypes, type MessageType, nowStampNs, registry } from '@shoal/schema'
import { describe, expect, it } from 'vitest'
import {
  createPublisher,
  createSubscriber,
  Keyring,
  type Publisher,
  type ReceivedFrame,
} from '../src/index.js'
import { SCHEMA_HOLD_FRAMES } from '../src/receive/schema-hold.js'
import type { LearnedSchema } from '../src/receive/schema-learner.js'
import { encodeSchemaAnnounce } from '../src/wire/index.js'
import { closeAfterEach, uniqueEndpoint, waitFor } from './support.js'

const track = closeAfterEach()

const WIND_PROTO = fileURLToPath(
  new URL('../../schema/test/fixtures/proto/acme/v1/wind.proto', import.meta.url),
)
const loaded = loadProtoTypes([WIND_PROTO])
const Wind = loaded.types.find((t) => t.typeName === 'acme.v1.Wind') as MessageType<Record<string, unknown>>

const wind = (i: number) => ({
  header: { sourceId: 'mast', frameId: `w${i}`, stampNs: nowStampNs() },
  speed: 3.5 + i,
  directionDeg: 270,
})

/** Publishes wind frames 1, 2, 3… 50 ms apart until `done` holds (frame 0 went before, to nobody). */
async function publishUntil(pub: Publisher, done: () => boolean, what: string): Promise<void> {
  let i = 1
  await waitFor(
    async () => {
      await pub.publish('wind', Wind, wind(i++))
      await new Promise((resolve) => setTimeout(resolve, 50))
      return done()
    },
    10_000,
    what,
  )
}

describe('in-band schemas', () => {
  it('a subscriber without the type learns it from the announce on first send and decodes every frame', async () => {
    expect(registry.byFingerprint(Wind.fingerprint)).toBeUndefined()
    const { group, port } = uniqueEndpoint()
    const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1' }))
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1' }))
    const frames: ReceivedFrame[] = []
    const schemas: LearnedSchema[] = []
    sub.on('frame', (frame) => frames.push(frame))
    sub.on('schema', (schema) => schemas.push(schema))
    for (let i = 0; i < 5; i++) await pub.publish('wind', Wind, wind(i))
    await waitFor(() => frames.length === 5, 5_000, 'five wind frames')
    expect(schemas.map((s) => s.typeName)).toEqual(['acme.v1.Wind'])
    expect(frames[0]).toMatchObject({ typeName: 'acme.v1.Wind', message: { speed: 3.5, directionDeg: 270 } })
    expect(frames[4]).toMatchObject({ message: { speed: 7.5 } })
    expect(pub.stats().schemas).toMatchObject({ announced: 1 })
    expect(sub.stats().schemas).toMatchObject({ accepted: 1, requested: 0, rejected: 0 })
    expect(sub.stats().drops['unknown-type']).toBeUndefined()
  })

  it('a subscriber that missed the announce asks for it, then decodes; the dynamic registry gets the type', async () => {
    const { group, port } = uniqueEndpoint()
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1' }))
    // The first send's announce goes to nobody.
    await pub.publish('wind', Wind, wind(0))
    const dynamic = createDynamicRegistry(registry)
    const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1', registry: dynamic }))
    const frames: ReceivedFrame[] = []
    sub.on('frame', (frame) => frames.push(frame))
    await publishUntil(pub, () => frames.length > 0, 'a decoded wind frame')
    const subStats = sub.stats()
    expect(subStats.schemas).toMatchObject({ accepted: 1, rejected: 0 })
    expect(subStats.schemas!.requested).toBeGreaterThanOrEqual(1)
    // Frames before the schema arrived were held for it (up to the cap) and delivered after, in
    // order from the first one seen; past the cap they were counted unknown.
    const { held, released } = subStats.schemas!
    expect(held).toBeGreaterThanOrEqual(1)
    expect(held).toBeLessThanOrEqual(SCHEMA_HOLD_FRAMES)
    expect(released).toBe(held)
    expect(subStats.outcomes!['schema-wait']).toBe(held)
    expect(frames[0]).toMatchObject({ sequence: 1, message: { directionDeg: 270, speed: 4.5 } })
    expect(frames.slice(0, held).map((f) => f.sequence)).toEqual([...Array(held).keys()].map((i) => i + 1))
    const unknown = subStats.drops['unknown-type'] ?? 0
    expect(held + unknown).toBe(
      subStats.outcomes!['schema-wait']! + (subStats.outcomes!['unknown-type'] ?? 0),
    )
    expect(dynamic.byFingerprint(Wind.fingerprint)?.typeName).toBe('acme.v1.Wind')
    const pubStats = pub.stats().schemas!
    expect(pubStats.requested).toBeGreaterThanOrEqual(1)
    expect(pubStats.announced).toBe(2)
  })

  it('decode: false with schemas set: frames go on as bytes at once, the missed type is asked for and learned', async () => {
    const { group, port } = uniqueEndpoint()
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1' }))
    await pub.publish('wind', Wind, wind(0)) // its announce goes to nobody
    const dynamic = createDynamicRegistry(registry)
    const sub = await track(
      createSubscriber({
        group,
        port,
        interface: '127.0.0.1',
        decode: false,
        registry: dynamic,
        schemas: true,
      }),
    )
    const frames: ReceivedFrame[] = []
    sub.on('frame', (frame) => frames.push(frame))
    await publishUntil(
      pub,
      () => dynamic.byFingerprint(Wind.fingerprint) !== undefined && frames.at(-1)?.typeName !== undefined,
      'the type learned',
    )
    // Nothing held, nothing dropped: the first frames went on as bytes before the type was known.
    expect(frames[0]).toMatchObject({ sequence: 1, typeName: undefined, message: undefined })
    expect(frames.map((f) => f.sequence)).toEqual([...Array(frames.length).keys()].map((k) => k + 1))
    expect(frames.at(-1)).toMatchObject({ typeName: 'acme.v1.Wind', message: undefined })
    const stats = sub.stats()
    expect(stats.schemas).toMatchObject({ accepted: 1, rejected: 0, held: 0 })
    expect(stats.schemas!.requested).toBeGreaterThanOrEqual(1)
    expect(stats.drops['unknown-type']).toBeUndefined()
  })

  it('decode: false alone learns nothing and asks for nothing (as before)', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1', decode: false }))
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1' }))
    const frames: ReceivedFrame[] = []
    sub.on('frame', (frame) => frames.push(frame))
    for (let i = 0; i < 3; i++) await pub.publish('wind', Wind, wind(i))
    await waitFor(() => frames.length === 3, 5_000, 'three frames')
    expect(frames.every((f) => f.typeName === undefined)).toBe(true)
    expect(sub.stats().schemas).toMatchObject({ accepted: 0, requested: 0 })
  })

  it('a large set goes out fragmented and sealed (small budget, a key): a keyed subscriber learns it, a keyless one cannot', async () => {
    const keyring = Keyring.parse(`1 ${'a1'.repeat(32)}`)
    const { group, port } = uniqueEndpoint()
    const keyed = await track(createSubscriber({ group, port, interface: '127.0.0.1', seal: { keyring } }))
    const keyless = await track(createSubscriber({ group, port, interface: '127.0.0.1' }))
    // A small budget (less the seal): the Wind set (its imports included) takes several datagrams.
    const pub = await track(
      createPublisher({ group, port, interface: '127.0.0.1', budget: 600, seal: { keyring } }),
    )
    const frames: ReceivedFrame[] = []
    keyed.on('frame', (frame) => frames.push(frame))
    await pub.publish('wind', Wind, wind(0))
    await waitFor(() => frames.length === 1, 5_000, 'a decoded wind frame')
    const set = loaded.descriptorSets.get('acme.v1.Wind')!
    expect(set.length).toBeGreaterThan(600)
    expect(keyed.stats().schemas).toMatchObject({ accepted: 1 })
    expect(keyed.stats().outcomes!.schema).toBeGreaterThan(1)
    expect(frames[0]!.message).toMatchObject({ speed: 3.5 })
    // Every datagram sealed: the keyless subscriber refuses them all and learns nothing.
    await waitFor(() => (keyless.stats().drops['no-key'] ?? 0) > 1, 5_000, 'no-key drops')
    expect(keyless.stats().schemas).toMatchObject({ accepted: 0 })
  })

  it('a forged announce whose fingerprint does not match its descriptor is rejected and counted', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1' }))
    const set = loaded.descriptorSets.get('acme.v1.Wind')!
    const forger = createSocket('udp4')
    await new Promise<void>((resolve) => forger.bind(0, '127.0.0.1', resolve))
    forger.setMulticastInterface('127.0.0.1')
    try {
      for (const [head, body, crc] of encodeSchemaAnnounce(
        { sessionId: 9, sequence: 0, typeName: 'acme.v1.Wind', fingerprint: 0x12345678, descriptorSet: set },
        1472,
      ))
        forger.send(Buffer.concat([head, body, crc]), port, group)
      await waitFor(() => (sub.stats().drops['schema-mismatch'] ?? 0) === 1, 5_000, 'schema-mismatch')
    } finally {
      forger.close()
    }
    expect(sub.stats().schemas).toMatchObject({ accepted: 0, rejected: 1 })
    expect(sub.outcomes()['schema-mismatch']).toBe(1)
  })
})

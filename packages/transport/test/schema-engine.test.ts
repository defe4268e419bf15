/**
 * The publisher's side of in-band schemas with no socket (a Publisher over a fake link): what it
 * announces on a first send and in answer to a SCHEMA_REQUEST, and what it refuses.
 */
import { fileURLToPath } from 'node:url'
import { Imu, loadProtoTypes, nowStampNs } from '@shoal/schema'
import { describe, expect, it } from 'vitest'
import { Publisher, type PublisherInfo } from '../src/index.js'
import { decodeFrame, encodeControlFrame, encodeSchemaRequest, FrameKind } from '../src/wire/index.js'
import { FakeLink } from './fake-link.js'

const SESSION = 0x5eed
const WIND_PROTO = fileURLToPath(
  new URL('../../schema/test/fixtures/proto/acme/v1/wind.proto', import.meta.url),
)
const Wind = loadProtoTypes([WIND_PROTO]).types.find((t) => t.typeName === 'acme.v1.Wind')!

const info: PublisherInfo = {
  mode: 'multicast',
  family: 4,
  destination: '239.0.0.1',
  port: 5000,
  interface: 'lo',
  interfaceAddress: '127.0.0.1',
  mtu: 65_536,
  budget: 1_472,
  ttl: 1,
  loopback: true,
  sessionId: SESSION,
  local: { address: '127.0.0.1', port: 40000 },
}

const kinds = (datagrams: Uint8Array[]) =>
  datagrams.map((d) => {
    const frame = decodeFrame(d)
    if (!frame.ok) throw new Error(frame.reason)
    return frame.header
  })

const settle = () => new Promise<void>((resolve) => setImmediate(resolve))
const request = (fingerprint: number, sessionId = SESSION) =>
  encodeSchemaRequest({ sessionId, topic: 'wind', sequence: 0, fingerprint, receiverSession: 1 })

describe('schema announces over a fake link', () => {
  it('announces a run-time type before its first frame, once; a built-in type only when asked', async () => {
    const link = new FakeLink()
    const publisher = new Publisher(link, info, { heartbeat: false })
    await publisher.publish('wind', Wind, { speed: 1 })
    await publisher.publish('wind', Wind, { speed: 2 })
    await publisher.publish('imu', Imu, { header: { sourceId: 'i', frameId: 'b', stampNs: nowStampNs() } })
    await settle()
    const sent = kinds(link.take())
    expect(sent.map((h) => h.kind)).toEqual([
      FrameKind.SCHEMA,
      FrameKind.DATA,
      FrameKind.DATA,
      FrameKind.DATA,
    ])
    expect(sent[0]).toMatchObject({
      topic: 'acme.v1.Wind',
      fingerprint: Wind.fingerprint,
      sessionId: SESSION,
    })
    link.deliver(request(Imu.fingerprint))
    await settle()
    expect(kinds(link.take())).toMatchObject([{ kind: FrameKind.SCHEMA, topic: 'shoal.v1.Imu' }])
    expect(publisher.stats().schemas).toMatchObject({ announced: 2, requested: 1 })
    await publisher.close()
  })

  it('refuses malformed requests, requests for another session, and answers none for a type not sent', async () => {
    const link = new FakeLink()
    const publisher = new Publisher(link, info, { heartbeat: false })
    await publisher.publish('wind', Wind, { speed: 1 })
    await settle()
    link.take()
    const about = { sessionId: SESSION, sequence: 0, topic: 'wind' }
    link.deliver(encodeControlFrame(FrameKind.SCHEMA_REQUEST, about, new Uint8Array(3))) // short payload
    link.deliver(request(0)) // fingerprint 0
    link.deliver(request(Wind.fingerprint, 0x1234)) // another session's (no relay takes it)
    link.deliver(request(0xabcdef)) // a type it never sent
    link.deliver(request(Wind.fingerprint)) // within the interval of the first-send announce
    await settle()
    expect(link.take()).toEqual([])
    const stats = publisher.stats()
    expect(stats.drops).toMatchObject({ 'bad-schema-request': 2, 'foreign-session': 1 })
    expect(stats.schemas).toMatchObject({ announced: 1, requested: 2, unknown: 1, limited: 1 })
    expect(stats.outcomes!['schema-request']).toBe(2)
    await publisher.close()
  })

  it('with schemas: false announces nothing and answers no request', async () => {
    const link = new FakeLink()
    const publisher = new Publisher(link, info, { heartbeat: false, schemas: false })
    await publisher.publish('wind', Wind, { speed: 1 })
    link.deliver(request(Wind.fingerprint))
    await settle()
    expect(kinds(link.take()).map((h) => h.kind)).toEqual([FrameKind.DATA])
    expect(publisher.stats().schemas).toMatchObject({ announced: 0, requested: 0 })
    await publisher.close()
  })
})

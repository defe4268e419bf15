/**
 * Site A's multicast → relay → a real nats-server → relay → site B's multicast, all on 127.0.0.1
 * (groups pinned to loopback, the server listening on 127.0.0.1): every frame delivered with its
 * original session and sequence, a server restart survived with the loss counted, JetStream
 * capture, and a plain NATS client (no Shoal code) decoding the payloads with protobufjs and the
 * .proto files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect, headers, type Msg } from '@nats-io/transport-node'
import { Image, Imu, loadProtoTypes, nowStampNs } from '@shoal/schema'
import { createPublisher, createSubscriber, Keyring, type ReceivedFrame } from '@shoal/transport'
import protobuf from 'protobufjs'
import { afterEach, describe, expect, it } from 'vitest'
import { NATS_KEYLESS_SEALED } from '../src/nats/bridge.js'
import type { Relay } from '../src/relay.js'
import { NatsServer, requireNatsServer } from './nats-server.js'
import { hasOpenssl, makeTestPki } from './nats-tls.js'
import { startRelay, uniqueGroup, waitFor } from './support.js'

const open: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  // Relays before the server: they drain their connections.
  for (const item of open.splice(0).reverse()) await item.close()
})
async function track<T extends { close(): Promise<void> }>(p: Promise<T>): Promise<T> {
  const s = await p
  open.push(s)
  return s
}

/** Says why a test is skipped (stderr), and is true. */
function skipNote(why: string): true {
  process.stderr.write(`skipping: ${why}\n`)
  return true
}

const PROTO_DIR = fileURLToPath(new URL('../../../packages/schema/proto', import.meta.url))
const imu = (i: number) => ({ header: { sourceId: 'imu0@site-a', frameId: `${i}`, stampNs: nowStampNs() } })

/** Site A → relay A → NATS (prefix `site`) → relay B → site B, and a subscriber on B. */
async function sites(server: NatsServer, outOptions = '') {
  const a = uniqueGroup()
  const b = uniqueGroup()
  const relayA = await track(startRelay(['--in', a.route, '--out', `${server.url}/site${outOptions}`]))
  const relayB = await track(startRelay(['--in', `${server.url}/site`, '--out', b.route]))
  const sink = await track(createSubscriber({ ...b, interface: '127.0.0.1', repair: false }))
  const frames: ReceivedFrame[] = []
  sink.on('frame', (f: ReceivedFrame) => frames.push(f))
  const publisher = await track(createPublisher({ ...a, interface: '127.0.0.1', budget: 1_472 }))
  return { relayA, relayB, sink, frames, publisher }
}

const natsOut = (relay: Relay) => relay.nats.counters().outputs[0]!
const natsIn = (relay: Relay) => relay.nats.counters().inputs[0]!

/** `promise`, or a failure naming `what` after 10 s. */
async function withinWait<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 10_000)
  })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}

describe.skipIf(requireNatsServer().skip)('multicast → relay → NATS → relay → multicast', () => {
  it('delivers every frame, fragmented ones whole, with the original session, sequence and source; a plain NATS client decodes them', async () => {
    const server = await track(NatsServer.start())
    const { relayA, relayB, sink, frames, publisher } = await sites(server, '?jetstream')

    // A plain NATS subscriber: the client library and protobufjs, nothing of Shoal.
    const plain = await connect({ servers: `127.0.0.1:${server.port}` })
    open.push({ close: () => plain.close() })
    const heard: Msg[] = []
    plain.subscribe('site.>', {
      callback: (_e, msg) => {
        heard.push(msg)
      },
    })
    await plain.flush()

    for (let i = 0; i < 300; i++) await publisher.publish('sensors/imu', Imu, imu(i))
    const data = new Uint8Array(200_000).map((_, i) => (i * 13) & 0xff)
    const image = await publisher.publish('camera', Image, { width: 500, height: 400, step: 500, data })
    expect(image.datagrams).toBeGreaterThan(100)

    await waitFor(() => frames.length === 301, '301 frames at site B')
    const imus = frames.filter((f) => f.topic === 'sensors/imu')
    expect(imus.map((f) => f.sequence)).toEqual([...Array(300).keys()])
    expect(frames.every((f) => f.source.sessionId === publisher.sessionId && f.hops === 2)).toBe(true)
    const camera = frames.find((f) => f.topic === 'camera')!
    expect(camera.sequence).toBe(image.sequence)
    expect(Buffer.compare((camera.message as { data: Uint8Array }).data, data)).toBe(0)
    expect(sink.stats().received.map((s) => s.gaps)).toEqual([0, 0])

    expect(natsOut(relayA)).toMatchObject({ published: 301 })
    expect(Object.values(natsOut(relayA).dropped).every((n) => n === 0)).toBe(true)
    expect(natsIn(relayB)).toMatchObject({ received: 301, forwarded: 301 })
    expect(Object.values(natsIn(relayB).dropped).every((n) => n === 0)).toBe(true)

    await waitFor(() => heard.length === 301, 'the plain subscriber to hear 301 messages')
    const root = new protobuf.Root()
    root.resolvePath = (_origin, target) => `${PROTO_DIR}/${target}`
    root.loadSync(['shoal/v1/imu.proto', 'shoal/v1/image.proto'])
    const first = heard.find((m) => m.subject === 'site.sensors.imu')!
    expect(first.headers?.get('Shoal-Type')).toBe('shoal.v1.Imu')
    expect(first.headers?.get('Shoal-Session')).toBe(publisher.sessionId.toString(16).padStart(8, '0'))
    expect(first.headers?.get('Shoal-Sequence')).toBe('0')
    expect(first.headers?.get('Shoal-Source-Id')).toBe('imu0@site-a')
    const decoded = root.lookupType(first.headers!.get('Shoal-Type')).decode(first.data) as unknown as {
      header: { sourceId: string; frameId: string; stampNs: { toString(): string } }
    }
    expect(decoded.header).toMatchObject({ sourceId: 'imu0@site-a', frameId: '0' })
    expect(first.headers?.get('Shoal-Stamp-Ns')).toBe(decoded.header.stampNs.toString())
    const picture = heard.find((m) => m.subject === 'site.camera')!
    expect(picture.headers?.get('Shoal-Type')).toBe('shoal.v1.Image')
    const pixels = (root.lookupType('shoal.v1.Image').decode(picture.data) as unknown as { data: Uint8Array })
      .data
    expect(Buffer.compare(pixels, data)).toBe(0)

    // ?jetstream: the stream SHOAL_site captured every message, under the default limits.
    const jsm = await jetstreamManager(plain)
    const info = await jsm.streams.info('SHOAL_site')
    expect(info.config).toMatchObject({ subjects: ['site.>'], max_bytes: 1024 ** 3, max_msgs: 10_000_000 })
    expect(info.config.max_age).toBe(24 * 3600 * 1e9)
    expect(info.state.messages).toBe(301)
  })

  it('names a --proto type in Shoal-Type, so a plain NATS client knows what to decode', async () => {
    const server = await track(NatsServer.start())
    const dir = mkdtempSync(join(tmpdir(), 'shoal-relay-nats-proto-'))
    open.push({ close: async () => rmSync(dir, { recursive: true, force: true }) })
    const proto = join(dir, 'wind.proto')
    writeFileSync(
      proto,
      'syntax = "proto3";\npackage acme.v1;\nimport "shoal/v1/header.proto";\nmessage Wind { shoal.v1.Header header = 1; double speed = 2; }\n',
    )
    const Wind = loadProtoTypes([proto]).types.find((t) => t.typeName === 'acme.v1.Wind')
    if (Wind === undefined) throw new Error('acme.v1.Wind not loaded')
    const a = uniqueGroup()
    const relay = await track(startRelay(['--proto', proto, '--in', a.route, '--out', `${server.url}/site`]))
    const plain = await connect({ servers: `127.0.0.1:${server.port}` })
    open.push({ close: () => plain.close() })
    const heard: Msg[] = []
    plain.subscribe('site.>', {
      callback: (_e, msg) => {
        heard.push(msg)
      },
    })
    await plain.flush()
    const publisher = await track(createPublisher({ ...a, interface: '127.0.0.1' }))
    await publisher.publish('weather/wind', Wind, { speed: 7.5 })
    await waitFor(() => heard.length === 1, 'the wind message on NATS')
    expect(heard[0]?.subject).toBe('site.weather.wind')
    expect(heard[0]?.headers?.get('Shoal-Type')).toBe('acme.v1.Wind')
    expect(Wind.toObject(Wind.decode(heard[0]!.data))).toMatchObject({ speed: 7.5 })
    expect(natsOut(relay).published).toBe(1)
  })

  it('with --hop-repair the input that feeds NATS reports STATUS: a fast sender waits for the relay and loses nothing on the way in', async () => {
    const server = await track(NatsServer.start())
    const a = uniqueGroup()
    const relay = await track(startRelay(['--hop-repair', '--in', a.route, '--out', `${server.url}/site`]))
    // Nothing goes out before one receiver (the relay) reports: without its STATUS this never sends.
    const publisher = await track(createPublisher({ ...a, interface: '127.0.0.1', flow: { groupSize: 1 } }))
    const total = 20_000
    // As fast as flow control lets it, in one process with the relay: send() until held back.
    for (let sent = 0; sent < total; ) {
      const sequence = publisher.send('sensors/imu', Imu, imu(sent))
      if (sequence < 0) await withinWait(publisher.ready(), `the relay's STATUS (${sent} frames sent)`)
      else if (++sent % 2_000 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    // close() waits (at most 2 s) until its receivers, the relay, hold everything.
    await publisher.close()
    await waitFor(() => natsOut(relay).published === total, `all ${total} published to NATS`)
    expect(publisher.stats().flow).toMatchObject({ added: 1, refused: 0 })
    expect(Object.values(natsOut(relay).dropped).every((n) => n === 0)).toBe(true)

    // Without --hop-repair the relay is no receiver its senders wait for.
    const b = uniqueGroup()
    const plain = await track(startRelay(['--in', b.route, '--out', `${server.url}/other`]))
    const unwatched = await track(createPublisher({ ...b, interface: '127.0.0.1' }))
    for (let i = 0; i < 10; i++) await unwatched.publish('sensors/imu', Imu, imu(i))
    await waitFor(() => natsOut(plain).published === 10, '10 published to NATS')
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(unwatched.stats().flow).toMatchObject({ added: 0, statuses: 0 })
  })

  it('survives a server restart mid-stream: the loss is counted at relay A and at site B, exactly', async () => {
    const server = await track(NatsServer.start())
    const { relayA, relayB, sink, frames, publisher } = await sites(server)
    const total = 600
    const send = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        await publisher.publish('sensors/imu', Imu, imu(i))
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
    }
    await send(0, 200)
    const state = () =>
      `(site B has ${frames.length}; relay A published ${natsOut(relayA).published}, relay B got ` +
      `${natsIn(relayB).received} and forwarded ${natsIn(relayB).forwarded})`
    await waitFor(
      () => frames.length === 200,
      () => `the first 200 frames at site B ${state()}`,
    )
    await server.stop()
    await waitFor(() => relayA.nats.counters().links[0]!.state !== 'connected', 'relay A to see the loss')
    await send(200, 300) // while the server is down: dropped at relay A, counted
    await server.restart()
    await waitFor(
      () => [relayA, relayB].every((r) => r.nats.counters().links[0]!.state === 'connected'),
      'both relays reconnected',
    )
    // Relay B subscribes again on reconnect; a frame it has not yet resubscribed for is lost at B.
    await new Promise((resolve) => setTimeout(resolve, 200))
    await send(300, total)
    await waitFor(
      () => frames.at(-1)?.sequence === total - 1,
      () => `the last frame at site B ${state()}`,
    )

    const out = natsOut(relayA)
    expect(out.dropped['nats-disconnected']).toBeGreaterThanOrEqual(100)
    // Every frame relay A heard is published or counted dropped.
    expect(out.published + out.dropped['nats-disconnected']).toBe(total)
    const stream = sink.stats().received.find((s) => s.topic === 'sensors/imu')!
    // Site B counts exactly what it lost: what relay A dropped, and what died with the server.
    expect(stream.frames + stream.gaps).toBe(total)
    expect(stream.gaps).toBeGreaterThanOrEqual(out.dropped['nats-disconnected'])
    expect(stream.frames).toBe(natsIn(relayB).forwarded)
    expect(relayA.nats.counters().links[0]).toMatchObject({ disconnects: 1, reconnects: 1 })
    expect(relayB.nats.counters().links[0]!.reconnects).toBe(1)
  })

  it('passes credentials through and logs none; a server refusing them stops the relay at start', async () => {
    const secret = 'pw-9f3a17c2'
    const server = await track(NatsServer.start(['--user', 'relay', '--pass', secret]))
    const a = uniqueGroup()
    const route = `${server.url}/site`
    const env = { SHOAL_NATS_PASSWORD: secret }
    const relay = await track(startRelay(['--in', a.route, '--out', route, '--nats-user', 'relay'], env))
    expect(relay.nats.counters().links[0]!.state).toBe('connected')
    const publisher = await track(createPublisher({ ...a, interface: '127.0.0.1' }))
    await publisher.publish('imu', Imu, imu(0))
    await waitFor(() => natsOut(relay).published === 1, 'one message published with credentials')
    expect(relay.log.text).toContain('connected to NATS')
    expect(relay.log.text).not.toContain(secret)

    const refused = startRelay(['--in', uniqueGroup().route, '--out', route, '--nats-user', 'relay'], {
      SHOAL_NATS_PASSWORD: 'wrong',
    })
    await expect(refused).rejects.toThrow(/authorization|auth/i)
  })

  it('closes while the server is gone (no drain waiting for it)', async () => {
    const server = await track(NatsServer.start())
    const relay = await startRelay(['--in', uniqueGroup().route, '--out', `${server.url}/site`])
    await server.stop()
    await waitFor(() => relay.nats.counters().links[0]!.state !== 'connected', 'relay to see the loss')
    let closed = false
    void relay.close().then(() => {
      closed = true
    })
    await waitFor(() => closed, 'the relay to close')
  })

  it('keeps its other routes forwarding while NATS is down', async () => {
    const server = await track(NatsServer.start())
    const a = uniqueGroup()
    const b = uniqueGroup()
    const relay = await track(startRelay(['--in', a.route, '--out', b.route, '--out', `${server.url}/site`]))
    const sink = await track(createSubscriber({ ...b, interface: '127.0.0.1', repair: false }))
    const frames: ReceivedFrame[] = []
    sink.on('frame', (f: ReceivedFrame) => frames.push(f))
    const publisher = await track(createPublisher({ ...a, interface: '127.0.0.1' }))
    for (let i = 0; i < 50; i++) await publisher.publish('imu', Imu, imu(i))
    await waitFor(() => natsOut(relay).published === 50 && frames.length === 50, '50 frames on B and NATS')
    await server.stop()
    await waitFor(() => relay.nats.counters().links[0]!.state !== 'connected', 'relay to see the loss')
    for (let i = 50; i < 100; i++) await publisher.publish('imu', Imu, imu(i))
    await waitFor(() => frames.length === 100, 'the next 50 frames on B, NATS down')
    await waitFor(() => natsOut(relay).dropped['nats-disconnected'] === 50, '50 counted dropped for NATS')
    expect(frames.map((f) => f.sequence)).toEqual([...Array(100).keys()])
    expect(natsOut(relay).published).toBe(50)
  })

  it.skipIf(!hasOpenssl() && process.env.CI !== 'true' && skipNote('openssl not found: no NATS TLS test'))(
    'passes TLS through: the server checked against --nats-tls-ca, the relay by its client certificate',
    async () => {
      const pki = makeTestPki()
      open.push({ close: async () => pki.remove() })
      const server = await track(
        NatsServer.start([
          '--tlsverify',
          '--tlscert',
          pki.serverCert,
          '--tlskey',
          pki.serverKey,
          '--tlscacert',
          pki.ca,
        ]),
      )
      const a = uniqueGroup()
      const route = `${server.url}/site`
      const tls = [
        '--nats-tls-ca',
        pki.ca,
        '--nats-tls-cert',
        pki.clientCert,
        '--nats-tls-key',
        pki.clientKey,
      ]
      const relay = await track(startRelay(['--in', a.route, '--out', route, ...tls]))
      const publisher = await track(createPublisher({ ...a, interface: '127.0.0.1' }))
      await publisher.publish('imu', Imu, imu(0))
      await waitFor(() => natsOut(relay).published === 1, 'one message published over TLS')
      // Without a client certificate the server drops the handshake (a timeout to the client): the
      // relay starts, says so, keeps trying and counts what it cannot publish.
      const refused = await track(
        startRelay(['--in', uniqueGroup().route, '--out', route, '--nats-tls-ca', pki.ca]),
      )
      expect(refused.nats.counters().links[0]!.state).not.toBe('connected')
      expect(refused.log.text).toContain('NATS server not reachable yet')
      // Without --nats-tls-ca the system's CAs do not know the test CA: the relay does not start.
      await expect(startRelay(['--in', uniqueGroup().route, '--out', route])).rejects.toThrow(/certificate/)
    },
  )

  it('opens sealed frames with --key-file and publishes them plain; without a key publishes none and says so', async () => {
    const server = await track(NatsServer.start())
    const hex = '5a'.repeat(32)
    const dir = mkdtempSync(join(tmpdir(), 'shoal-relay-nats-key-'))
    open.push({ close: async () => rmSync(dir, { recursive: true, force: true }) })
    const keyFile = join(dir, 'site.keys')
    writeFileSync(keyFile, `1 ${hex}\n`, { mode: 0o600 })
    const a = uniqueGroup()
    const keyed = await track(
      startRelay(['--in', a.route, '--out', `${server.url}/keyed`, '--key-file', keyFile]),
    )
    const keyless = await track(startRelay(['--in', a.route, '--out', `${server.url}/keyless`]))
    const plain = await connect({ servers: `127.0.0.1:${server.port}` })
    open.push({ close: () => plain.close() })
    const heard: Msg[] = []
    plain.subscribe('keyed.>', {
      callback: (_e, msg) => {
        heard.push(msg)
      },
    })
    await plain.flush()
    const seal = { keyring: Keyring.parse(`1 ${hex}`, 'test key'), mode: 'encrypt' as const }
    const publisher = await track(createPublisher({ ...a, interface: '127.0.0.1', seal }))
    for (let i = 0; i < 5; i++) await publisher.publish('imu', Imu, imu(i))
    await waitFor(() => heard.length === 5, 'five plain messages from the keyed relay')
    expect(Imu.decode(heard[4]!.data)).toMatchObject({ header: { frameId: '4' } })
    await waitFor(
      () => (keyless.transportStats().drops['no-key'] ?? 0) >= 5,
      'the keyless relay to refuse them',
    )
    expect(natsOut(keyless).published).toBe(0)
    expect(keyless.log.text.split(NATS_KEYLESS_SEALED)).toHaveLength(2)
    expect(natsOut(keyed).published).toBe(5)
  })

  it('takes messages a plain NATS client publishes with the Shoal headers, and counts those without', async () => {
    const server = await track(NatsServer.start())
    const b = uniqueGroup()
    const relay = await track(startRelay(['--in', `${server.url}/site`, '--out', b.route]))
    const sink = await track(createSubscriber({ ...b, interface: '127.0.0.1', repair: false }))
    const frames: ReceivedFrame[] = []
    sink.on('frame', (f: ReceivedFrame) => frames.push(f))
    const plain = await connect({ servers: `127.0.0.1:${server.port}` })
    open.push({ close: () => plain.close() })
    const h = headers()
    h.set('Shoal-Fingerprint', Imu.fingerprint.toString(16).padStart(8, '0'))
    h.set('Shoal-Session', '0badc0de')
    h.set('Shoal-Sequence', '77')
    plain.publish('site.robots.arm%201', Imu.encode(imu(1)), { headers: h })
    plain.publish('site.robots.arm', Imu.encode(imu(2)))
    await plain.flush()
    await waitFor(() => frames.length === 1 && natsIn(relay).received === 2, 'one frame on B, two heard')
    expect(frames[0]).toMatchObject({ topic: 'robots/arm 1', sequence: 77, hops: 1 })
    expect(frames[0]!.source.sessionId).toBe(0x0badc0de)
    expect(natsIn(relay).dropped.malformed).toBe(1)
  })
})

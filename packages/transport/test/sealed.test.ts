/**
 * Sealed groups on loopback (WIRE.md “Sealing”; every socket on 127.0.0.0/8): what a keyed, a
 * keyless and a wrongly keyed subscriber make of a sealed stream, with small, batched and
 * fragmented frames, acks and repair; rotation without loss; a relay without the key passing
 * sealed frames on.
 */
import { Image, Imu } from '@shoal/schema'
import { describe, expect, it } from 'vitest'
import {
  createPublisher,
  createSubscriber,
  type ForeignAck,
  type ForwardDatagram,
  Keyring,
  type ReceivedFrame,
  type SealMode,
} from '../src/index.js'
import { closeAfterEach, uniqueEndpoint, waitFor } from './support.js'

const track = closeAfterEach()
const KEY_1 = Keyring.parse(`1 ${'a1'.repeat(32)}`)
const KEY_2 = Keyring.parse(`2 ${'b2'.repeat(32)}`)
const KEYS_1_2 = Keyring.parse(`1 ${'a1'.repeat(32)}\n2 ${'b2'.repeat(32)}`)
const OTHER_1 = Keyring.parse(`1 ${'cc'.repeat(32)}`)

function image(i: number) {
  const data = new Uint8Array(200_000)
  for (let j = 0; j < data.length; j++) data[j] = (i + j) & 0xff
  return { width: 200, height: 1_000, encoding: 'mono8', step: 200, data }
}

async function collect(options: { seal?: { keyring: Keyring }; ack?: boolean }, group: string, port: number) {
  const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1', ...options }))
  const frames: ReceivedFrame[] = []
  sub.on('frame', (f: ReceivedFrame) => frames.push(f))
  return { sub, frames }
}

describe.each<SealMode>(['encrypt', 'authenticate'])('a sealed stream (%s)', (mode) => {
  it('opens at a keyed subscriber (small, batched, fragmented), and nowhere else', async () => {
    const { group, port } = uniqueEndpoint()
    const keyed = await collect({ seal: { keyring: KEY_1 } }, group, port)
    const keyless = await collect({}, group, port)
    const wrong = await collect({ seal: { keyring: OTHER_1 } }, group, port)
    const pub = await track(
      createPublisher({ group, port, interface: '127.0.0.1', batch: true, seal: { keyring: KEY_1, mode } }),
    )
    expect(pub.sealing).toEqual({ mode, keyId: 1 })
    for (let i = 0; i < 50; i++) pub.send('imu', Imu, { linearAcceleration: { x: i, y: 0, z: 9.81 } })
    await pub.flush()
    for (let i = 0; i < 3; i++) await pub.publish('camera', Image, image(i))
    await waitFor(() => keyed.frames.length === 53, 5_000)
    expect(
      keyed.frames
        .filter((f) => f.topic === 'imu')
        .map((f) => (f.message as { linearAcceleration?: { x?: number } }).linearAcceleration?.x ?? 0),
    ).toEqual(Array.from({ length: 50 }, (_, i) => i))
    const pixels = keyed.frames
      .filter((f) => f.topic === 'camera')
      .map((f) => (f.message as { data: Uint8Array }).data)
    expect(pixels.map((p) => Buffer.from(p).equals(Buffer.from(image(pixels.indexOf(p)).data)))).toEqual([
      true,
      true,
      true,
    ])
    const sealed = keyed.sub.stats().seal!
    expect(sealed.opened).toBeGreaterThan(0)
    expect(sealed.senders).toBe(1)
    await waitFor(
      () => (keyless.sub.stats().drops['no-key'] ?? 0) > 0 && (wrong.sub.stats().drops['bad-tag'] ?? 0) > 0,
      5_000,
    )
    expect(keyless.frames).toEqual([])
    expect(wrong.frames).toEqual([])
    expect(Object.keys(keyless.sub.stats().drops)).toEqual(['no-key'])
    expect(Object.keys(wrong.sub.stats().drops)).toEqual(['bad-tag'])
  })
})

describe('keys', () => {
  it('a keyed subscriber refuses unsealed frames; acks go sealed both ways', async () => {
    const { group, port } = uniqueEndpoint()
    const keyed = await collect({ seal: { keyring: KEY_1 }, ack: true }, group, port)
    const plain = await track(createPublisher({ group, port, interface: '127.0.0.1' }))
    await plain.publish('imu', Imu, {})
    await waitFor(() => (keyed.sub.stats().drops.unauthenticated ?? 0) >= 1, 5_000) // the frame (and heartbeats)
    const pub = await track(
      createPublisher({ group, port, interface: '127.0.0.1', seal: { keyring: KEY_1 } }),
    )
    const acked = new Promise((resolve) => pub.once('ack', resolve))
    await pub.publish('imu', Imu, {}, { ack: true })
    await acked
    expect(pub.stats().seal).toMatchObject({ keyId: 1, opened: 1 })
    expect(keyed.frames).toHaveLength(1)
  })

  it('rotation: key 2 added everywhere, then the publisher seals with it; nothing lost', async () => {
    const { group, port } = uniqueEndpoint()
    const receiver = await collect({ seal: { keyring: KEY_1 } }, group, port)
    const pub = await track(
      createPublisher({ group, port, interface: '127.0.0.1', seal: { keyring: KEY_1 } }),
    )
    await pub.publish('imu', Imu, {})
    receiver.sub.setKeyring(KEYS_1_2)
    pub.setKeyring(KEYS_1_2)
    expect(pub.sealing?.keyId).toBe(2)
    await pub.publish('imu', Imu, {})
    // Key 1 goes once nothing sealed with it is on its way (in practice: minutes later).
    await waitFor(() => receiver.frames.length === 2, 5_000)
    receiver.sub.setKeyring(KEY_2)
    pub.setKeyring(KEY_2)
    await pub.publish('imu', Imu, {})
    await waitFor(() => receiver.frames.length === 3, 5_000)
    expect(receiver.sub.stats().drops).toEqual({})
    expect(receiver.sub.stats().seal).toMatchObject({ keyId: 2 })
  })

  it('a relay without the key passes sealed frames on; a keyed receiver beyond opens them', async () => {
    const a = uniqueEndpoint()
    const b = uniqueEndpoint()
    const input = await track(
      createSubscriber({ group: a.group, port: a.port, interface: '127.0.0.1', forward: true }),
    )
    const output = await track(
      createPublisher({ group: b.group, port: b.port, interface: '127.0.0.1', heartbeat: false }),
    )
    let upstream: { address: string; port: number } | undefined
    input.on('datagram', (d: ForwardDatagram) => {
      upstream = d.from
      void output.forward(d.data, d.header.hops + 1, d.foreign, d.header)
    })
    // The way back, as the relay app does it: a sealed ACK goes to the publisher unopened.
    output.on('foreign-ack', (a: ForeignAck) => void input.reply(a.data, upstream!))
    const beyond = await collect({ seal: { keyring: KEY_1 }, ack: true }, b.group, b.port)
    const pub = await track(
      createPublisher({
        group: a.group,
        port: a.port,
        interface: '127.0.0.1',
        batch: true,
        seal: { keyring: KEY_1 },
      }),
    )
    for (let i = 0; i < 20; i++) pub.send('imu', Imu, {})
    await pub.flush()
    await pub.publish('camera', Image, image(1))
    await waitFor(() => beyond.frames.length === 21, 5_000)
    expect(beyond.sub.stats().drops).toEqual({})
    expect(input.stats().drops).toEqual({})
    const acked = new Promise((resolve) => pub.once('ack', resolve))
    await pub.publish('imu', Imu, {}, { ack: true })
    await acked
    expect(output.stats().outcomes).toMatchObject({ 'foreign-ack': 1 })
  })

  it('a relay with keys opens on its input and seals again on its output, under another site’s key', async () => {
    const a = uniqueEndpoint()
    const b = uniqueEndpoint()
    const input = await track(
      createSubscriber({
        group: a.group,
        port: a.port,
        interface: '127.0.0.1',
        forward: true,
        seal: { keyring: KEY_1 },
      }),
    )
    const output = await track(
      createPublisher({
        group: b.group,
        port: b.port,
        interface: '127.0.0.1',
        heartbeat: false,
        batch: true,
        seal: { keyring: OTHER_1 },
      }),
    )
    input.on(
      'datagram',
      (d: ForwardDatagram) => void output.forward(d.data, d.header.hops + 1, d.foreign, d.header),
    )
    const beyond = await collect({ seal: { keyring: OTHER_1 } }, b.group, b.port)
    const wrongSite = await collect({ seal: { keyring: KEY_1 } }, b.group, b.port)
    const pub = await track(
      createPublisher({
        group: a.group,
        port: a.port,
        interface: '127.0.0.1',
        batch: true,
        seal: { keyring: KEY_1 },
      }),
    )
    for (let i = 0; i < 20; i++) pub.send('imu', Imu, { linearAcceleration: { x: i, y: 0, z: 0 } })
    await pub.flush()
    await pub.publish('camera', Image, image(2))
    await waitFor(() => beyond.frames.length === 21, 5_000)
    expect(beyond.sub.stats().drops).toEqual({})
    const pixels = (beyond.frames.find((f) => f.topic === 'camera')!.message as { data: Uint8Array }).data
    expect(Buffer.from(pixels).equals(Buffer.from(image(2).data))).toBe(true)
    expect(output.stats().seal?.sealed).toBeGreaterThan(0)
    // Sealed under site b's key: site a's key opens none of it.
    await waitFor(() => (wrongSite.sub.stats().drops['bad-tag'] ?? 0) > 0, 5_000)
    expect(wrongSite.frames).toEqual([])
  })
})

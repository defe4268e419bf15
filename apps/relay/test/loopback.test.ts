/**
 * Relays in this process between real sockets on 127.0.0.1: multicast to multicast, a unicast
 * tunnel between two relays, topic filters, loops and the hop limit.
 */
import { Image, Imu, NavSatFix, nowStampNs } from '@shoal/schema'
import {
  createPublisher,
  createSubscriber,
  type Publisher,
  type ReceivedFrame,
  type Subscriber,
} from '@shoal/transport'
import { afterEach, describe, expect, it } from 'vitest'
import type { Relay } from '../src/relay.js'
import { startRelay, uniqueGroup, uniquePort, waitFor } from './support.js'

const open: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()))
})
async function track<T extends Publisher | Subscriber | Relay>(p: Promise<T>): Promise<T> {
  const s = await p
  open.push(s)
  return s
}

/** A subscriber on a group, collecting every frame. */
async function sink(group: { group: string; port: number }, options: { ack?: boolean; name?: string } = {}) {
  const subscriber = await track(createSubscriber({ ...group, interface: '127.0.0.1', ...options }))
  const frames: ReceivedFrame[] = []
  subscriber.on('frame', (f) => frames.push(f))
  return { subscriber, frames }
}

const source = (group: { group: string; port: number }, budget?: number) =>
  track(createPublisher({ ...group, interface: '127.0.0.1', ...(budget === undefined ? {} : { budget }) }))

const imu = (i: number) => ({ header: { sourceId: 'imu0', frameId: `${i}`, stampNs: nowStampNs() } })

async function publishImu(publisher: Publisher, count: number, topic = 'imu'): Promise<void> {
  for (let i = 0; i < count; i++) await publisher.publish(topic, Imu, imu(i))
}

describe('routes on loopback', () => {
  it('warns, per route, that what a loopback route forwards stays on this host', async () => {
    const a = uniqueGroup()
    const b = uniqueGroup()
    // --out without ?interface= takes the default --interface, 127.0.0.1
    const relay = await track(startRelay(['--in', a.route, '--out', `multicast://${b.group}:${b.port}`]))
    const warnings = relay.log.json().filter((record) => record.level === 40)
    const out = warnings.find((record) => record.route === `multicast://${b.group}:${b.port}`)
    expect(out?.msg).toMatch(
      /^--out multicast:\/\/[\d.:]+: frames forwarded here stay on this host \(interface lo is loopback\); to reach the network, pass \?interface=\S+ on the route, or --interface \S+ for every route/,
    )
    const input = warnings.find((record) => record.route === a.route)
    expect(input?.msg).toMatch(/^--in .*: only frames sent on this host arrive here/)
  })
})

describe('multicast group A → relay → group B', () => {
  it('delivers every frame with its original session and sequence and hops = 1, large ones fragment by fragment', async () => {
    const a = uniqueGroup()
    const b = uniqueGroup()
    const relay = await track(startRelay(['--in', a.route, '--out', b.route]))
    const { subscriber, frames } = await sink(b)
    // a small budget, so the image is many fragments that the relay passes on one by one
    const publisher = await source(a, 1_472)

    await publishImu(publisher, 500)
    const data = new Uint8Array(300_000).map((_, i) => (i * 13) & 0xff)
    const image = await publisher.publish('camera', Image, { width: 600, height: 500, step: 600, data })
    expect(image.datagrams).toBeGreaterThan(200)
    await waitFor(() => frames.length === 501, '501 frames on B')

    const imus = frames.filter((f) => f.topic === 'imu')
    expect(imus.map((f) => f.sequence)).toEqual([...Array(500).keys()])
    expect(frames.every((f) => f.source.sessionId === publisher.sessionId && f.hops === 1)).toBe(true)
    const camera = frames.find((f) => f.topic === 'camera')!
    expect(Buffer.compare((camera.message as { data: Uint8Array }).data, data)).toBe(0)

    const datagrams = 500 + image.datagrams
    expect(relay.counters()).toMatchObject({
      received: datagrams,
      forwarded: datagrams,
      dropped: { loop: 0, filtered: 0, 'max-hops': 0, duplicate: 0 },
      outputs: [{ route: b.route, sent: datagrams, errors: 0 }],
    })
    // the small frames went out packed: fewer datagrams than frames
    expect(relay.transportStats().datagramsOut).toBeLessThan(datagrams)
    expect(subscriber.stats().received.map((s) => s.gaps)).toEqual([0, 0])
    expect(subscriber.stats().drops).toEqual({})
  })

  it('applies each route’s topic filter and the global --topic', async () => {
    const a = uniqueGroup()
    const b = uniqueGroup()
    const c = uniqueGroup()
    const relay = await track(
      startRelay([
        '--in',
        a.route,
        '--out',
        `${b.route}&topic=imu`,
        '--out',
        `${c.route}&topic=gps,sensors/*`,
        '--topic',
        'imu',
        '--topic',
        'gps',
        '--topic',
        'sensors/front/*',
      ]),
    )
    const onB = await sink(b)
    const onC = await sink(c)
    const publisher = await source(a)
    const topics = ['imu', 'gps', 'sensors/front/imu', 'sensors/rear/imu', 'camera', 'imu']
    for (const topic of topics) await publisher.publish(topic, NavSatFix, { latitude: 1 })

    await waitFor(() => relay.counters().received === topics.length, 'the relay to see every frame')
    await waitFor(() => onB.frames.length === 2 && onC.frames.length === 2, 'the filtered frames')
    expect(onB.frames.map((f) => f.topic)).toEqual(['imu', 'imu'])
    expect(onC.frames.map((f) => f.topic)).toEqual(['gps', 'sensors/front/imu'])
    expect(relay.counters()).toMatchObject({ forwarded: 4, dropped: { filtered: 2 } })
  })

  it('passes acks back to the publisher', async () => {
    const a = uniqueGroup()
    const b = uniqueGroup()
    const relay = await track(startRelay(['--in', a.route, '--out', b.route]))
    await sink(b, { ack: true, name: 'beyond-the-relay' })
    const publisher = await source(a)
    const sent = await publisher.publish('imu', Imu, imu(0), { ack: true })
    const report = await publisher.waitForAcks(sent, { timeoutMs: 5_000, expected: ['beyond-the-relay'] })
    expect(report.missing).toEqual([])
    expect(relay.counters().acks).toMatchObject({ forwarded: 1, unroutable: 0 })
  })
})

describe('two relays back to back: multicast → unicast tunnel → multicast', () => {
  it('delivers every frame, session and sequence kept, hops = 2, and acks come back through both', async () => {
    const a = uniqueGroup()
    const b = uniqueGroup()
    const tunnel = uniquePort()
    const near = await track(startRelay(['--in', a.route, '--out', `unicast://127.0.0.1:${tunnel}`]))
    const far = await track(startRelay(['--in', `udp://127.0.0.1:${tunnel}`, '--out', b.route]))
    const { frames } = await sink(b, { ack: true, name: 'site-b' })
    const publisher = await source(a)

    await publishImu(publisher, 300)
    await publishImu(publisher, 100, 'sensors/imu')
    await waitFor(() => frames.length === 400, '400 frames through the tunnel')
    expect(frames.every((f) => f.source.sessionId === publisher.sessionId && f.hops === 2)).toBe(true)
    for (const topic of ['imu', 'sensors/imu']) {
      const sequences = frames.filter((f) => f.topic === topic).map((f) => f.sequence)
      expect(sequences).toEqual([...Array(topic === 'imu' ? 300 : 100).keys()])
    }
    expect(near.counters().forwarded).toBe(400)
    expect(far.counters().forwarded).toBe(400)

    const sent = await publisher.publish('imu', Imu, imu(300), { ack: true })
    const report = await publisher.waitForAcks(sent, { timeoutMs: 5_000, expected: ['site-b'] })
    expect(report.missing).toEqual([])
    expect(far.counters().acks.forwarded).toBe(1)
    expect(near.counters().acks.forwarded).toBe(1)
  })
})

describe('loops', () => {
  it('relay 1 A → B and relay 2 B → A: each frame reaches B once, the copy that comes round is dropped as a duplicate', async () => {
    const a = uniqueGroup()
    const b = uniqueGroup()
    const one = await track(startRelay(['--in', a.route, '--out', b.route]))
    const two = await track(startRelay(['--in', b.route, '--out', a.route]))
    const { subscriber, frames } = await sink(b)
    const publisher = await source(a)
    const count = 200

    await publishImu(publisher, count)
    // every frame has gone A → B → A and come back to relay 1, which drops it
    await waitFor(() => one.counters().dropped.duplicate === count, 'relay 1 to drop every returning copy')
    await waitFor(() => frames.length === count, 'every frame on B')
    expect(frames.map((f) => f.sequence)).toEqual([...Array(count).keys()])
    expect(subscriber.stats().received).toMatchObject([{ frames: count, duplicates: 0, gaps: 0 }])
    expect(one.counters()).toMatchObject({
      received: 2 * count,
      forwarded: count,
      dropped: { duplicate: count, loop: 0 },
    })
    expect(two.counters()).toMatchObject({
      received: count,
      forwarded: count,
      dropped: { duplicate: 0, loop: 0, 'max-hops': 0 },
    })
  })

  it('a relay whose own output comes back in drops it as a loop, before de-duplication', async () => {
    const a = uniqueGroup()
    const b = uniqueGroup()
    const port = uniquePort()
    // the unicast output lands on the relay's own udp input
    const relay = await track(
      startRelay([
        '--in',
        a.route,
        '--in',
        `udp://127.0.0.1:${port}`,
        '--out',
        `unicast://127.0.0.1:${port}`,
        '--out',
        b.route,
      ]),
    )
    const { frames } = await sink(b)
    const publisher = await source(a)
    const count = 100

    await publishImu(publisher, count)
    await waitFor(() => relay.counters().dropped.loop === count, 'every frame back at the udp input')
    await waitFor(() => frames.length === count, 'every frame on B')
    expect(relay.counters()).toMatchObject({
      received: 2 * count,
      forwarded: count,
      dropped: { loop: count, duplicate: 0 },
    })
  })

  it('--max-hops stops frames that have crossed that many relays', async () => {
    const a = uniqueGroup()
    const b = uniqueGroup()
    const c = uniqueGroup()
    const first = await track(startRelay(['--in', a.route, '--out', b.route]))
    const second = await track(startRelay(['--in', b.route, '--out', c.route, '--max-hops', '1']))
    const onB = await sink(b)
    const onC = await sink(c)
    const publisher = await source(a)
    const count = 50

    await publishImu(publisher, count)
    await waitFor(() => second.counters().received === count, 'the second relay to see every frame')
    await waitFor(() => onB.frames.length === count, 'every frame on B')
    expect(first.counters().forwarded).toBe(count)
    expect(second.counters()).toMatchObject({ forwarded: 0, dropped: { 'max-hops': count } })
    expect(second.counters().outputs[0]!.sent).toBe(0)
    expect(onC.frames).toEqual([])
  })
})

describe('lifecycle', () => {
  const taken = uniquePort()
  const udpHandles = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length
  const settle = async () => {
    // node:dgram reports a socket closed before libuv has released the handle
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
  }

  it('close() leaves the groups and releases every socket, once', async () => {
    await settle()
    const before = udpHandles()
    const relay = await startRelay([
      '--in',
      uniqueGroup().route,
      '--in',
      `udp://127.0.0.1:${uniquePort()}`,
      '--out',
      uniqueGroup().route,
      '--out',
      `unicast://127.0.0.1:${uniquePort()}`,
    ])
    // Two inputs, the unicast output, and the multicast output's two (one receives acks, one
    // connected sends: Linux).
    expect(udpHandles()).toBe(before + (process.platform === 'linux' ? 5 : 4))
    await relay.close()
    await relay.close()
    await settle()
    expect(udpHandles()).toBe(before)
  })

  it.each([
    ['an address that is not this host’s', () => 'udp://127.0.0.2:7400'],
    ['a udp port another relay listens on', () => `udp://127.0.0.1:${taken}`],
  ])('a route that cannot open (%s) fails naming it, and closes what was already open', async (_, spec) => {
    await track(startRelay(['--in', `udp://127.0.0.1:${taken}`, '--out', uniqueGroup().route]))
    await settle()
    const before = udpHandles()
    const route = spec()
    await expect(
      startRelay(['--in', uniqueGroup().route, '--in', route, '--out', uniqueGroup().route]),
    ).rejects.toThrow(`--in ${route}: `)
    await settle()
    expect(udpHandles()).toBe(before)
  })
})

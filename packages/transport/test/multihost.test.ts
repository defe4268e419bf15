/**
 * Real hosts, real sockets: every host is a private network namespace made by @shoal/netns, joined
 * by veth pairs to a bridge. Nothing here touches the machine's own interfaces.
 * Hosts on segment `lan`: a (publisher), b (receiver), c (never joins), d (second source / receiver).
 */
import { createNetwork, type Network, requireNetns } from '@shoal/netns'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AckReport, PublishResult, StatsSnapshot, SubscriberInfo } from '../src/index.js'
import { type Agent, startAgent } from './agent-client.js'
import { uniqueEndpoint, waitFor } from './support.js'

const netns = requireNetns()

interface FrameSummary {
  topic: string
  sequence: number
  session: string
  address: string
  bytes: number
  raw?: string
}

describe.skipIf(netns.skip)('multi-host (network namespaces)', () => {
  let net: Network
  const agents: Record<string, Agent> = {}

  beforeAll(async () => {
    net = await createNetwork({
      hosts: ['a', 'b', 'c', 'd'],
      segments: [{ name: 'lan', hosts: ['a', 'b', 'c', 'd'] }],
      ipv6: true,
    })
    for (const name of ['a', 'b', 'c', 'd']) agents[name] = await startAgent(net.host(name))
  }, 60_000)

  afterAll(async () => {
    await Promise.all(Object.values(agents).map((a) => a.stop()))
    await net?.destroy()
  })

  const on = (host: string) => ({ interface: net.host(host).ifname('lan') })
  const frames = async (host: string, name: string) => agents[host]!.call<FrameSummary[]>('frames', { name })
  const stats = async (host: string, name: string) => agents[host]!.call<StatsSnapshot>('stats', { name })

  it('a publishes on its veth; joined b receives all, c (not joined, same port) receives nothing', async () => {
    const { group, port } = uniqueEndpoint()
    const info = await agents.b!.call<SubscriberInfo>('sub', {
      name: 'g1',
      options: { group, port, ...on('b') },
    })
    expect(info.interface).toBe(net.host('b').ifname('lan'))
    // c listens on the same port on every address, but never joins the group
    await agents.c!.call('sub', { name: 'g1', options: { mode: 'unicast', port } })
    await agents.a!.call('pub', { name: 'g1', options: { group, port, ttl: 1, ...on('a') } })
    await agents.a!.call('publish', { name: 'g1', topic: 'imu', count: 200 })
    await agents.a!.call('publish', { name: 'g1', topic: 'camera', type: 'Image', count: 3, size: 300_000 })
    await waitFor(async () => (await frames('b', 'g1')).length === 203, 10_000)
    const got = await frames('b', 'g1')
    expect(got.filter((f) => f.topic === 'imu').map((f) => f.sequence)).toEqual([...Array(200).keys()])
    expect(got.filter((f) => f.topic === 'camera')).toHaveLength(3)
    expect(got[0]!.address).toBe(net.host('a').ipv4('lan'))
    const bStats = await stats('b', 'g1')
    expect(bStats.received.every((s) => s.gaps === 0)).toBe(true)
    expect(bStats.drops).toEqual({})
    const cStats = await stats('c', 'g1')
    expect(cStats.datagramsIn).toBe(0)
    expect(await frames('c', 'g1')).toEqual([])
  })

  it('SSM: b joined to (a, group) receives nothing from a second source d on that group', async () => {
    const { port } = uniqueEndpoint()
    const group = `232.1.${port % 250}.1`
    await agents.b!.call('sub', {
      name: 'ssm',
      options: { group, port, source: net.host('a').ipv4('lan'), ...on('b') },
    })
    await agents.a!.call('pub', { name: 'ssm', options: { group, port, ...on('a') } })
    await agents.d!.call('pub', { name: 'ssm', options: { group, port, ...on('d') } })
    await agents.d!.call('publish', { name: 'ssm', topic: 'from-d', count: 50 })
    await agents.a!.call('publish', { name: 'ssm', topic: 'from-a', count: 50 })
    await waitFor(async () => (await frames('b', 'ssm')).length >= 50, 10_000)
    // a's frames were sent after d's, so d's would have arrived by now
    const got = await frames('b', 'ssm')
    expect(new Set(got.map((f) => f.topic))).toEqual(new Set(['from-a']))
    expect(got).toHaveLength(50)
    // a's 50 frames and its heartbeats; nothing of d's
    const b = await stats('b', 'ssm')
    expect(b.datagramsIn - (b.heartbeats?.received ?? 0)).toBe(50)
  })

  it('IPv6 multicast a → b', async () => {
    const { port } = uniqueEndpoint()
    const group = `ff15::${port.toString(16)}` // site scope, so a's source address is its ULA, not link-local
    await agents.b!.call('sub', { name: 'v6', options: { group, port, ...on('b') } })
    const pub = await agents.a!.call<{ family: number; budget: number }>('pub', {
      name: 'v6',
      options: { group, port, ...on('a') },
    })
    expect(pub.family).toBe(6)
    expect(pub.budget).toBe(1452)
    await agents.a!.call('publish', { name: 'v6', topic: 'imu', count: 100 })
    await agents.a!.call('publish', { name: 'v6', topic: 'camera', type: 'Image', size: 50_000 })
    await waitFor(async () => (await frames('b', 'v6')).length === 101, 10_000)
    const got = await frames('b', 'v6')
    expect(got[0]!.address).toBe(net.host('a').ipv6('lan'))
  })

  it('broadcast a → b and b → a', async () => {
    const { port } = uniqueEndpoint()
    const broadcast = net.host('a').ifaces[0]!.broadcast4
    await agents.b!.call('sub', { name: 'bc', options: { mode: 'broadcast', port } })
    await agents.a!.call('sub', { name: 'bc', options: { mode: 'broadcast', port } })
    await agents.a!.call('pub', {
      name: 'bc',
      options: { mode: 'broadcast', address: broadcast, port, ...on('a') },
    })
    await agents.b!.call('pub', {
      name: 'bc',
      options: { mode: 'broadcast', address: broadcast, port, ...on('b') },
    })
    await agents.a!.call('publish', { name: 'bc', topic: 'from-a', count: 20 })
    await agents.b!.call('publish', { name: 'bc', topic: 'from-b', count: 20 })
    await waitFor(
      async () => (await frames('b', 'bc')).some((f) => f.topic === 'from-a' && f.sequence === 19),
      10_000,
    )
    await waitFor(
      async () => (await frames('a', 'bc')).some((f) => f.topic === 'from-b' && f.sequence === 19),
      10_000,
    )
    expect((await frames('b', 'bc')).filter((f) => f.topic === 'from-a')).toHaveLength(20)
    expect((await frames('a', 'bc')).filter((f) => f.topic === 'from-b')).toHaveLength(20)
  })

  it('unicast a ↔ b', async () => {
    const { port } = uniqueEndpoint()
    await agents.b!.call('sub', { name: 'uc', options: { mode: 'unicast', port, ...on('b') } })
    await agents.a!.call('sub', { name: 'uc', options: { mode: 'unicast', port, ...on('a') } })
    await agents.a!.call('pub', {
      name: 'uc',
      options: { mode: 'unicast', address: net.host('b').ipv4('lan'), port },
    })
    await agents.b!.call('pub', {
      name: 'uc',
      options: { mode: 'unicast', address: net.host('a').ipv4('lan'), port },
    })
    await agents.a!.call('publish', { name: 'uc', topic: 'ping', count: 10 })
    await agents.b!.call('publish', { name: 'uc', topic: 'pong', count: 10 })
    await waitFor(
      async () => (await frames('b', 'uc')).length === 10 && (await frames('a', 'uc')).length === 10,
      10_000,
    )
    expect((await frames('b', 'uc')).every((f) => f.topic === 'ping')).toBe(true)
    expect((await frames('a', 'uc')).every((f) => f.topic === 'pong')).toBe(true)
  })

  it('acks from two receivers reach the publisher; a third, stopped receiver is reported missing', async () => {
    const { group, port } = uniqueEndpoint()
    for (const host of ['b', 'c', 'd'])
      await agents[host]!.call('sub', {
        name: 'ack',
        options: { group, port, ack: true, name: `recv-${host}`, ...on(host) },
      })
    await agents.a!.call('pub', { name: 'ack', options: { group, port, ...on('a') } })
    const first = await agents.a!.call<AckReport>('ackRound', {
      name: 'ack',
      topic: 'hb',
      timeoutMs: 5_000,
      expected: ['recv-b', 'recv-c', 'recv-d'],
    })
    expect(first.acked.map((a) => a.receiver).sort()).toEqual(['recv-b', 'recv-c', 'recv-d'])
    expect(first.acked.find((a) => a.receiver === 'recv-b')!.address).toBe(net.host('b').ipv4('lan'))
    await agents.d!.call('close', { name: 'ack' })
    // no list given: the publisher expects every receiver it has heard from
    const second = await agents.a!.call<AckReport>('ackRound', { name: 'ack', topic: 'hb', timeoutMs: 500 })
    expect(second.acked.map((a) => a.receiver).sort()).toEqual(['recv-b', 'recv-c'])
    expect(second.missing).toEqual(['recv-d'])
  })

  it("with 10 % random loss injected on b's input and no repair, b's gap count equals sent − received exactly", async () => {
    const { group, port } = uniqueEndpoint()
    // Repair off: what is lost stays lost, and the count is what is checked.
    await agents.b!.call('sub', { name: 'loss', options: { group, port, repair: false, ...on('b') } })
    await agents.a!.call('pub', { name: 'loss', options: { group, port, ...on('a') } })
    // The first frame goes through before the loss starts: a receiver cannot tell frames lost
    // before the first one it sees from frames sent before it joined, so it counts neither.
    await agents.a!.call('publish', { name: 'loss', topic: 'imu', count: 1 })
    await waitFor(async () => (await frames('b', 'loss')).length === 1, 10_000)
    await net.injectLoss('b', 0.1)
    const total = 3_000
    try {
      await agents.a!.call<PublishResult>('publish', {
        name: 'loss',
        topic: 'imu',
        count: total - 2,
        from: 1,
      })
    } finally {
      await net.clearLoss('b')
    }
    // A last frame after the loss ends, so trailing losses show as gaps too.
    await agents.a!.call('publish', { name: 'loss', topic: 'imu', count: 1, from: total - 1 })
    await waitFor(async () => (await frames('b', 'loss')).some((f) => f.sequence === total - 1), 10_000)
    const s = (await stats('b', 'loss')).received[0]!
    const received = s.frames
    expect(received).toBeLessThan(total * 0.95)
    expect(received).toBeGreaterThan(total * 0.8)
    expect(s.gaps).toBe(total - received)
    expect(s.duplicates).toBe(0)
  })

  /** Publishes `count` images of `size` bytes from a while `lossy` hosts drop 10 % of what they receive. */
  const imagesUnderLoss = async (name: string, count: number, size: number, lossy: string[]) => {
    for (const host of lossy) await net.injectLoss(host, 0.1)
    try {
      await agents.a!.call('publish', { name, topic: 'camera', type: 'Image', count, size })
      await waitFor(async () => (await frames('b', name)).length === count, 10_000)
    } finally {
      for (const host of lossy) await net.clearLoss(host)
    }
  }

  it('with 10 % loss on b, 300 kB images (about 200 fragments each) arrive whole by repair; without it, none', async () => {
    const { group, port } = uniqueEndpoint()
    const images = 20
    await agents.b!.call('sub', { name: 'fix', options: { group, port, ...on('b') } })
    await agents.d!.call('sub', { name: 'fix', options: { group, port, ...on('d'), repair: false } })
    await agents.a!.call('pub', { name: 'fix', options: { group, port, ...on('a') } })
    await imagesUnderLoss('fix', images, 300_000, ['b', 'd'])
    const got = await frames('b', 'fix')
    // Repaired images complete later than the ones after them: delivery order is completion order.
    expect(got.map((f) => f.sequence).sort((x, y) => x - y)).toEqual([...Array(images).keys()])
    expect(got.every((f) => f.bytes > 300_000)).toBe(true)
    const b = await stats('b', 'fix')
    expect(b.received[0]!.gaps).toBe(0)
    expect(b.repair.nacksSent).toBeGreaterThan(0)
    // Each image needs about 20 of its fragments again.
    expect(b.repair.fragmentsRepaired).toBeGreaterThan(images * 10)
    const a = await stats('a', 'fix')
    expect(a.repair.nacksReceived).toBeGreaterThan(0)
    // Not ≥ b's repaired count: a fragment asked for while the publisher was held back by flow
    // control and then sent the first time counts as repaired at b, not as resent at a.
    expect(a.repair.fragmentsResent).toBeGreaterThan(0)
    // d does not ask: an image of about 200 fragments at 10 % loss essentially never arrives whole.
    const d = await stats('d', 'fix')
    expect(d.repair.nacksSent).toBe(0)
    expect((await frames('d', 'fix')).length).toBeLessThanOrEqual(1)
  })

  it('repair over IPv6: with 10 % loss on b, 100 kB images arrive whole', async () => {
    const { port } = uniqueEndpoint()
    const group = `ff15::${port.toString(16)}`
    await agents.b!.call('sub', { name: 'fix6', options: { group, port, ...on('b') } })
    await agents.a!.call('pub', { name: 'fix6', options: { group, port, ...on('a') } })
    await imagesUnderLoss('fix6', 10, 100_000, ['b'])
    const b = await stats('b', 'fix6')
    expect(b.received[0]!.gaps).toBe(0)
    expect(b.repair.fragmentsRepaired).toBeGreaterThan(0)
    expect((await stats('a', 'fix6')).repair.fragmentsResent).toBeGreaterThan(0)
  })
})

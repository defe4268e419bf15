/**
 * Reliability between real hosts: with 20 % of datagrams dropped at random both ways (data on its
 * way into the receivers, NACKs on their way back into the publisher's host), whole-frame repair
 * (NACK_FRAMES) and fragment repair (NACK) deliver every frame of every stream exactly once, the
 * last frames before the publisher closes included, and (receivers `ordered`) in sequence order per
 * stream. Every host is a private network namespace made
 * by @shoal/netns; nothing here touches the machine's own interfaces.
 * Hosts on segment `lan`: a (three publishers, one per stream), b, c, d (one subscriber each).
 */
import { createNetwork, type Network, requireNetns } from '@shoal/netns'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StatsSnapshot } from '../src/index.js'
import { type Agent, startAgent, type TopicSummary } from './agent-client.js'
import { uniqueEndpoint, waitFor } from './support.js'

const netns = requireNetns()

const RECEIVERS = ['b', 'c', 'd'] as const
const LOSS = 0.2
/**
 * Frames per stream, sequences 0..N-1; each stream is a topic of its own publisher on a:
 * small unbatched frames, small frames batched (`batch: true`, queued with send()), and 200 kB
 * images cut into fragments of the veth's 1,472-byte budget.
 */
const FRAMES = { imu: 2_000, batched: 20_000, camera: 30 } as const
type Topic = keyof typeof FRAMES
const TOPICS = Object.keys(FRAMES) as Topic[]
const IMAGE_BYTES = 200_000
/**
 * Each publisher sends like a sensor at a rate, not in one loop that never yields: after every burst
 * of this many frames (images: one) it pauses 1 ms, and its event loop reads NACKs and runs timers.
 */
const BURSTS = { imu: 20, batched: 500, camera: 1 } as const
/** A bound on waiting for delivery, not a speed check. */
const DELIVERY_TIMEOUT_MS = 30_000

type Summary = Partial<Record<Topic, TopicSummary>>

describe.skipIf(netns.skip)('reliable delivery under 20 % loss both ways (network namespaces)', () => {
  let net: Network
  const agents: Record<string, Agent> = {}

  beforeAll(async () => {
    const hosts = ['a', ...RECEIVERS]
    net = await createNetwork({ hosts, segments: [{ name: 'lan', hosts }] })
    for (const name of hosts) agents[name] = await startAgent(net.host(name))
  }, 60_000)

  afterAll(async () => {
    await Promise.all(Object.values(agents).map((a) => a.stop()))
    await net?.destroy()
  })

  const on = (host: string) => ({ interface: net.host(host).ifname('lan') })
  const a = () => agents.a!
  const summary = (host: string, expected: Partial<Record<Topic, number>> = FRAMES) =>
    agents[host]!.call<Summary>('summary', { name: 'rel', expected })
  const stats = (host: string, name: string) => agents[host]!.call<StatsSnapshot>('stats', { name })
  const complete = (s: Summary, expected: Partial<Record<Topic, number>>) =>
    Object.keys(expected).every((t) => s[t as Topic]?.missingCount === 0)

  /** What each receiver lacks and what repair did, for a failure message. */
  const diagnosis = async (): Promise<string> => {
    const lines: string[] = []
    for (const host of RECEIVERS) {
      const delivered = await summary(host)
      const s = await stats(host, 'rel')
      const { nacksSent, nacksSuppressed, framesAsked, framesGivenUp, framesNotAsked } = s.repair
      lines.push(
        `${host}: ${JSON.stringify({ nacksSent, nacksSuppressed, framesAsked, framesGivenUp, framesNotAsked })}`,
      )
      for (const topic of TOPICS) {
        const t = delivered[topic]
        const gaps = s.received.find((r) => r.topic === topic)?.gaps
        lines.push(
          `  ${topic}: ${t?.distinct ?? 0}/${FRAMES[topic]} distinct, gaps ${gaps}, ` +
            `missing ${t?.missingCount ?? FRAMES[topic]} ${JSON.stringify(t?.missing ?? [])}, ` +
            `delivered twice ${JSON.stringify(t?.duplicates ?? [])}, out of order ${t?.outOfOrder ?? 0}`,
        )
      }
    }
    for (const topic of TOPICS) {
      const r = (await stats('a', topic)).repair
      const { nacksReceived, datagramsResent, fragmentsResent, unavailable, creditLimited, rateLimited } = r
      lines.push(
        `a/${topic}: ${JSON.stringify({ nacksReceived, datagramsResent, fragmentsResent, unavailable, creditLimited, rateLimited })}`,
      )
    }
    return lines.join('\n')
  }

  it('small, batched and fragmented frames all arrive exactly once at three receivers, the last ones too', async (context) => {
    const { group, port } = uniqueEndpoint()
    for (const host of RECEIVERS)
      await agents[host]!.call('sub', { name: 'rel', options: { group, port, ordered: true, ...on(host) } })
    await a().call('pub', { name: 'imu', options: { group, port, ...on('a') } })
    await a().call('pub', { name: 'batched', options: { group, port, batch: true, ...on('a') } })
    const camera = await a().call<{ budget: number }>('pub', {
      name: 'camera',
      options: { group, port, budget: 1_472, ...on('a') },
    })
    expect(camera.budget).toBe(1_472)

    // Frame 0 of each stream goes through before the loss starts: a receiver cannot tell frames lost
    // before the first one it sees from frames sent before it joined, so it never asks for those.
    await a().call('publish', { name: 'imu', topic: 'imu', count: 1 })
    await a().call('send', { name: 'batched', topic: 'batched', count: 1 })
    await a().call('publish', { name: 'camera', topic: 'camera', type: 'Image', count: 1, size: IMAGE_BYTES })
    const first = { imu: 1, batched: 1, camera: 1 }
    for (const host of RECEIVERS)
      await waitFor(
        async () => complete(await summary(host, first), first),
        10_000,
        `frame 0 of every stream at ${host}`,
      )

    // Data is lost on its way into each receiver, NACKs on their way into the publisher's host.
    const lossy = ['a', ...RECEIVERS]
    for (const host of lossy) await net.injectLoss(host, LOSS)
    try {
      // The three streams at once; each publisher closes right after its last frame (close() sends
      // a last heartbeat, so receivers learn of a lost tail, and waits for their repairs).
      await Promise.all([
        (async () => {
          await a().call('publish', {
            from: 1,
            name: 'imu',
            topic: 'imu',
            count: FRAMES.imu - 1,
            burst: BURSTS.imu,
          })
          await a().call('close', { name: 'imu' })
        })(),
        (async () => {
          await a().call('send', {
            from: 1,
            name: 'batched',
            topic: 'batched',
            count: FRAMES.batched - 1,
            burst: BURSTS.batched,
          })
          await a().call('close', { name: 'batched' })
        })(),
        (async () => {
          await a().call('publish', {
            from: 1,
            name: 'camera',
            topic: 'camera',
            type: 'Image',
            count: FRAMES.camera - 1,
            size: IMAGE_BYTES,
            burst: BURSTS.camera,
          })
          await a().call('close', { name: 'camera' })
        })(),
      ])
      await waitFor(
        async () => {
          for (const host of RECEIVERS) if (!complete(await summary(host), FRAMES)) return false
          return true
        },
        DELIVERY_TIMEOUT_MS,
        'every frame of every stream at every receiver',
      ).catch(async (error: Error) => {
        // Say what is missing and what repair did, not only that something is missing.
        throw new Error(`${error.message}\n${await diagnosis()}`)
      })
      // The loss was real, both ways.
      for (const host of lossy) expect(await net.droppedPackets(host)).toBeGreaterThan(0)
    } finally {
      for (const host of lossy) await net.clearLoss(host)
    }

    // Whole frames (unbatched and batched) came again from the sent log, fragments from the window.
    const published: Partial<Record<Topic, StatsSnapshot>> = {}
    for (const topic of TOPICS) published[topic] = await stats('a', topic)
    expect(published.imu!.repair.datagramsResent).toBeGreaterThan(0)
    expect(published.batched!.repair.datagramsResent).toBeGreaterThan(0)
    expect(published.camera!.repair.fragmentsResent).toBeGreaterThan(0)

    const report: string[] = []
    for (const host of RECEIVERS) {
      const delivered = await summary(host)
      for (const topic of TOPICS) {
        const t = delivered[topic]!
        // Exactly once: every sequence 0..N-1, nothing else, nothing twice.
        expect({ host, topic, missing: t.missing, duplicates: t.duplicates }).toEqual({
          host,
          topic,
          missing: [],
          duplicates: [],
        })
        expect(t.distinct).toBe(FRAMES[topic])
        expect(t.delivered).toBe(FRAMES[topic])
        expect(t.highest).toBe(FRAMES[topic] - 1)
      }
      const s = await stats(host, 'rel')
      // Loss was seen and repaired: every stream has all its frames and counts none lost any more.
      expect(s.received.map((r) => [r.topic, r.frames, r.gaps]).sort()).toEqual(
        TOPICS.map((t) => [t, FRAMES[t], 0]).sort(),
      )
      expect(s.repair.nacksSent).toBeGreaterThan(0)
      expect(s.repair.framesAsked).toBeGreaterThan(0)
      expect(s.repair.fragmentsRepaired).toBeGreaterThan(0)
      // In order per stream: `ordered` held every frame after a gap until the repair came.
      const order = TOPICS.map((t) => `${t} ${delivered[t]!.outOfOrder}`).join(', ')
      for (const topic of TOPICS)
        expect({ host, topic, outOfOrder: delivered[topic]!.outOfOrder }).toEqual({
          host,
          topic,
          outOfOrder: 0,
        })
      report.push(
        `${host}: framesAsked ${s.repair.framesAsked}, nacksSent ${s.repair.nacksSent}, ` +
          `fragmentsRepaired ${s.repair.fragmentsRepaired}, framesGivenUp ${s.repair.framesGivenUp}; ` +
          `out of order: ${order}`,
      )
    }
    for (const topic of TOPICS) {
      const r = published[topic]!.repair
      report.push(
        `a/${topic}: nacksReceived ${r.nacksReceived}, datagramsResent ${r.datagramsResent}, ` +
          `fragmentsResent ${r.fragmentsResent}, unavailable ${r.unavailable}, ` +
          `creditLimited ${r.creditLimited}, rateLimited ${r.rateLimited}`,
      )
    }
    await context.annotate(report.join('\n'))
  })
})

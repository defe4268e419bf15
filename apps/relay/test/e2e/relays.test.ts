/**
 * Two relays between two sites, built bundles in private network namespaces (@shoal/netns):
 *
 *   a ── sitea ──┬── r1 ──┬── siteb ── b
 *                └── r2 ──┘
 *        (r1 and r2 also share a middle segment, mid)
 *
 * - a unicast tunnel: r1 takes sitea's group and sends it to r2 across mid, r2 puts it on siteb;
 * - a loop: r1 and r2 each forward sitea → siteb and siteb → sitea, so every frame can come back.
 */
import { createNetwork, type Network, requireNetns } from '@shoal/netns'
import { sampleValue } from '@shoal/service/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertBuilt,
  countBy,
  eventually,
  FAST_SENSORS,
  frames,
  type Running,
  scrape,
  startOn,
  stopAll,
  stoppedSummary,
} from './support.js'

const netns = requireNetns()
const PORT = 7400
const TUNNEL_PORT = 7500

describe.skipIf(netns.skip)('relays: a unicast tunnel, and a loop', () => {
  let net: Network
  const running: Running[] = []

  beforeAll(async () => {
    assertBuilt()
    net = await createNetwork({
      hosts: ['a', 'r1', 'r2', 'b'],
      segments: [
        { name: 'sitea', hosts: ['a', 'r1', 'r2'] },
        { name: 'mid', hosts: ['r1', 'r2'] },
        { name: 'siteb', hosts: ['r1', 'r2', 'b'] },
      ],
    })
  }, 30_000)

  afterAll(async () => {
    await stopAll(running)
    await net?.destroy()
  })

  function start(host: string, app: 'send' | 'recv' | 'relay', args: string[]) {
    const p = startOn(net.host(host), app, args)
    running.push(p)
    return p
  }

  async function ready(p: Running) {
    await p.waitForLog('ready')
    return p
  }

  const multicast = (group: string, segment: string) => `multicast://${group}:${PORT}?interface=v-${segment}`

  async function receiver(group: string) {
    return ready(
      start('b', 'recv', [
        '--interface',
        'v-siteb',
        '--group',
        group,
        '--port',
        String(PORT),
        '--output',
        'json',
      ]),
    )
  }

  async function send(group: string, count: number) {
    const a = start('a', 'send', [
      '--interface',
      'v-sitea',
      '--group',
      group,
      '--port',
      String(PORT),
      '--count',
      String(count),
      ...FAST_SENSORS,
    ])
    expect((await a.exited()).code).toBe(0)
    return a
  }

  const sessionOf = (p: Running) => p.logs().find((l) => typeof l.session === 'string')?.session

  it('r1 tunnels sitea to r2 over unicast on mid; r2 puts the frames on siteb for b', async () => {
    const ga = '239.255.11.1'
    const gb = '239.255.12.1'
    const r2mid = net.host('r2').ipv4('mid')
    const r2 = await ready(
      start('r2', 'relay', [
        '--in',
        `udp://${r2mid}:${TUNNEL_PORT}`,
        '--out',
        multicast(gb, 'siteb'),
        '--relay-id',
        'r2',
      ]),
    )
    const r1 = await ready(
      start('r1', 'relay', [
        '--in',
        multicast(ga, 'sitea'),
        '--out',
        `unicast://${r2mid}:${TUNNEL_PORT}`,
        '--relay-id',
        'r1',
      ]),
    )
    const b = await receiver(gb)
    const count = 400
    const a = await send(ga, count)
    await b.waitUntil(`${count} frames`, () => (frames(b).length >= count ? true : undefined))
    const got = frames(b)
    expect(got).toHaveLength(count)
    for (const [topic, n] of Object.entries(countBy(got, (f) => f.topic))) {
      expect(
        got.filter((f) => f.topic === topic).map((f) => f.sequence),
        topic,
      ).toEqual([...Array(n).keys()])
    }
    // Two relays crossed; the original session; the last hop was r2 on siteb.
    expect(new Set(got.map((f) => f.hops))).toEqual(new Set([2]))
    expect(new Set(got.map((f) => f.source.session))).toEqual(new Set([sessionOf(a)]))
    expect(new Set(got.map((f) => f.source.address))).toEqual(new Set([net.host('r2').ipv4('siteb')]))
    expect(stoppedSummary(await b.stop())).toMatchObject({ frames: count, gaps: 0, duplicates: 0 })
    const s1 = stoppedSummary(await r1.stop())
    const s2 = stoppedSummary(await r2.stop())
    expect(s1).toMatchObject({ dropped: 0 })
    expect(s2).toMatchObject({ dropped: 0, received: s1.forwarded, forwarded: s1.forwarded })
  })

  it('a loop of relays does not multiply frames: b gets each once, the relays drop the copies as duplicates', async () => {
    const ga = '239.255.21.1'
    const gb = '239.255.22.1'
    // Each relay host forwards both ways, one process per direction (a relay refuses an --out equal
    // to an --in). Every frame from a reaches siteb twice (via r1 and via r2) and comes back to
    // sitea twice; without the loop guards it would circle until --max-hops.
    const relays: Record<string, Running> = {}
    for (const host of ['r1', 'r2']) {
      relays[`${host}ab`] = start(host, 'relay', [
        '--in',
        multicast(ga, 'sitea'),
        '--out',
        multicast(gb, 'siteb'),
        '--relay-id',
        `${host}ab`,
        '--http',
        '0',
      ])
      relays[`${host}ba`] = start(host, 'relay', [
        '--in',
        multicast(gb, 'siteb'),
        '--out',
        multicast(ga, 'sitea'),
        '--relay-id',
        `${host}ba`,
        '--http',
        '0',
      ])
    }
    await Promise.all(Object.values(relays).map(ready))
    const b = await receiver(gb)
    const count = 300
    await send(ga, count)
    await b.waitUntil(`${count} frames`, () => (frames(b).length >= count ? true : undefined))

    // Every relay forwards each datagram once. sitea → siteb relays then see it come back twice
    // (from r1ba and r2ba): 2 duplicates per datagram; siteb → sitea relays get it from both r1ab
    // and r2ab: 1 duplicate. Wait until the copies still in flight have been counted.
    const counters = async () => {
      const out: Record<string, { received: number; forwarded: number; duplicate: number; maxHops: number }> =
        {}
      for (const [name, p] of Object.entries(relays)) {
        const families = await scrape(net.host(name.slice(0, 2)), p)
        out[name] = {
          received: sampleValue(families, 'shoal_relay_received_total'),
          forwarded: sampleValue(families, 'shoal_relay_forwarded_total'),
          duplicate: sampleValue(families, 'shoal_relay_dropped_total', { reason: 'duplicate' }),
          maxHops: sampleValue(families, 'shoal_relay_dropped_total', { reason: 'max-hops' }),
        }
      }
      return out
    }
    const settled = await eventually('every copy counted', counters, (c) => {
      const f = c.r1ab!.forwarded
      return (
        Object.values(c).every((r) => r.forwarded === f) &&
        c.r1ab!.duplicate === 2 * f &&
        c.r2ab!.duplicate === 2 * f &&
        c.r1ba!.duplicate === f &&
        c.r2ba!.duplicate === f
      )
    })
    // At least one datagram per frame (camera frames are 40 fragments), and no frame went round
    // until the hop limit.
    expect(settled.r1ab!.forwarded).toBeGreaterThanOrEqual(count)
    for (const [name, r] of Object.entries(settled)) expect(r.maxHops, name).toBe(0)

    // The summaries say the same, by reason.
    const summaries: Record<string, Record<string, unknown>> = {}
    for (const [name, p] of Object.entries(relays)) summaries[name] = stoppedSummary(await p.stop())
    for (const [name, s] of Object.entries(summaries)) {
      expect(s, name).toMatchObject({
        forwarded: settled[name]!.forwarded,
        duplicate: settled[name]!.duplicate,
        'max-hops': 0,
        loop: 0,
      })
      expect(s.received, name).toBe((s.forwarded as number) + (s.dropped as number))
    }
    const got = frames(b)
    const keys = got.map((f) => `${f.topic}#${f.sequence}`)
    expect(new Set(keys).size).toBe(keys.length) // no frame printed twice
    expect(got).toHaveLength(count)
    const bSummary = stoppedSummary(await b.stop())
    expect(bSummary).toMatchObject({ frames: count, gaps: 0 })
    // b did get copies (one via each relay) and counted them, not printed them.
    expect(bSummary.duplicates).toBeGreaterThan(0)
  })
})

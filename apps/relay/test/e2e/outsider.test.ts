/**
 * An outsider with plain UDP sockets (fixtures/outsider.mjs) on both segments of a tunnel, against
 * built bundles in private network namespaces (@shoal/netns):
 *
 *   a ── sitea ── r1 ── mid ── r2 ── siteb ── b
 *          └─── x ───┘
 *
 * r1 takes sitea's group and sends it to r2 across mid; r2 takes only r1 (`allow=`) and puts the
 * frames on siteb, where b acks them. x injects frames into r2's udp:// input from mid, and on sitea
 * sends frames with a's session id, asking for acks, to take the way back for a's acks.
 */
import { fileURLToPath } from 'node:url'
import { createNetwork, type Network, requireNetns } from '@shoal/netns'
import { sampleValue } from '@shoal/service/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertBuilt,
  PROCESS_LIMIT_MS,
  type Running,
  scrape,
  startOn,
  stopAll,
  stoppedSummary,
  WAIT_MS,
  watch,
} from './support.js'

const netns = requireNetns()
const OUTSIDER = fileURLToPath(new URL('./fixtures/outsider.mjs', import.meta.url))
const PORT = 7400
const TUNNEL_PORT = 7500

describe.skipIf(netns.skip)('an outsider on both segments of a tunnel', () => {
  let net: Network
  const running: Running[] = []

  beforeAll(async () => {
    assertBuilt()
    net = await createNetwork({
      hosts: ['a', 'r1', 'r2', 'x', 'b'],
      segments: [
        { name: 'sitea', hosts: ['a', 'r1', 'x'] },
        { name: 'mid', hosts: ['r1', 'r2', 'x'] },
        { name: 'siteb', hosts: ['r2', 'b'] },
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

  it('injects nothing past r2 and takes none of a’s acks', async () => {
    const ga = '239.255.31.1'
    const gb = '239.255.32.1'
    const r1mid = net.host('r1').ipv4('mid')
    const r2mid = net.host('r2').ipv4('mid')
    const r2 = start('r2', 'relay', [
      '--in',
      `udp://${r2mid}:${TUNNEL_PORT}?allow=${r1mid}`,
      '--out',
      `multicast://${gb}:${PORT}?interface=v-siteb`,
      '--http',
      '0',
    ])
    const r1 = start('r1', 'relay', [
      '--in',
      `multicast://${ga}:${PORT}?interface=v-sitea`,
      '--out',
      `unicast://${r2mid}:${TUNNEL_PORT}`,
    ])
    const b = start('b', 'recv', [
      '--interface',
      'v-siteb',
      '--group',
      gb,
      '--port',
      String(PORT),
      '--ack',
      '--name',
      'rx-b',
      '--output',
      'json',
    ])
    await Promise.all([r1, r2, b].map((p) => p.waitForLog('ready')))

    const count = 40
    const x = watch(
      'outsider on x',
      net
        .host('x')
        .node(
          OUTSIDER,
          ['--iface', net.host('x').ipv4('sitea'), '--sniff', `${ga}:${PORT}`, '--forge', String(count)],
          { timeoutMs: PROCESS_LIMIT_MS },
        ),
    )
    const injector = watch(
      'outsider on x (mid)',
      net
        .host('x')
        .node(
          OUTSIDER,
          ['--iface', net.host('x').ipv4('mid'), '--inject', `${r2mid}:${TUNNEL_PORT}`, '--count', '100'],
          { timeoutMs: PROCESS_LIMIT_MS },
        ),
    )
    running.push(x, injector)
    await x.waitUntil('the outsider to listen', () => (x.stdout().includes('ready\n') ? true : undefined))

    const a = start('a', 'send', [
      '--interface',
      'v-sitea',
      '--group',
      ga,
      '--port',
      String(PORT),
      '--count',
      String(count),
      '--sensors',
      'imu',
      '--rate',
      'imu=50',
      '--expect',
      'rx-b',
      '--ack-timeout',
      '2s',
    ])
    const sent = stoppedSummary(await a.exited())
    expect(sent).toMatchObject({ frames: count, acks: count, missing: 'none' })

    const outsider = async (p: Running) => {
      const exit = await p.exited(WAIT_MS)
      expect(exit.code, exit.stderr).toBe(0)
      return JSON.parse(exit.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>
    }
    const sniffed = await outsider(x)
    const injected = await outsider(injector)
    expect(sniffed).toMatchObject({ acks: 0 })
    expect(Number(sniffed.forged)).toBeGreaterThan(0)
    expect(injected).toMatchObject({ injected: 100, acks: 0 })

    const metrics = await scrape(net.host('r2'), r2)
    expect(sampleValue(metrics, 'shoal_relay_dropped_total', { reason: 'not-allowed' })).toBe(100)
    const s1 = stoppedSummary(await r1.stop())
    expect(s1).toMatchObject({ 'ack-route-conflicts': sniffed.forged, 'not-allowed': 0 })
    const s2 = stoppedSummary(await r2.stop())
    expect(s2).toMatchObject({
      received: Number(s1.forwarded) + 100,
      forwarded: s1.forwarded,
      'not-allowed': 100,
    })
    await b.stop()
  })
})

/**
 * The relay README's "Site A → tunnel → site B" example, run as written (its two command lines read
 * from the README), built bundles in private network namespaces (@shoal/netns):
 *
 *   a, w ── sitea ── relay-a ── mid ── relay-b ── siteb ── b
 *
 * Only the README's placeholders are replaced: each relay's `eth0` by its veth on its site,
 * `relay-b.example` by relay-b's address on mid, `10.0.1.5` by relay-a's. The example promises that
 * camera frames stay at site A: relay-a must drop them before the tunnel, and b must get every other
 * frame. w watches site A, to count what was sent there by topic.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createNetwork, type Network, requireNetns } from '@shoal/netns'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertBuilt,
  countBy,
  FAST_SENSORS,
  frames,
  type Running,
  startOn,
  stopAll,
  stoppedSummary,
} from './support.js'

const netns = requireNetns()
const README = fileURLToPath(new URL('../../README.md', import.meta.url))
const SECTION = '### Site A → tunnel → site B'

/** The `shoal-relay` command lines of the section's first code block, split as a shell would. */
function readmeTunnelCommands(markdown: string): string[][] {
  const start = markdown.indexOf(SECTION)
  if (start < 0) throw new Error(`README has no section ${SECTION}`)
  const block = /```sh\n([\s\S]*?)```/.exec(markdown.slice(start))?.[1]
  if (block === undefined) throw new Error(`no sh block under ${SECTION}`)
  return block
    .split('\n')
    .filter((line) => line.startsWith('shoal-relay '))
    .map((line) => [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!).slice(1))
}

describe.skipIf(netns.skip)('relay README: the site A → tunnel → site B example', () => {
  let net: Network
  const running: Running[] = []

  beforeAll(async () => {
    assertBuilt()
    net = await createNetwork({
      hosts: ['a', 'w', 'relaya', 'relayb', 'b'],
      segments: [
        { name: 'sitea', hosts: ['a', 'w', 'relaya'] },
        { name: 'mid', hosts: ['relaya', 'relayb'] },
        { name: 'siteb', hosts: ['relayb', 'b'] },
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

  it('keeps camera frames at site A (filtered by relay-a) and delivers every other frame at site B', async () => {
    const commands = readmeTunnelCommands(readFileSync(README, 'utf8'))
    expect(commands).toHaveLength(2)
    const [siteA, siteB] = commands as [string[], string[]]
    const relayBMid = net.host('relayb').ipv4('mid')
    const relayAMid = net.host('relaya').ipv4('mid')
    const place = (args: string[], replace: Record<string, string>) =>
      args.map((arg) => Object.entries(replace).reduce((out, [from, to]) => out.replaceAll(from, to), arg))
    const relayB = start('relayb', 'relay', place(siteB, { eth0: 'v-siteb', '10.0.1.5': relayAMid }))
    await relayB.waitForLog('ready')
    const relayA = start('relaya', 'relay', place(siteA, { eth0: 'v-sitea', 'relay-b.example': relayBMid }))
    await relayA.waitForLog('ready')
    const listen = (host: string, iface: string) =>
      start(host, 'recv', [
        '--interface',
        iface,
        '--group',
        '239.1.1.1',
        '--port',
        '7400',
        '--output',
        'json',
      ])
    const b = listen('b', 'v-siteb')
    const w = listen('w', 'v-sitea')
    await Promise.all([b.waitForLog('ready'), w.waitForLog('ready')])

    const count = 400
    const a = start('a', 'send', [
      ...['--interface', 'v-sitea', '--group', '239.1.1.1', '--port', '7400'],
      ...['--count', String(count), ...FAST_SENSORS],
    ])
    expect((await a.exited()).code).toBe(0)
    await w.waitUntil(`${count} frames at site A`, () => (frames(w).length >= count ? true : undefined))
    const atA = countBy(frames(w), (f) => f.topic)
    const cameras = atA.camera ?? 0
    expect(cameras, 'the sender sent camera frames').toBeGreaterThan(0)
    const others = count - cameras

    await b.waitUntil(`${others} frames at site B`, () => (frames(b).length >= others ? true : undefined))
    const atB = countBy(frames(b), (f) => f.topic)
    expect(atB).toEqual({ ...atA, camera: undefined })
    expect(stoppedSummary(await b.stop())).toMatchObject({ frames: others, gaps: 0 })

    const a1 = stoppedSummary(await relayA.stop())
    const b1 = stoppedSummary(await relayB.stop())
    // The cameras were dropped before the tunnel, by relay-a; relay-b filtered nothing.
    expect(a1.filtered).toBeGreaterThanOrEqual(cameras)
    expect(b1).toMatchObject({ filtered: 0, received: a1.forwarded })
  })
})

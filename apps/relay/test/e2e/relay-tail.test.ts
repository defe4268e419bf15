/**
 * A stream's last frames, lost on the far side of a relay after their publisher stopped:
 *
 *   a ── sitea ── r ── siteb ── b
 *
 * a sends its frames and stops as soon as r (its one receiver, `--hop-repair`) holds them all: often
 * after a single heartbeat. Everything on its way into b is dropped meanwhile, that heartbeat
 * included, then the way is opened again. b can learn that the last frames exist only from r, which
 * sends the publisher's last heartbeat again for a while (`src/heartbeat-repeats.ts`): b asks r for
 * them and r answers from its sent log. Without the repeats b never asks, and never counts them.
 *
 * Nothing here measures speed: the waits are bounds.
 */
import { requireNetns } from '@shoal/netns'
import { describe, expect, it } from 'vitest'
import { frames, scrape, stoppedSummary, suiteNetwork, sumOf } from './support.js'

const netns = requireNetns()
const PORT = 7410
const GA = '239.255.43.1'
const GB = '239.255.44.1'
/** Frames a sends, sequences 0..FRAMES-1; the last TAIL of them while b's way is closed. */
const FRAMES = 250
const TAIL = 50

function line(i: number): string {
  return `${JSON.stringify({ topic: 'imu', type: 'shoal.v1.Imu', message: { linearAcceleration: { x: i } } })}\n`
}

describe.skipIf(netns.skip)('a lost tail beyond a relay, after the publisher stopped', () => {
  const { network, start } = suiteNetwork({
    hosts: ['a', 'r', 'b'],
    segments: [
      { name: 'sitea', hosts: ['a', 'r'] },
      { name: 'siteb', hosts: ['r', 'b'] },
    ],
  })

  it("b hears of it from r's repeated heartbeats, asks r, and prints every frame", async () => {
    const net = network()
    const r = start('r', 'relay', [
      '--in',
      `multicast://${GA}:${PORT}?interface=v-sitea`,
      '--out',
      `multicast://${GB}:${PORT}?interface=v-siteb`,
      '--hop-repair',
      '--http',
      '0',
    ])
    await r.waitForLog('ready')
    const b = start('b', 'recv', [
      ...['--interface', 'v-siteb', '--group', GB, '--port', String(PORT)],
      ...['--output', 'json', '--ordered', '--count', String(FRAMES)],
    ])
    await b.waitForLog('ready')
    const a = start('a', 'send', [
      ...['--interface', 'v-sitea', '--group', GA, '--port', String(PORT), '--input', '-'],
    ])
    a.child.stdin.on('error', () => {})
    await a.waitForLog('ready')
    // What b gets first earns it the credit to ask r for repairs (a receiver asks an address for
    // no more than a share of what came from it: receive/nack-credit.ts).
    let head = ''
    for (let i = 0; i < FRAMES - TAIL; i++) head += line(i)
    a.child.stdin.write(head)
    await b.waitUntil('the first frames at b', () => (frames(b).length === FRAMES - TAIL ? true : undefined))

    await net.injectLoss('b', 1, { segment: 'siteb' })
    let dropped = 0
    try {
      let rest = ''
      for (let i = FRAMES - TAIL; i < FRAMES; i++) rest += line(i)
      a.child.stdin.end(rest)
      const aExit = await a.exited()
      expect(stoppedSummary(aExit)).toMatchObject({ frames: FRAMES, receivers: 1 })
    } finally {
      dropped = await net.droppedPackets('b')
      await net.clearLoss('b')
    }
    expect(dropped, 'the tail and its heartbeat were dropped on their way into b').toBeGreaterThan(0)

    const metrics = await scrape(net.host('r'), r)
    const repeated = sumOf(metrics, 'shoal_relay_heartbeats_total', { result: 'repeated' })
    const bExit = await b.exited()
    const diagnosis = `b: ${bExit.stderr.slice(-1500)}\nr repeated ${repeated} heartbeats`
    expect(bExit.code, diagnosis).toBe(0) // b stopped at --count
    expect(frames(b).map((f) => f.sequence)).toEqual(Array.from({ length: FRAMES }, (_, i) => i))
    expect(stoppedSummary(bExit), diagnosis).toMatchObject({ frames: FRAMES, gaps: 0 })
    expect(repeated).toBeGreaterThan(0)
  }, 40_000)
})

/**
 * Attacks on a relay (issue 9, "Hostile input"): a host with a plain UDP socket (the fixtures
 * flood.mjs and fuzzer.mjs: node:dgram and the pure wire codec, no Shoal publisher) on the
 * relay's input segment, beside a real shoal-send there and a real shoal-recv beyond the relay;
 * every process in a private network namespace:
 *
 *   a (shoal-send) ── lan ── r (shoal-relay) ── far ── c (shoal-recv)
 *                      └──── x (the attacker)
 *
 * The floods are paced by the receive queues of both r's input and c (read from /proc/PID/net/udp
 * of their namespaces), so that the kernel drops nothing and every count can be exact.
 */
import { createNetwork, type Network, requireNetns } from '@shoal/netns'
import { sampleValue } from '@shoal/service/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  HEARTBEAT_REPEAT_FIRST_MS,
  HEARTBEAT_REPEATS,
  MAX_HEARTBEAT_REPEATS_PER_SECOND,
} from '../../src/heartbeat-repeats.js'
import {
  assertBuilt,
  countBy,
  eventually,
  fixtureResult,
  frames,
  peakRss,
  type Running,
  recvBufferOf,
  scrape,
  scrapeText,
  sessionOf,
  startFixture,
  startOn,
  stopAll,
  stoppedSummary,
  sumOf,
} from './support.js'

const netns = requireNetns()
const PORT = 7400
const MiB = 1024 * 1024

/**
 * Peak RSS (VmHWM, of the app's process) of a relay, and of the receiver beyond it, sent 1,000,000
 * new streams. Measured: relay 208–214 MiB, receiver 147–151 MiB in 4 runs (idle: 78 and 76 MiB).
 * With margin for garbage collection timing, and well below what tables keeping every stream need
 * (about 1 KB each: 1 GB).
 */
const STREAM_FLOOD_RSS_BOUND = 384 * MiB
/** Peak RSS of a relay sent 1,000,000 fuzzed datagrams. Measured 135–206 MiB. */
const FUZZ_RSS_BOUND = 384 * MiB
/** A /metrics scrape of the relay after 1,000,000 streams. Measured 33,000 bytes. */
const METRICS_BYTES_BOUND = 64 * 1024
/** Fixtures and apps of these tests may run this long before the harness kills them. */
const FLOOD_LIMIT_MS = 170_000
/** From a heartbeat to its last repeat, ms (20 + 40 + 80 + 160 + 320). */
const ALL_REPEATS_MS = HEARTBEAT_REPEAT_FIRST_MS * (2 ** HEARTBEAT_REPEATS - 1)

describe.skipIf(netns.skip)('attacks on a relay: a third host with a plain UDP socket', () => {
  let net: Network
  const running: Running[] = []
  let run = 0

  beforeAll(async () => {
    assertBuilt()
    net = await createNetwork({
      hosts: ['a', 'x', 'r', 'c'],
      segments: [
        { name: 'lan', hosts: ['a', 'x', 'r'] },
        { name: 'far', hosts: ['r', 'c'] },
      ],
    })
  }, 30_000)

  afterAll(async () => {
    await stopAll(running)
    await net?.destroy()
  })

  function start(host: string, app: 'send' | 'recv' | 'relay', args: string[]) {
    const p = startOn(net.host(host), app, args, { timeoutMs: FLOOD_LIMIT_MS })
    running.push(p)
    return p
  }

  /** The relay (lan group → far group), the receiver beyond it, the sender: all ready. */
  async function pipeline(receiverArgs: string[]) {
    run++
    const gin = `239.255.43.${run}`
    const gout = `239.255.44.${run}`
    const r = start('r', 'relay', [
      '--in',
      `multicast://${gin}:${PORT}?interface=v-lan`,
      '--out',
      `multicast://${gout}:${PORT}?interface=v-far`,
      '--http',
      '0',
    ])
    const c = start('c', 'recv', [
      '--interface',
      'v-far',
      '--group',
      gout,
      '--port',
      String(PORT),
      ...receiverArgs,
    ])
    await Promise.all([r.waitForLog('ready'), c.waitForLog('ready')])
    const a = start('a', 'send', [
      '--interface',
      'v-lan',
      '--group',
      gin,
      '--port',
      String(PORT),
      '--sensors',
      'imu,gps',
      '--rate',
      'imu=1000,gps=100',
    ])
    await a.waitForLog('ready')
    const pace = [
      '--pace',
      `${r.child.pid},${c.child.pid}`,
      '--window',
      String(Math.min(recvBufferOf(r), recvBufferOf(c))),
    ]
    return { gin, r, c, a, session: sessionOf(a), pace }
  }

  function attacker(name: string, args: string[]) {
    const p = startFixture(net.host('x'), name, ['--iface', net.host('x').ipv4(), ...args], FLOOD_LIMIT_MS)
    running.push(p)
    return p
  }

  /** Every datagram read by the relay's sockets ended in exactly one outcome. */
  function expectOutcomesAddUp(metrics: Awaited<ReturnType<typeof scrape>>) {
    expect(sumOf(metrics, 'shoal_datagram_outcomes_total')).toBe(
      sampleValue(metrics, 'shoal_datagrams_total', { direction: 'in' }),
    )
  }

  it('1,000,000 new streams: the relay’s memory and /metrics stay bounded, the real streams reach the receiver beyond it exactly', async () => {
    const { gin, r, c, a, session, pace } = await pipeline(['--output', 'none', '--http', '0'])
    const streams = 1_000_000
    const flood = await fixtureResult<{
      frames: number
      datagrams: number
      seconds: number
      paceTimeouts: number
    }>(
      attacker('flood.mjs', ['--to', `${gin}:${PORT}`, '--streams', String(streams), ...pace]),
      FLOOD_LIMIT_MS,
    )
    expect(flood).toMatchObject({ frames: streams, paceTimeouts: 0 })
    const sent = stoppedSummary(await a.stop())
    const total = streams + Number(sent.frames)

    const relayed = await eventually(
      `the relay to forward all ${total} frames`,
      () => scrape(net.host('r'), r),
      (m) => sampleValue(m, 'shoal_relay_forwarded_total') === total,
    )
    const started = performance.now()
    const text = await scrapeText(net.host('r'), r)
    const scrapeMs = performance.now() - started
    const relayRss = peakRss(r)
    const received = await eventually(
      `the receiver beyond to count all ${total} frames`,
      () => scrape(net.host('c'), c),
      (m) => sumOf(m, 'shoal_frames_total', { direction: 'in' }) === total,
    )
    const receiverRss = peakRss(c)
    console.info(
      `1M streams through a relay: ${flood.datagrams} datagrams in ${flood.seconds.toFixed(1)} s; ` +
        `peak RSS relay ${(relayRss / MiB).toFixed(0)} MiB, receiver ${(receiverRss / MiB).toFixed(0)} MiB; ` +
        `relay /metrics ${text.length} bytes in ${scrapeMs.toFixed(0)} ms; ` +
        `receiver evicted ${sampleValue(received, 'shoal_stream_evictions_total', { reason: 'evicted' })} streams`,
    )
    // The relay: everything forwarded, nothing lost, memory and /metrics bounded.
    expect(sampleValue(relayed, 'shoal_kernel_drops_total'), 'the flood was paced: nothing lost').toBe(0)
    expect(sampleValue(relayed, 'shoal_relay_received_total')).toBe(total)
    expectOutcomesAddUp(relayed)
    expect(relayRss).toBeLessThan(STREAM_FLOOD_RSS_BOUND)
    expect(text.length).toBeLessThan(METRICS_BYTES_BOUND)
    // The relay's own streams of the sender kept their series: never evicted by the flood.
    for (const topic of ['imu', 'gps'])
      expect(sampleValue(relayed, 'shoal_gaps_total', { topic, source: session }), topic).toBe(0)

    // Beyond the relay every stream comes from the relay's address. The sender's streams, which
    // are really being published, must still not be pushed out by a flood of one-frame streams:
    // their series are whole.
    expect(sampleValue(received, 'shoal_kernel_drops_total'), 'the flood was paced: nothing lost').toBe(0)
    expect(receiverRss).toBeLessThan(STREAM_FLOOD_RSS_BOUND)
    const realFrames = ['imu', 'gps'].map(
      (topic) =>
        received
          .get('shoal_frames_total')
          ?.samples.find(
            (s) => s.labels.direction === 'in' && s.labels.topic === topic && s.labels.source === session,
          )?.value ?? 0,
    )
    expect(realFrames[0]! + realFrames[1]!, 'the sender’s frames in its own series at the receiver').toBe(
      Number(sent.frames),
    )
    expect(stoppedSummary(await c.stop())).toMatchObject({ frames: total, gaps: 0, duplicates: 0 })
    expect(stoppedSummary(await r.stop())).toMatchObject({ received: total, forwarded: total, dropped: 0 })
  }, 200_000)

  it('1,000,000 fuzzed datagrams: the relay does not crash, counts each once, stays bounded, and the real streams get through exactly', async () => {
    const { gin, r, c, a, session, pace } = await pipeline([
      '--output',
      'json',
      '--topic',
      'imu',
      '--topic',
      'gps',
    ])
    const fuzz = await fixtureResult<{ datagrams: number; seconds: number; paceTimeouts: number }>(
      attacker('fuzzer.mjs', ['--to', `${gin}:${PORT}`, '--count', '1000000', '--avoid', session, ...pace]),
      FLOOD_LIMIT_MS,
    )
    expect(fuzz).toMatchObject({ datagrams: 1_000_000, paceTimeouts: 0 })
    const sent = stoppedSummary(await a.stop())
    const rss = peakRss(r)
    console.info(
      `fuzz at a relay: ${fuzz.datagrams} datagrams in ${fuzz.seconds.toFixed(1)} s; peak RSS ${(rss / MiB).toFixed(0)} MiB`,
    )
    // Still running, and still serving /metrics.
    expect(r.child.exitCode).toBeNull()
    const metrics = await eventually(
      'the relay to read every datagram',
      () => scrape(net.host('r'), r),
      (m) =>
        sampleValue(m, 'shoal_datagrams_total', { direction: 'in' }) +
          sampleValue(m, 'shoal_kernel_drops_total') ===
        fuzz.datagrams + Number(sent.datagrams) + Number(sent.heartbeats ?? 0), // the sender's heartbeats too
    )
    expectOutcomesAddUp(metrics)
    expect(rss).toBeLessThan(FUZZ_RSS_BOUND)
    // The receiver beyond printed every frame of the sender, per topic 0..n-1 in order, and nothing
    // else on those topics.
    await c.waitUntil(`${sent.frames} frames`, () =>
      frames(c).length >= Number(sent.frames) ? true : undefined,
    )
    const got = frames(c)
    expect(new Set(got.map((f) => f.source.session))).toEqual(new Set([session]))
    const byTopic = countBy(got, (f) => f.topic)
    for (const [topic, n] of Object.entries(byTopic))
      expect(
        got.filter((f) => f.topic === topic).map((f) => f.sequence),
        topic,
      ).toEqual([...Array(n).keys()])
    expect(got).toHaveLength(Number(sent.frames))
    const relay = stoppedSummary(await r.stop())
    // received = forwarded + dropped, always.
    expect(Number(relay.received)).toBe(Number(relay.forwarded) + Number(relay.dropped))
    expect(stoppedSummary(await c.stop())).toMatchObject({ frames: Number(sent.frames), gaps: 0 })
  }, 200_000)
  it('15,000 heartbeats of its own, forged and made-up sessions: the relay repeats none of the flood', async () => {
    run++
    const gin = `239.255.43.${run}`
    const r = start('r', 'relay', [
      ...['--in', `multicast://${gin}:${PORT}?interface=v-lan`],
      ...['--out', `multicast://239.255.44.${run}:${PORT}?interface=v-far`, '--http', '0'],
    ])
    await r.waitForLog('ready')
    const count = 5_000
    const flood = await fixtureResult<{ own: number; foreign: number; unknown: number; seconds: number }>(
      attacker('heartbeat-flood.mjs', ['--to', `${gin}:${PORT}`, '--count', String(count)]),
    )
    const heartbeats = (m: Awaited<ReturnType<typeof scrape>>, result: string) =>
      sampleValue(m, 'shoal_relay_heartbeats_total', { result })
    // Every heartbeat read (the kernel may drop some of a flood), then the last one's repeats.
    const metrics = await eventually(
      'the relay to read the flood and finish repeating',
      async () => {
        const m = await scrape(net.host('r'), r)
        await new Promise((resolve) => setTimeout(resolve, ALL_REPEATS_MS))
        return { before: m, after: await scrape(net.host('r'), r) }
      },
      ({ before, after }) => heartbeats(before, 'repeated') === heartbeats(after, 'repeated'),
    )
    const m = metrics.after
    const received = heartbeats(m, 'received')
    const repeated = heartbeats(m, 'repeated')
    console.info(
      `heartbeat flood at a relay: ${3 * count} sent in ${flood.seconds.toFixed(2)} s, ${received} read, ` +
        `${heartbeats(m, 'forwarded')} forwarded, ${repeated} repeated, ${heartbeats(m, 'repeat_limited')} cut by the cap`,
    )
    expect(received).toBeGreaterThan(count) // most of the flood was read
    expect(heartbeats(m, 'forwarded') + heartbeats(m, 'dropped')).toBe(received)
    // Only its own stream's heartbeats may be repeated, and a newer one replaces the held one: the
    // flood earns the repeats of its last own heartbeat, plus those of pauses in it longer than the
    // first repeat's wait, within the cap. Nothing like a repeat per heartbeat.
    expect(repeated).toBeGreaterThan(0)
    expect(repeated).toBeLessThanOrEqual(MAX_HEARTBEAT_REPEATS_PER_SECOND * (Math.ceil(flood.seconds) + 1))
    expect(repeated).toBeLessThan(count / 10)
    expect(stoppedSummary(await r.stop())).toMatchObject({ received: 1 })
  }, 60_000)
})

/**
 * Attacks on a receiver (issue 9, "Hostile input"): a third host with plain UDP sockets (the
 * fixtures forger.mjs, flood.mjs, fuzzer.mjs: node:dgram and the pure wire codec, no Shoal
 * publisher) beside a real shoal-send and shoal-recv, every process in a private network namespace:
 *
 *   a (shoal-send) ── lan ── b (shoal-recv)
 *                      └──── x (the attacker)
 *
 * Each test has a group of its own. Floods are paced by the receiver's queue (the fixture reads
 * /proc/PID/net/udp of the receiver's namespace), so that the kernel drops nothing and every count
 * can be exact; kernel drops are still checked, and have a test of their own.
 */
import { createNetwork, type Network, requireNetns } from '@shoal/netns'
import { sampleValue } from '@shoal/service/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertBuilt,
  countBy,
  eventually,
  type FrameLine,
  fixtureReady,
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
 * Peak RSS (VmHWM, of the app's process) of a receiver sent 1,000,000 new streams. Measured
 * 150–153 MiB in 5 runs (idle: 76 MiB). About twice that, so that garbage collection timing does
 * not matter, and still well below what a table keeping every stream needs (about 1 KB each: 1 GB).
 */
const STREAM_FLOOD_RSS_BOUND = 320 * MiB
/**
 * Peak RSS of a receiver sent 6,000 first fragments declaring 40–64 MiB each. Measured 127–136 MiB
 * (163 MiB while it still answered them with NACK storms); a receiver that allocated what they
 * declare would hold the 256 MiB reassembly cap after the first five.
 */
const FIRST_FRAGMENT_RSS_BOUND = 256 * MiB
/** Peak RSS of a receiver sent 1,000,000 fuzzed datagrams. Measured 112–143 MiB. */
const FUZZ_RSS_BOUND = 320 * MiB
/**
 * A /metrics scrape after 1,000,000 streams: 64 busy streams with series of their own and the rest
 * added up. Measured 30,000 bytes; it does not grow with the streams seen.
 */
const METRICS_BYTES_BOUND = 64 * 1024
/**
 * A receiver sends a stranger at most this many times the bytes the stranger sent it (its NACKs):
 * it must not be a reflector. Measured: 0.25 (1.6 MB of NACKs for a 6.4 MB REPAIRABLE flood); 30
 * and more (while the receiver lost 90 % of the real frames) before NACKs were bounded by what
 * came from their address.
 */
const NACK_REFLECTION_BOUND = 1
/** Fixtures and apps of the flood tests may run this long before the harness kills them. */
const FLOOD_LIMIT_MS = 150_000

describe.skipIf(netns.skip)('attacks on a receiver: a third host with plain UDP sockets', () => {
  let net: Network
  const running: Running[] = []
  let run = 0

  beforeAll(async () => {
    assertBuilt()
    net = await createNetwork({ hosts: ['a', 'b', 'x'], segments: [{ name: 'lan', hosts: ['a', 'b', 'x'] }] })
  }, 30_000)

  afterAll(async () => {
    await stopAll(running)
    await net?.destroy()
  })

  const group = () => `239.255.41.${++run}`
  const ip = (host: string) => net.host(host).ipv4()

  function start(host: string, app: 'send' | 'recv', args: string[]) {
    const p = startOn(net.host(host), app, args, { timeoutMs: FLOOD_LIMIT_MS })
    running.push(p)
    return p
  }

  function attacker(name: string, args: string[]) {
    const p = startFixture(net.host('x'), name, ['--iface', ip('x'), ...args], FLOOD_LIMIT_MS)
    running.push(p)
    return p
  }

  async function receiver(g: string, extra: string[]) {
    const b = start('b', 'recv', ['--interface', 'v-lan', '--group', g, '--port', String(PORT), ...extra])
    await b.waitForLog('ready')
    return b
  }

  const sender = (g: string, extra: string[]) =>
    start('a', 'send', ['--interface', 'v-lan', '--group', g, '--port', String(PORT), ...extra])

  /** Every datagram the receiver read ended in exactly one outcome. */
  function expectOutcomesAddUp(metrics: Awaited<ReturnType<typeof scrape>>) {
    const outcomes = sumOf(metrics, 'shoal_datagram_outcomes_total')
    expect(outcomes).toBe(sampleValue(metrics, 'shoal_datagrams_total', { direction: 'in' }))
  }

  /** Per topic, the sequences the receiver printed from `address`: each 0..n-1 once, in order. */
  function expectWhole(got: readonly FrameLine[], address: string) {
    const mine = got.filter((f) => f.source.address === address)
    for (const [topic, n] of Object.entries(countBy(mine, (f) => f.topic)))
      expect(
        mine.filter((f) => f.topic === topic).map((f) => f.sequence),
        topic,
      ).toEqual([...Array(n).keys()])
    return mine
  }

  it('one forged BATCH jumping imu and gps 2³¹ − 1 ahead, with the sender’s own session, costs no frame and moves no stream', async () => {
    const g = group()
    const b = await receiver(g, ['--output', 'json', '--http', '0'])
    const x = attacker('forger.mjs', ['--sniff', `${g}:${PORT}`, '--jump', '--after', '50'])
    await fixtureReady(x)
    const count = 1_500
    const a = sender(g, ['--count', String(count), '--sensors', 'imu,gps', '--rate', 'imu=1000,gps=100'])
    const sent = stoppedSummary(await a.exited())
    expect(sent).toMatchObject({ frames: count })
    const forged = await fixtureResult<{
      session: string
      seen: Record<string, number>
      forged: Record<string, number[]>
    }>(x)
    expect(forged.session).toBe(sessionOf(a))
    const forgedCount = forged.forged.imu!.length + forged.forged.gps!.length
    expect(forgedCount).toBe(6)
    // The highest forged sequence of each topic is 2³¹ − 1 ahead of the last one seen.
    for (const topic of ['imu', 'gps'])
      expect(((forged.forged[topic]!.at(-1)! - forged.seen[topic]!) >>> 0) - 0x7fffffff, topic).toBe(0)

    await b.waitUntil(`${count + forgedCount} frames`, () =>
      frames(b).length >= count + forgedCount ? true : undefined,
    )
    const got = frames(b)
    // Every frame the sender sent, per topic 0..n-1 in order: none taken for a duplicate or lost.
    const real = expectWhole(got, ip('a'))
    expect(real).toHaveLength(count)
    // The forgeries were delivered too (a claim cannot be told from a frame), in the middle of the
    // stream, and moved nothing: the real frames after them were not held back.
    const fake = got.filter((f) => f.source.address === ip('x'))
    expect(fake.map((f) => f.sequence).sort()).toEqual([...forged.forged.imu!, ...forged.forged.gps!].sort())
    expect(real.filter((f) => f.topic === 'imu').at(-1)!.sequence).toBeGreaterThan(forged.seen.imu!)

    const metrics = await scrape(net.host('b'), b)
    expect(sampleValue(metrics, 'shoal_sequence_jumps_total')).toBe(forgedCount)
    expect(sampleValue(metrics, 'shoal_sequence_resyncs_total')).toBe(0)
    for (const topic of ['imu', 'gps'])
      expect(sampleValue(metrics, 'shoal_gaps_total', { topic, source: forged.session }), topic).toBe(0)
    expectOutcomesAddUp(metrics)
    expect(stoppedSummary(await b.stop())).toMatchObject({
      frames: count + forgedCount,
      gaps: 0,
      duplicates: 0,
      jumps: forgedCount,
    })
  })

  it('1,000,000 new streams: bounded memory and /metrics, and the real streams delivered exactly', async () => {
    const g = group()
    const b = await receiver(g, ['--output', 'none', '--http', '0'])
    const a = sender(g, ['--sensors', 'imu,gps', '--rate', 'imu=1000,gps=100', '--http', '0'])
    await a.waitForLog('ready')
    const streams = 1_000_000
    const x = attacker('flood.mjs', [
      '--to',
      `${g}:${PORT}`,
      '--streams',
      String(streams),
      '--pace',
      String(b.child.pid),
      '--window',
      String(recvBufferOf(b)),
    ])
    const flood = await fixtureResult<{
      frames: number
      datagrams: number
      seconds: number
      paceTimeouts: number
    }>(x, FLOOD_LIMIT_MS)
    expect(flood).toMatchObject({ frames: streams, paceTimeouts: 0 })
    const sent = stoppedSummary(await a.stop())
    const session = sessionOf(a)

    const inFrames = (m: Awaited<ReturnType<typeof scrape>>, topic: string) =>
      sampleValue(m, 'shoal_frames_total', { direction: 'in', topic, source: session })
    const metrics = await eventually(
      `the receiver to count the sender's ${sent.frames} frames`,
      () => scrape(net.host('b'), b),
      (m) => inFrames(m, 'imu') + inFrames(m, 'gps') === sent.frames,
    )
    const scrapeStarted = performance.now()
    const text = await scrapeText(net.host('b'), b)
    const scrapeMs = performance.now() - scrapeStarted
    const rss = peakRss(b)
    console.info(
      `1M streams at a receiver: ${flood.datagrams} datagrams in ${flood.seconds.toFixed(1)} s; ` +
        `peak RSS ${(rss / MiB).toFixed(0)} MiB; /metrics ${text.length} bytes in ${scrapeMs.toFixed(0)} ms`,
    )
    expect(sampleValue(metrics, 'shoal_kernel_drops_total'), 'the flood was paced: nothing lost').toBe(0)
    // The real streams kept series of their own, never evicted: their counts are whole.
    for (const topic of ['imu', 'gps'])
      expect(sampleValue(metrics, 'shoal_gaps_total', { topic, source: session }), topic).toBe(0)
    // Every made-up stream was counted, one frame each, and let go again: the table stays small.
    expect(sumOf(metrics, 'shoal_frames_total', { direction: 'in' })).toBe(streams + Number(sent.frames))
    const active = sampleValue(metrics, 'shoal_streams')
    expect(active).toBeLessThanOrEqual(1_024 + 2)
    expect(sampleValue(metrics, 'shoal_stream_evictions_total', { reason: 'evicted' })).toBe(
      streams + 2 - active,
    )
    expectOutcomesAddUp(metrics)
    expect(rss).toBeLessThan(STREAM_FLOOD_RSS_BOUND)
    expect(text.length).toBeLessThan(METRICS_BYTES_BOUND)
    const summary = stoppedSummary(await b.stop())
    expect(summary).toMatchObject({ frames: streams + Number(sent.frames), gaps: 0, duplicates: 0 })
    expect(Number(summary.streamsEvicted)).toBeGreaterThanOrEqual(streams - 1_024)
  }, 180_000)

  describe.each([
    { marked: 'not marked repairable', flags: [] as string[] },
    {
      marked: 'marked REPAIRABLE (the receiver may ask the flooding host for the rest)',
      flags: ['--repairable'],
    },
  ])('2,000 first fragments a second declaring 40–64 MiB, $marked', ({ flags }) => {
    it('cost a 200 Hz sender no frame, and the receiver’s memory stays bounded', async () => {
      const g = group()
      const b = await receiver(g, ['--output', 'json', '--http', '0'])
      const x = attacker('flood.mjs', [
        '--to',
        `${g}:${PORT}`,
        '--first-fragments',
        '6000',
        '--rate',
        '2000',
        ...flags,
      ])
      const count = 800 // 4 s at 200 Hz, around the 3 s flood
      const a = sender(g, ['--count', String(count), '--sensors', 'imu', '--rate', 'imu=200'])
      await fixtureReady(x)
      const sent = stoppedSummary(await a.exited(FLOOD_LIMIT_MS))
      const flood = await fixtureResult<{
        datagrams: number
        bytes: number
        nacks: number
        nackBytes: number
      }>(x, FLOOD_LIMIT_MS)
      expect(flood.datagrams).toBe(6_000)
      // Bounded: what has not arrived by then is lost, and the assertions below say how much.
      await b
        .waitUntil(`${count} frames`, () => (frames(b).length >= count ? true : undefined))
        .catch(() => {})
      const rss = peakRss(b)
      const metrics = await scrape(net.host('b'), b)
      console.info(
        `first-fragment flood ${flags.join(' ')}: peak RSS ${(rss / MiB).toFixed(0)} MiB; ` +
          `${flood.nacks} NACKs (${flood.nackBytes} bytes) back to the flooding host; ` +
          `kernel drops ${sampleValue(metrics, 'shoal_kernel_drops_total')} (buffer ${recvBufferOf(b)} bytes); ` +
          `imu frames ${frames(b).length}/${count}`,
      )
      // Not one real frame lost: all of them printed, in order, none missing.
      expect(expectWhole(frames(b), ip('a')), 'imu frames printed').toHaveLength(Number(sent.frames))
      expect(sampleValue(metrics, 'shoal_kernel_drops_total')).toBe(0)
      expect(rss).toBeLessThan(FIRST_FRAGMENT_RSS_BOUND)
      // A receiver sends the stranger no more than the stranger sent it.
      expect(flood.nackBytes).toBeLessThanOrEqual(NACK_REFLECTION_BOUND * flood.bytes)
      expectOutcomesAddUp(metrics)
      expect(sampleValue(metrics, 'shoal_datagram_outcomes_total', { outcome: 'fragment' })).toBe(6_000)
      const summary = stoppedSummary(await b.stop())
      expect(summary).toMatchObject({ frames: count, gaps: 0 })
      // Each made-up message is given up once, whatever the reason.
      const givenUp = summary.dropsByReason as Record<string, number>
      expect(
        (givenUp['reassembly-evicted'] ?? 0) +
          (givenUp['reassembly-expired'] ?? 0) +
          (givenUp['reassembly-unfinished'] ?? 0),
      ).toBe(6_000)
    }, 60_000)
  })

  it('1,000,000 fuzzed datagrams: no crash, one outcome each, bounded memory, the real streams delivered exactly', async () => {
    const g = group()
    const b = await receiver(g, ['--output', 'none', '--http', '0'])
    const a = sender(g, ['--sensors', 'imu,gps', '--rate', 'imu=1000,gps=100', '--http', '0'])
    await a.waitForLog('ready')
    const session = sessionOf(a)
    const x = attacker('fuzzer.mjs', [
      '--to',
      `${g}:${PORT}`,
      '--count',
      '1000000',
      '--avoid',
      session,
      '--pace',
      String(b.child.pid),
      '--window',
      String(recvBufferOf(b)),
    ])
    const fuzz = await fixtureResult<{
      datagrams: number
      seconds: number
      paceTimeouts: number
      byKind: object
    }>(x, FLOOD_LIMIT_MS)
    expect(fuzz).toMatchObject({ datagrams: 1_000_000, paceTimeouts: 0 })
    const sent = stoppedSummary(await a.stop())
    const rss = peakRss(b)
    console.info(
      `fuzz at a receiver: ${fuzz.datagrams} datagrams in ${fuzz.seconds.toFixed(1)} s ${JSON.stringify(fuzz.byKind)}; ` +
        `peak RSS ${(rss / MiB).toFixed(0)} MiB`,
    )
    // Still running, and still serving /metrics.
    expect(b.child.exitCode).toBeNull()
    const inFrames = (m: Awaited<ReturnType<typeof scrape>>, topic: string) =>
      sampleValue(m, 'shoal_frames_total', { direction: 'in', topic, source: session })
    const metrics = await eventually(
      `the receiver to count the sender's ${sent.frames} frames`,
      () => scrape(net.host('b'), b),
      (m) => inFrames(m, 'imu') + inFrames(m, 'gps') === sent.frames,
    )
    for (const topic of ['imu', 'gps'])
      expect(sampleValue(metrics, 'shoal_gaps_total', { topic, source: session }), topic).toBe(0)
    // Every datagram read has exactly one outcome, and every datagram sent was read or dropped by
    // the kernel (counted).
    expectOutcomesAddUp(metrics)
    expect(
      sampleValue(metrics, 'shoal_datagrams_total', { direction: 'in' }) +
        sampleValue(metrics, 'shoal_kernel_drops_total'),
    ).toBe(fuzz.datagrams + Number(sent.datagrams) + Number(sent.heartbeats ?? 0)) // the sender's heartbeats too
    expect(rss).toBeLessThan(FUZZ_RSS_BOUND)
    expect(stoppedSummary(await b.stop())).toHaveProperty('frames')
  }, 180_000)

  it('a stream moved by three frames far ahead still knows which frames it had: none is delivered twice', async () => {
    const g = group()
    const b = await receiver(g, ['--output', 'json', '--http', '0'])
    const x = attacker('flood.mjs', ['--to', `${g}:${PORT}`, '--resync'])
    const flood = await fixtureResult<{ frames: number }>(x)
    const expected = 501 + 3 + 1014
    expect(flood.frames).toBe(expected)
    const metrics = await eventually(
      'the receiver to read every datagram',
      () => scrape(net.host('b'), b),
      (m) =>
        sumOf(m, 'shoal_frames_total', { direction: 'in', topic: 't' }) +
          sumOf(m, 'shoal_duplicates_total', { topic: 't' }) >=
        expected,
    ).catch(async (error: unknown) => {
      // /metrics itself may be what broke: say so.
      throw new Error(`GET /metrics: ${(error as Error).message}`)
    })
    const printed = countBy(
      frames(b).filter((f) => f.topic === 't'),
      (f) => String(f.sequence),
    )
    const twice = Object.entries(printed).filter(([, n]) => n > 1)
    expect(twice, 'sequences delivered more than once').toEqual([])
    expect(sampleValue(metrics, 'shoal_gaps_total', { topic: 't' })).toBeGreaterThanOrEqual(0)
    await b.stop()
  })

  it('a receiver stopped while a flood fills its buffer counts what the kernel dropped: /metrics and the summary', async () => {
    const g = group()
    const b = await receiver(g, ['--output', 'none', '--http', '0'])
    // More than the buffer holds (the kernel counts at least 512 bytes for each small datagram
    // against twice the buffer granted), whatever net.core.rmem_max allowed.
    const flood = Math.max(20_000, Math.ceil((2 * recvBufferOf(b)) / 512) + 10_000)
    b.child.kill('SIGSTOP')
    let result: { datagrams: number }
    try {
      result = await fixtureResult(attacker('flood.mjs', ['--to', `${g}:${PORT}`, '--plain', String(flood)]))
    } finally {
      b.child.kill('SIGCONT')
    }
    expect(result.datagrams).toBe(flood)
    const metrics = await eventually(
      'every datagram read or dropped',
      () => scrape(net.host('b'), b),
      (m) =>
        sampleValue(m, 'shoal_datagrams_total', { direction: 'in' }) +
          sampleValue(m, 'shoal_kernel_drops_total') ===
        flood,
    )
    const kernelDrops = sampleValue(metrics, 'shoal_kernel_drops_total')
    expect(kernelDrops).toBeGreaterThan(0)
    expectOutcomesAddUp(metrics)
    expect(stoppedSummary(await b.stop())).toMatchObject({ kernelDrops })
  })
})

/**
 * shoal-send → shoal-relay → shoal-recv across two segments, every process a built bundle run in a
 * private network namespace (@shoal/netns; nothing touches this machine's interfaces):
 *
 *   a ── sitea ── r ── siteb ── b
 *                          └─── c
 *
 * a publishes on sitea (group GA), r joins GA on its sitea veth and forwards to group GB on its
 * siteb veth, b and c join GB. Every test starts its own processes on its own pair of groups.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNetwork, type Network, requireNetns } from '@shoal/netns'
import { sampleValue } from '@shoal/service/testing'
import { readRecording } from '@shoal/transport'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertBuilt,
  countBy,
  FAST_SENSORS,
  type FrameLine,
  frames,
  type Running,
  scrape,
  startOn,
  stopAll,
  stoppedSummary,
} from './support.js'

const netns = requireNetns()
const PORT = 7400
const TOPICS = ['camera', 'gps', 'imu', 'temperature']

describe.skipIf(netns.skip)('send → relay → recv across two segments', () => {
  let net: Network
  const scratch = mkdtempSync(join(tmpdir(), 'shoal-e2e-'))
  const running: Running[] = []
  let run = 0

  beforeAll(async () => {
    assertBuilt()
    net = await createNetwork({
      hosts: ['a', 'r', 'b', 'c'],
      segments: [
        { name: 'sitea', hosts: ['a', 'r'] },
        { name: 'siteb', hosts: ['r', 'b', 'c'] },
      ],
    })
  }, 30_000)

  afterAll(async () => {
    await stopAll(running)
    await net?.destroy()
    rmSync(scratch, { recursive: true, force: true })
  })

  /** A fresh pair of groups for each test, so nothing of an earlier test can arrive. */
  function groups() {
    run++
    return { ga: `239.255.1.${run}`, gb: `239.255.2.${run}` }
  }

  function start(host: string, app: 'send' | 'recv' | 'relay', args: string[], input?: string) {
    const p = startOn(net.host(host), app, args, input === undefined ? {} : { input })
    running.push(p)
    return p
  }

  async function relay(ga: string, gb: string, extra: string[] = []) {
    const r = start('r', 'relay', [
      '--in',
      `multicast://${ga}:${PORT}?interface=v-sitea`,
      '--out',
      `multicast://${gb}:${PORT}?interface=v-siteb`,
      '--relay-id',
      'r',
      ...extra,
    ])
    await r.waitForLog('ready')
    return r
  }

  async function receiver(host: string, gb: string, extra: string[] = []) {
    const p = start(host, 'recv', [
      '--interface',
      'v-siteb',
      '--group',
      gb,
      '--port',
      String(PORT),
      '--output',
      'json',
      ...extra,
    ])
    await p.waitForLog('ready')
    return p
  }

  function sender(ga: string, extra: string[], input?: string) {
    return start(
      'a',
      'send',
      ['--interface', 'v-sitea', '--group', ga, '--port', String(PORT), ...extra],
      input,
    )
  }

  /** The session id (8 hex digits) a sender logged at startup. */
  function sessionOf(p: Running): string {
    const line = p.logs().find((l) => typeof l.session === 'string')
    if (line === undefined) throw new Error(`${p.label} logged no session: ${p.stderr()}`)
    return line.session as string
  }

  const metrics = (host: string, p: Running) => scrape(net.host(host), p)

  it('every frame arrives decoded, per topic as many as were sent, 0 gaps, with the original session', async () => {
    const { ga, gb } = groups()
    const r = await relay(ga, gb)
    const b = await receiver('b', gb)
    const count = 600
    const a = sender(ga, ['--count', String(count), ...FAST_SENSORS])
    expect((await a.exited()).code).toBe(0)
    await b.waitUntil(`${count} frames`, () => (frames(b).length >= count ? true : undefined))
    const got = frames(b)
    expect(got).toHaveLength(count)

    // Per topic: sequences 0..n-1, nothing missing, nothing twice; together the --count sent.
    const byTopic = countBy(got, (f) => f.topic)
    expect(Object.keys(byTopic).sort()).toEqual(TOPICS)
    for (const topic of TOPICS) {
      const sequences = got.filter((f) => f.topic === topic).map((f) => f.sequence)
      expect(sequences, topic).toEqual([...Array(byTopic[topic]).keys()])
    }
    // Decoded: each type's fields are there, the camera's pixels whole (160×120 rgb8).
    const first = (topic: string) => got.find((f) => f.topic === topic)!
    expect(first('imu')).toMatchObject({ type: 'shoal.v1.Imu', hops: 1 })
    expect(first('imu').message).toHaveProperty('linearAcceleration')
    expect(first('gps')).toMatchObject({ type: 'shoal.v1.NavSatFix' })
    expect(first('gps').message).toHaveProperty('latitude')
    expect(first('temperature')).toMatchObject({ type: 'shoal.v1.Temperature' })
    expect(first('camera')).toMatchObject({ type: 'shoal.v1.Image', message: { width: 160, height: 120 } })
    expect(first('camera').message.data).toEqual({ bytes: 160 * 120 * 3 })

    // The original source: a's session, though the datagrams came from r.
    const session = sessionOf(a)
    expect(new Set(got.map((f) => f.source.session))).toEqual(new Set([session]))
    expect(new Set(got.map((f) => f.source.address))).toEqual(new Set([net.host('r').ipv4('siteb')]))

    const bSummary = stoppedSummary(await b.stop())
    expect(bSummary).toMatchObject({ frames: count, gaps: 0, duplicates: 0, drops: 0 })
    expect(bSummary.topics).toEqual(byTopic)
    expect(bSummary.sources).toEqual({ [session]: count })
    const rSummary = stoppedSummary(await r.stop())
    expect(rSummary).toMatchObject({ dropped: 0 })
    expect(rSummary.forwarded).toBe(rSummary.received)
  })

  it("with 5 % loss on b's input, b's gap count equals the frames lost exactly", async () => {
    const { ga, gb } = groups()
    const r = await relay(ga, gb)
    const b = await receiver('b', gb, ['--http', '0'])
    const a = sender(ga, ['--input', '-'])
    await a.waitForLog('ready')
    const imu = (i: number) =>
      `${JSON.stringify({ topic: 'imu', message: { linearAcceleration: { x: i, z: 9.81 } } })}\n`
    const imuOf = () => frames(b).filter((f) => f.topic === 'imu')
    // Small frames travel batched (about 17 to a datagram on a 1,500-byte MTU), so 5,000 frames are
    // some 300 datagrams on b's link: at 5 % loss, the chance that none is dropped is below 1e-6.
    const total = 5_000

    // The first and the last frame go through without loss. A receiver cannot tell frames lost
    // before the first one it sees from frames sent before it joined, and frames lost after the
    // last one it sees from frames not sent yet: it counts neither as gaps. With both ends
    // delivered, every lost frame lies between two received ones and must show as a gap.
    a.child.stdin.write(imu(0))
    await b.waitUntil('the first frame', () => (imuOf().length === 1 ? true : undefined))
    await net.injectLoss('b', 0.05)
    try {
      let middle = ''
      for (let i = 1; i < total - 1; i++) middle += imu(i)
      a.child.stdin.write(middle)
      // Loss may end only after the middle frames have passed b's input. They share one path
      // (a → r → b, one relay socket, in order), so a probe on another topic that reaches b was
      // behind all of them. Probes can be lost too: send another until one arrives.
      let seen = false
      for (let probe = 0; probe < 50 && !seen; probe++) {
        a.child.stdin.write(`${JSON.stringify({ topic: 'heartbeat', message: {} })}\n`)
        seen = await b
          .waitUntil(
            'a probe',
            () => (frames(b).some((f) => f.topic === 'heartbeat') ? true : undefined),
            1_000,
          )
          .then(
            () => true,
            () => false,
          )
      }
      expect(seen, 'no probe reached b').toBe(true)
      // The loss was real: b's firewall dropped datagrams (clearLoss resets the counter).
      expect(await net.droppedPackets('b')).toBeGreaterThan(0)
    } finally {
      await net.clearLoss('b')
    }
    a.child.stdin.end(imu(total - 1))
    expect((await a.exited()).code).toBe(0)
    await b.waitUntil('the last frame', () =>
      imuOf().some((f) => f.sequence === total - 1) ? true : undefined,
    )

    const received = imuOf().length
    const lost = total - received
    expect(lost).toBeGreaterThan(0) // the loss really happened
    const families = await metrics('b', b)
    const imuLabels = { topic: 'imu' }
    expect(sampleValue(families, 'shoal_gaps_total', imuLabels)).toBe(lost)
    expect(sampleValue(families, 'shoal_duplicates_total', imuLabels)).toBe(0)
    expect(sampleValue(families, 'shoal_frames_total', { ...imuLabels, direction: 'in' })).toBe(received)
    // r saw everything: the loss was on b's side only.
    const rSummary = stoppedSummary(await r.stop())
    expect(rSummary.forwarded).toBe(rSummary.received)
    await b.stop()
  })

  it('/metrics of the receiver parses as Prometheus text and counts the frames of the run', async () => {
    const { ga, gb } = groups()
    await relay(ga, gb)
    const b = await receiver('b', gb, ['--http', '0'])
    const count = 300
    const a = sender(ga, ['--count', String(count), ...FAST_SENSORS])
    expect((await a.exited()).code).toBe(0)
    await b.waitUntil(`${count} frames`, () => (frames(b).length >= count ? true : undefined))
    const session = sessionOf(a)
    const families = await metrics('b', b)
    const inFrames =
      families.get('shoal_frames_total')?.samples.filter((s) => s.labels.direction === 'in') ?? []
    const byTopic = countBy(frames(b), (f) => f.topic)
    expect(Object.fromEntries(inFrames.map((s) => [s.labels.topic, s.value]))).toEqual(byTopic)
    expect(new Set(inFrames.map((s) => s.labels.source))).toEqual(new Set([session]))
    expect(inFrames.reduce((sum, s) => sum + s.value, 0)).toBe(count)
    for (const topic of TOPICS) expect(sampleValue(families, 'shoal_gaps_total', { topic })).toBe(0)
    await b.stop()
  })

  it('a receiver with a topic filter sees only its topics; one without sees all', async () => {
    const { ga, gb } = groups()
    await relay(ga, gb)
    const b = await receiver('b', gb)
    const c = await receiver('c', gb, ['--topic', 'imu', '--topic', 'temperature'])
    const count = 400
    const a = sender(ga, ['--count', String(count), ...FAST_SENSORS])
    expect((await a.exited()).code).toBe(0)
    await b.waitUntil(`${count} frames`, () => (frames(b).length >= count ? true : undefined))
    const all = countBy(frames(b), (f) => f.topic)
    const wanted = all.imu! + all.temperature!
    // b has everything, so c has had the time to get its part; then nothing else may be there.
    await c.waitUntil(`${wanted} frames`, () => (frames(c).length >= wanted ? true : undefined))
    expect(countBy(frames(c), (f) => f.topic)).toEqual({ imu: all.imu, temperature: all.temperature })
    const cSummary = stoppedSummary(await c.stop())
    expect(cSummary).toMatchObject({ frames: wanted, gaps: 0 })
    await b.stop()
  })

  it('acks from b and c cross the relay back to the sender; a receiver that is not there is reported missing', async () => {
    const { ga, gb } = groups()
    const r = await relay(ga, gb)
    const b = await receiver('b', gb, ['--ack', '--name', 'rx-b'])
    const c = await receiver('c', gb, ['--ack', '--name', 'rx-c'])
    const count = 40
    const sensors = ['--sensors', 'imu,gps', '--rate', 'imu=200,gps=20', '--ack-timeout', '2s']
    /** `rx-b:40,rx-c:40` (in the order the first acks came) as an object. */
    const perReceiver = (text: unknown) =>
      text === 'none'
        ? {}
        : Object.fromEntries(
            String(text)
              .split(',')
              .map((pair) => [pair.split(':')[0], Number(pair.split(':')[1])]),
          )
    const acked = sender(ga, ['--count', String(count), ...sensors, '--expect', 'rx-b,rx-c'])
    const all = stoppedSummary(await acked.exited())
    expect(all).toMatchObject({ frames: count, acks: 2 * count, missing: 'none' })
    expect(perReceiver(all.acked)).toEqual({ 'rx-b': count, 'rx-c': count })
    // rx-d never ran: every frame is reported unacknowledged by it, and the sender exits 3 naming it.
    const missing = sender(ga, ['--count', '5', ...sensors, '--expect', 'rx-b,rx-d'])
    const missed = await missing.exited()
    const some = stoppedSummary(missed, 3)
    expect(missed.stderr).toContain('expected receivers missing: rx-d (never acknowledged, 5 frames)')
    expect(perReceiver(some.acked)).toEqual({ 'rx-b': 5, 'rx-c': 5 })
    expect(perReceiver(some.missing)).toEqual({ 'rx-d': 5 })
    expect(stoppedSummary(await r.stop())).toMatchObject({ acks: 2 * (count + 5) })
    await Promise.all([b.stop(), c.stop()])
  })

  it('what b records, shoal-send --replay sends again and a second receiver gets the same frames', async () => {
    const { ga, gb } = groups()
    await relay(ga, gb)
    const first = join(scratch, 'first.rec')
    const second = join(scratch, 'second.rec')
    const b = await receiver('b', gb, ['--record', first])
    const count = 300
    const a = sender(ga, ['--count', String(count), ...FAST_SENSORS])
    expect((await a.exited()).code).toBe(0)
    await b.waitUntil(`${count} frames`, () => (frames(b).length >= count ? true : undefined))
    expect(stoppedSummary(await b.stop())).toMatchObject({ frames: count, recorded: count })

    // Replay on b's own loopback to a second receiver there, which records too.
    const loop = ['--interface', '127.0.0.1', '--group', '239.255.3.1', '--port', String(PORT)]
    const b2 = start('b', 'recv', [...loop, '--output', 'json', '--record', second])
    await b2.waitForLog('ready')
    const replay = start('b', 'send', [...loop, '--replay', first])
    expect((await replay.exited()).code).toBe(0)
    await b2.waitUntil(`${count} frames`, () => (frames(b2).length >= count ? true : undefined))
    expect(stoppedSummary(await b2.stop())).toMatchObject({ frames: count, gaps: 0, recorded: count })

    const recorded = readRecording(first)
    const replayed = readRecording(second)
    expect(recorded.frames).toHaveLength(count)
    const identity = (f: { topic: string; fingerprint: number; payload: Uint8Array }) => ({
      topic: f.topic,
      fingerprint: f.fingerprint,
      payload: Buffer.from(f.payload).toString('base64'),
    })
    expect(replayed.frames.map(identity)).toEqual(recorded.frames.map(identity))
    // And what the two receivers printed, decoded, matches line for line.
    const printed = (lines: FrameLine[]) =>
      lines.map((f) => ({ topic: f.topic, type: f.type, fingerprint: f.fingerprint, message: f.message }))
    expect(printed(frames(b2))).toEqual(printed(frames(b)))
  })
})

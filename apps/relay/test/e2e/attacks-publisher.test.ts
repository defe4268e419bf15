/**
 * Attacks on a publisher (issue 9, "Hostile input"): hosts with plain UDP sockets (the fixture
 * forger.mjs: node:dgram and the pure wire codec, no Shoal publisher or subscriber) that listen to
 * a real shoal-send's group, learn its session, topics and sequences there, and send it NACKs and
 * ACKs it should not act on, beside a real shoal-recv; every process in a private network namespace:
 *
 *   a (shoal-send) ── lan ── b (shoal-recv)
 *                      ├──── x (an attacker)
 *                      └──── y (another)
 *
 * Resends go to the group, byte for byte, so an attacker listening there counts exactly what its
 * NACKs cost the publisher: every datagram of a message that comes again after the message was whole.
 */
import { createNetwork, type Network, requireNetns } from '@shoal/netns'
import { sampleValue } from '@shoal/service/testing'
import { NACK_AMPLIFICATION } from '@shoal/transport'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertBuilt,
  eventually,
  fixtureReady,
  fixtureResult,
  type Running,
  scrape,
  sessionOf,
  startFixture,
  startOn,
  stopAll,
  stoppedSummary,
} from './support.js'

const netns = requireNetns()
const PORT = 7400
/** Each bucket of the publisher's resend budget holds this many seconds of its rate (transport RESEND_BURST_SECONDS). */
const RESEND_BURST_SECONDS = 0.25
/** Largest datagram on the test's veths (MTU 1,500): the last resend admitted may be one more. */
const DATAGRAM_BYTES = 1_472

interface NackResult {
  session: string
  nacks: Array<{
    sequence: number
    fragments: number
    nackBytes: number
    resentDatagrams: number
    resentBytes: number
  }>
}

interface StormResult {
  session: string
  nacksSent: number
  nackBytes: number
  seconds: number
  resentDatagrams: number
  resentBytes: number
}

describe.skipIf(netns.skip)(
  'attacks on a publisher: forged NACKs and ACKs from hosts with plain UDP sockets',
  () => {
    let net: Network
    const running: Running[] = []
    let run = 0

    beforeAll(async () => {
      assertBuilt()
      net = await createNetwork({
        hosts: ['a', 'b', 'x', 'y'],
        segments: [{ name: 'lan', hosts: ['a', 'b', 'x', 'y'] }],
      })
    }, 30_000)

    afterAll(async () => {
      await stopAll(running)
      await net?.destroy()
    })

    const group = () => `239.255.42.${++run}`
    const ip = (host: string) => net.host(host).ipv4()
    const where = (g: string) => ['--interface', 'v-lan', '--group', g, '--port', String(PORT)]

    function start(host: string, app: 'send' | 'recv', args: string[]) {
      const p = startOn(net.host(host), app, args)
      running.push(p)
      return p
    }

    function forger(host: string, g: string, args: string[]) {
      const p = startFixture(net.host(host), 'forger.mjs', [
        '--iface',
        ip(host),
        '--sniff',
        `${g}:${PORT}`,
        ...args,
      ])
      running.push(p)
      return p
    }

    /** A camera at 2 Hz (640×480: 921,600 bytes, 647 fragments on these links), nothing else. */
    const camera = ['--sensors', 'camera', '--rate', 'camera=2', '--camera-size', '640x480']

    it(`a forged whole-message NACK gets at most ${NACK_AMPLIFICATION} × its own length resent`, async () => {
      const g = group()
      // The receiver beside it never asks for repairs itself: every resend is the forger's doing.
      const b = start('b', 'recv', [...where(g), '--output', 'none', '--no-repair'])
      await b.waitForLog('ready')
      const pads = [0, 1_200, 60_000]
      const x = forger('x', g, ['--nack', '--nacks', String(pads.length), '--pad', pads.join(',')])
      await fixtureReady(x)
      const a = start('a', 'send', [...where(g), ...camera, '--duration', '20s', '--http', '0'])
      const result = await fixtureResult<NackResult>(x, 20_000)
      expect(result.session).toBe(sessionOf(a))
      expect(result.nacks).toHaveLength(pads.length)
      const metrics = await scrape(net.host('a'), a)
      const repair = (event: string) => sampleValue(metrics, 'shoal_repair_events_total', { event })
      // The forger's NACKs were the only ones: what came again came for them.
      expect(repair('nacks_received')).toBe(pads.length)
      for (const nack of result.nacks)
        expect(nack.resentBytes, JSON.stringify(nack)).toBeLessThanOrEqual(
          NACK_AMPLIFICATION * nack.nackBytes,
        )
      const [bare, padded, large] = result.nacks as [
        NackResult['nacks'][0],
        NackResult['nacks'][0],
        NackResult['nacks'][0],
      ]
      // 54 bytes earn 864: not one 1,472-byte fragment.
      expect(bare).toMatchObject({ nackBytes: 54, resentDatagrams: 0 })
      // 1,200 bytes earn 19,200: the first 13 fragments, and no more.
      expect(padded.nackBytes).toBe(1_200)
      expect(padded.resentDatagrams).toBe(Math.floor((NACK_AMPLIFICATION * 1_200) / DATAGRAM_BYTES))
      // A NACK as large as a sixteenth of the message gets all of it (a real receiver pads like this).
      expect(large.resentDatagrams).toBe(large.fragments)
      expect(repair('fragments_resent')).toBe(
        bare.resentDatagrams + padded.resentDatagrams + large.resentDatagrams,
      )
      expect(repair('credit_limited')).toBe(2)
      expect(repair('rate_limited')).toBe(0)
      expect(stoppedSummary(await a.stop())).toMatchObject({ nacks: pads.length, repairLimited: 2 })
      // The receiver beside it asked for nothing; the resends were duplicate fragments to it.
      expect(stoppedSummary(await b.stop())).not.toHaveProperty('nacks')
    }, 60_000)

    it('a NACK storm from two hosts: resends stay under --repair-rate', async () => {
      const g = group()
      const repairRate = 2 * 1024 * 1024
      const perReceiver = 1.5 * 1024 * 1024
      const storm = ['--nack-storm', '3', '--rate', '2000', '--pad', '1400']
      const x = forger('x', g, storm)
      const y = forger('y', g, storm)
      await Promise.all([fixtureReady(x), fixtureReady(y)])
      const a = start('a', 'send', [
        ...where(g),
        ...camera,
        '--duration',
        '20s',
        '--http',
        '0',
        '--repair-rate',
        String(repairRate),
        '--repair-rate-per-receiver',
        String(perReceiver),
      ])
      const [fromX, fromY] = await Promise.all([
        fixtureResult<StormResult>(x, 20_000),
        fixtureResult<StormResult>(y, 20_000),
      ])
      // Both hear every resend (they go to the group); each counts from its own first NACK.
      const resent = Math.max(fromX.resentBytes, fromY.resentBytes)
      const seconds = Math.max(fromX.seconds, fromY.seconds)
      // Each NACK asked for 22,400 bytes: together about 90 MB/s asked, against a 2 MiB/s cap.
      const asked = NACK_AMPLIFICATION * (fromX.nackBytes + fromY.nackBytes)
      // The cap: a full bucket (a quarter of a second of the rate), the rate over the storm, and
      // 0.75 s more for NACKs reaching the publisher later than the attacker's clock says, on a
      // loaded machine (8.4 MB for 3 s). Without the total cap, the two per-receiver caps would
      // let about 10 MB through in 3 s (3 MiB/s and two bursts).
      const bound = repairRate * (RESEND_BURST_SECONDS + seconds + 0.75) + DATAGRAM_BYTES
      console.info(
        `NACK storm: ${fromX.nacksSent + fromY.nacksSent} NACKs in ${seconds.toFixed(2)} s asking for ${asked} bytes; ` +
          `${resent} bytes resent (bound ${Math.round(bound)})`,
      )
      expect(asked).toBeGreaterThan(10 * bound)
      expect(resent).toBeGreaterThan(0)
      expect(resent).toBeLessThanOrEqual(bound)
      const metrics = await scrape(net.host('a'), a)
      expect(sampleValue(metrics, 'shoal_repair_events_total', { event: 'rate_limited' })).toBeGreaterThan(0)
      await a.stop()
    }, 60_000)

    it('forged ACKs from another host do not satisfy --expect rx-1@<b>: rx-1 is missing, the forgeries refused', async () => {
      const g = group()
      const count = 40
      const x = forger('x', g, ['--acks', String(count), '--name', 'rx-1'])
      await fixtureReady(x)
      const expect_ = `rx-1@${ip('b')}`
      const a = start('a', 'send', [
        ...where(g),
        '--sensors',
        'imu',
        '--rate',
        'imu=100',
        '--count',
        String(count),
        '--expect',
        expect_,
        '--ack-timeout',
        '3s',
        '--http',
        '0',
      ])
      const forged = await fixtureResult<{ forged: number; session: string }>(x)
      expect(forged).toMatchObject({ forged: count, session: sessionOf(a) })
      // While the sender still waits for rx-1: every forgery refused as an impostor, none counted.
      const metrics = await eventually(
        `${count} forged acks refused`,
        () => scrape(net.host('a'), a),
        (m) => sampleValue(m, 'shoal_drops_total', { reason: 'ack-impostor' }) === count,
      )
      expect(sampleValue(metrics, 'shoal_datagram_outcomes_total', { outcome: 'ack-impostor' })).toBe(count)
      expect(
        metrics.get('shoal_datagram_outcomes_total')?.samples.find((s) => s.labels.outcome === 'ack'),
      ).toBeUndefined()
      // rx-1 never acknowledged (every ack in its name was forged): exit 3.
      expect(stoppedSummary(await a.exited(), 3)).toMatchObject({
        frames: count,
        acks: 0,
        acked: 'none',
        missing: `${expect_}:${count}`,
        unacked: count,
        refused: `ack-impostor:${count}`,
      })
    }, 30_000)

    it('forged ACKs in the name of a real receiver on another host are refused; its own are counted', async () => {
      const g = group()
      const b = start('b', 'recv', [...where(g), '--output', 'none', '--ack', '--name', 'rx-1'])
      await b.waitForLog('ready')
      // The first ack counted pins rx-1 to where it came from: the forger lets b's first acks win that
      // race (one that won it would hold the name: that is what --expect NAME@ADDRESS is for).
      const count = 40
      const skip = 3
      const x = forger('x', g, ['--acks', String(count), '--name', 'rx-1', '--skip', String(skip)])
      await fixtureReady(x)
      const a = start('a', 'send', [
        ...where(g),
        '--sensors',
        'imu',
        '--rate',
        'imu=100',
        '--expect',
        'rx-1',
        '--ack-timeout',
        '1s',
        '--http',
        '0',
      ])
      const forged = await fixtureResult<{ forged: number; skipped: number }>(x)
      expect(forged).toMatchObject({ forged: count, skipped: skip })
      // Every forgery refused: as an impostor, or (when b's ack had already ended the frame's wait)
      // as an ack nobody waits for.
      const refused = (m: Awaited<ReturnType<typeof scrape>>) =>
        sampleValue(m, 'shoal_drops_total', { reason: 'ack-impostor' }) +
        (m.get('shoal_drops_total')?.samples.find((s) => s.labels.reason === 'ack-unrequested')?.value ?? 0)
      const metrics = await eventually(
        `${count} forged acks refused`,
        () => scrape(net.host('a'), a),
        (m) => refused(m) === count,
      )
      expect(sampleValue(metrics, 'shoal_drops_total', { reason: 'ack-impostor' })).toBeGreaterThan(0)
      const sent = stoppedSummary(await a.stop())
      const frames = Number(sent.frames)
      expect(frames).toBeGreaterThan(skip + count)
      // Every frame acked by rx-1 once: b's acks, and no forged one.
      expect(sent).toMatchObject({ acks: frames, acked: `rx-1:${frames}`, missing: 'none', unacked: 0 })
      await b.stop()
    }, 30_000)
  },
)

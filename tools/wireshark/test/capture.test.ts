/**
 * tshark with the generated dissector on real Shoal traffic: shoal-send on host a and shoal-recv on
 * host b of a private namespace network (@shoal/netns), captured with dumpcap on b's interface at
 * test time, so the capture is always what this build sends. Three runs, each on its own port:
 *
 * - plain (7401): JSON lines unbatched, with acks: DATA with known IMU and GPS values, a camera
 *   image in fragments, ACKs, HEARTBEATs and STATUS;
 * - batched (7402): JSON lines batched: BATCH datagrams and their inner frames;
 * - lossy (7403): simulated sensors while b drops a quarter of what it receives: NACKs and
 *   NACK_FRAMES, and the resent fragments.
 *
 * The capture is taken before netfilter, so it holds the datagrams b's loss rule then drops.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNetwork, type Network, requireNetns } from '@shoal/netns'
import { Image, Imu, NavSatFix } from '@shoal/schema'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertBuilt, WAIT_MS } from './apps.js'
import {
  BATCHED_FRAMES,
  batchedRun,
  GPS_LATITUDE,
  IMAGE,
  IMU_Z,
  lossyRun,
  PORT,
  plainRun,
  type Run,
  startCapture,
} from './capture-runs.js'
import {
  all,
  dissect,
  hex32,
  type Layers,
  one,
  requireTshark,
  shoalLayer,
  tsharkCapability,
} from './tshark.js'

const netns = requireNetns()
const tshark = requireTshark()

let net: Network | undefined
let dir: string
let packets: Layers[] = []
const runs: Partial<Record<keyof typeof PORT, Run>> = {}

const onPort = (port: number) =>
  packets.filter((p) => {
    const udp = p.udp as Record<string, string> | undefined
    return udp !== undefined && (udp['udp.srcport'] === String(port) || udp['udp.dstport'] === String(port))
  })
const shoalOn = (port: number) =>
  onPort(port)
    .map(shoalLayer)
    .filter((s) => s !== undefined)
const ofKind = (layers: Record<string, unknown>[], kind: number) =>
  layers.filter((s) => (s['shoal.kind'] as string) === String(kind))
describe.skipIf(netns.skip || tshark.skip)(
  `tshark ${tsharkCapability().version ?? ''} with shoal.lua on traffic captured in a namespace`,
  () => {
    beforeAll(async () => {
      assertBuilt()
      dir = mkdtempSync(join(tmpdir(), 'shoal-capture-'))
      const pcap = join(dir, 'shoal.pcapng')
      net = await createNetwork({ hosts: ['a', 'b'], segments: [{ name: 'lan', hosts: ['a', 'b'] }] })
      const capture = await startCapture(net, pcap)
      runs.plain = await plainRun(net)
      runs.batched = await batchedRun(net)
      runs.lossy = await lossyRun(net)
      capture.child.kill('SIGINT')
      const stopped = await capture.waitForExit(WAIT_MS)
      expect(stopped.code, stopped.stderr).toBe(0)
      packets = dissect(pcap, ['-Y', 'udp'])
    }, 120_000)

    afterAll(async () => {
      await net?.destroy()
      if (!dir) return
      // SHOAL_KEEP_CAPTURE=1 keeps the capture to open in Wireshark.
      if (process.env.SHOAL_KEEP_CAPTURE === '1')
        process.stderr.write(`capture kept: ${join(dir, 'shoal.pcapng')}\n`)
      else rmSync(dir, { recursive: true, force: true })
    })

    it('decodes every DATA frame: header fields, and IMU and GPS values as sent', () => {
      const { session, received } = runs.plain!
      const data = ofKind(shoalOn(PORT.plain), 0).filter((s) => one(s, 'shoal.fragment_count') === '1')
      const imu = data.filter((s) => one(s, 'shoal.topic') === 'imu')
      const gps = data.filter((s) => one(s, 'shoal.topic') === 'gps')
      expect(imu.map((s) => one(s, 'shoal.sequence'))).toEqual(['0', '1', '2'])
      expect(gps.map((s) => one(s, 'shoal.sequence'))).toEqual(['0', '1'])
      for (const s of [...imu, ...gps]) {
        expect(one(s, 'shoal.magic')).toBe('0x5348')
        expect(one(s, 'shoal.version')).toBe('1')
        expect(one(s, 'shoal.session')).toBe(hex32(session))
        expect(one(s, 'shoal.hops')).toBe('0')
        expect(one(s, 'shoal.flags.ack_request')).toBe('1')
        expect(one(s, 'shoal.crc.good')).toBe('1')
        expect(Number(one(s, 'shoal.header_length'))).toBe(36 + Number(one(s, 'shoal.topic_length')))
        expect(one(s, 'shoal.message_length')).toBe(one(s, 'shoal.payload_length'))
      }
      expect(imu.map((s) => one(s, 'shoal.fingerprint'))).toEqual(IMU_Z.map(() => hex32(Imu.fingerprint)))
      expect(imu.map((s) => one(s, 'shoal.type'))).toEqual(IMU_Z.map(() => 'shoal.v1.Imu'))
      expect(imu.map((s) => one(s, 'pbf.shoal.v1.Vector3.z'))).toEqual(IMU_Z.map(String))
      expect(imu.map((s) => one(s, 'pbf.shoal.v1.Vector3.y'))).toEqual(IMU_Z.map(() => '-0.25'))
      expect(gps.map((s) => one(s, 'shoal.fingerprint'))).toEqual(
        GPS_LATITUDE.map(() => hex32(NavSatFix.fingerprint)),
      )
      expect(gps.map((s) => one(s, 'pbf.shoal.v1.NavSatFix.latitude'))).toEqual(GPS_LATITUDE.map(String))
      expect(gps.map((s) => one(s, 'pbf.shoal.v1.NavSatFix.altitude'))).toEqual(
        GPS_LATITUDE.map(() => '455.25'),
      )

      // What the dissector shows is what the receiver made of the same datagrams.
      const shown = new Set(
        data.map(
          (s) => `${one(s, 'shoal.topic')}#${one(s, 'shoal.sequence')}@${one(s, 'shoal.fingerprint')}`,
        ),
      )
      const printed = received.filter((line) => line.topic !== 'camera')
      expect(printed).toHaveLength(IMU_Z.length + GPS_LATITUDE.length)
      for (const line of printed) {
        expect((line.source as { session: string }).session).toBe(hex32(session).slice(2))
        expect(shown).toContain(`${line.topic}#${line.sequence}@${line.fingerprint}`)
      }
    })

    it('reassembles the fragmented camera image and decodes it', () => {
      const { session } = runs.plain!
      const fragments = ofKind(shoalOn(PORT.plain), 0).filter((s) => one(s, 'shoal.topic') === 'camera')
      const count = Number(one(fragments[0], 'shoal.fragment_count'))
      expect(count).toBeGreaterThan(1)
      expect(fragments.map((s) => one(s, 'shoal.fragment_index'))).toEqual(
        Array.from({ length: count }, (_, i) => String(i)),
      )
      for (const s of fragments) {
        expect(one(s, 'shoal.session')).toBe(hex32(session))
        expect(one(s, 'shoal.fingerprint')).toBe(hex32(Image.fingerprint))
        expect(one(s, 'shoal.crc.good')).toBe('1')
      }
      const messageLength = one(fragments[0], 'shoal.message_length')
      const completed = fragments.filter((s) => one(s, 'shoal.fragment.status') === '1')
      expect(completed).toHaveLength(1)
      const last = completed[0]!
      expect(one(last, 'shoal.reassembled.length')).toBe(messageLength)
      expect(all(last, 'shoal.reassembled.frame')).toHaveLength(count)
      expect(one(last, 'pbf.shoal.v1.Image.width')).toBe(String(IMAGE.width))
      expect(one(last, 'pbf.shoal.v1.Image.height')).toBe(String(IMAGE.height))
      expect(one(last, 'pbf.shoal.v1.Image.encoding')).toBe('rgb8')
      expect(one(last, 'pbf.shoal.v1.Header.frame_id')).toBe('cam')
      expect(
        fragments
          .filter((s) => s !== last)
          .every((s) => all(s, 'shoal.fragment.reassembled_in').length === 1),
      ).toBe(true)
    })

    it('shows an ACK from the receiver for every frame the sender asked about', () => {
      const { session } = runs.plain!
      const acks = ofKind(shoalOn(PORT.plain), 1)
      const asked = ofKind(shoalOn(PORT.plain), 0)
        .filter((s) => one(s, 'shoal.fragment_index') === '0')
        .map((s) => `${one(s, 'shoal.topic')}#${one(s, 'shoal.sequence')}`)
      expect(new Set(acks.map((s) => `${one(s, 'shoal.topic')}#${one(s, 'shoal.sequence')}`))).toEqual(
        new Set(asked),
      )
      for (const ack of acks) {
        expect(one(ack, 'shoal.session')).toBe(hex32(session))
        expect(one(ack, 'shoal.ack.receiver')).toBe('rx-b')
        expect(one(ack, 'shoal.fingerprint')).toBe('0x00000000')
      }
      expect(new Set(acks.map((s) => one(s, 'shoal.receiver_session'))).size).toBe(1)
    })

    it("shows the sender's HEARTBEATs and the receiver's STATUS reports", () => {
      const { session } = runs.plain!
      const heartbeats = ofKind(shoalOn(PORT.plain), 3)
      expect(heartbeats.length).toBeGreaterThan(0)
      const lastSent = (s: Record<string, unknown>) =>
        Object.fromEntries(
          all(s, 'shoal.heartbeat.topic').map((t, i) => [t, all(s, 'shoal.heartbeat.last_sequence')[i]]),
        )
      expect(lastSent(heartbeats.at(-1)!)).toEqual({ imu: '2', gps: '1', camera: '0' })
      for (const hb of heartbeats)
        expect([one(hb, 'shoal.session'), one(hb, 'shoal.topic')]).toEqual([hex32(session), '*'])

      const reports = ofKind(shoalOn(PORT.plain), 5)
      expect(reports.length).toBeGreaterThan(0)
      const receiver = one(ofKind(shoalOn(PORT.plain), 1)[0], 'shoal.receiver_session')
      for (const status of reports) {
        expect(one(status, 'shoal.session')).toBe(hex32(session))
        expect(one(status, 'shoal.receiver_session')).toBe(receiver)
      }
      // The receiver's last one, as it stops: flagged LEAVING, window 0, no entries.
      const leaving = reports.filter((s) => one(s, 'shoal.flags.leaving') === '1')
      expect(leaving.length).toBe(1)
      expect(leaving[0]).toBe(reports.at(-1))
      expect(one(leaving[0]!, 'shoal.status.window')).toBe('0')
      expect(all(leaving[0]!, 'shoal.status.topic')).toEqual([])
      const statuses = reports.slice(0, -1)
      expect(statuses.length).toBeGreaterThan(0)
      for (const status of statuses) expect(Number(one(status, 'shoal.status.window'))).toBeGreaterThan(0)
      // A receiver reports a stream once it has 4 datagrams of it (WIRE.md "Flow control"): here
      // the camera image's; each entry is the next sequence it waits for, never past what was sent.
      const sent: Record<string, number> = { imu: IMU_Z.length, gps: GPS_LATITUDE.length, camera: 1 }
      const next = new Map<string, number>()
      for (const status of statuses) {
        all(status, 'shoal.status.topic').forEach((topic, i) => {
          const sequence = Number(all(status, 'shoal.status.next_sequence')[i])
          expect(sequence).toBeLessThanOrEqual(sent[String(topic)]!)
          next.set(String(topic), Math.max(next.get(String(topic)) ?? 0, sequence))
        })
      }
      expect(next.get('camera')).toBe(1)
    })

    it('unpacks BATCH datagrams into inner frames with their IMU values', () => {
      const { session } = runs.batched!
      const shoal = shoalOn(PORT.batched)
      const batches = ofKind(shoal, 4)
      expect(batches.length).toBeGreaterThan(0)
      const entries = batches.flatMap((b) => all(b, 'shoal.batch.entry') as Record<string, unknown>[])
      expect(entries.length).toBeGreaterThan(1)
      for (const batch of batches) {
        expect([batch['shoal.topic'], batch['shoal.session']]).toEqual(['*', hex32(session)])
        expect(Number(all(batch, 'shoal.batch.frames')[0])).toBe(
          (all(batch, 'shoal.batch.entry') as unknown[]).length,
        )
      }
      const whole = ofKind(shoal, 0)
      const sequences = [...entries, ...whole]
        .map((e) => Number(one(e, 'shoal.sequence')))
        .sort((x, y) => x - y)
      expect(sequences).toEqual(Array.from({ length: BATCHED_FRAMES }, (_, i) => i))
      for (const frame of [...entries, ...whole]) {
        expect(Number(one(frame, 'pbf.shoal.v1.Vector3.z'))).toBe(Number(one(frame, 'shoal.sequence')) + 1)
        expect(one(frame, 'shoal.type')).toBe('shoal.v1.Imu')
      }
      expect(runs.batched!.received).toHaveLength(BATCHED_FRAMES)
    })

    it('shows NACKs and NACK_FRAMES about what the receiver lost, and the fragments resent', () => {
      const { session } = runs.lossy!
      const shoal = shoalOn(PORT.lossy)
      const fragmented = new Map<string, number>()
      const sent = new Map<string, number>()
      for (const s of ofKind(shoal, 0)) {
        const topic = one(s, 'shoal.topic')
        const sequence = Number(one(s, 'shoal.sequence'))
        sent.set(topic, Math.max(sent.get(topic) ?? 0, sequence))
        if (one(s, 'shoal.fragment_count') !== '1')
          fragmented.set(`${topic}#${sequence}`, Number(one(s, 'shoal.fragment_count')))
      }
      for (const b of ofKind(shoal, 4)) {
        for (const e of all(b, 'shoal.batch.entry')) {
          sent.set(
            one(e, 'shoal.topic'),
            Math.max(sent.get(one(e, 'shoal.topic')) ?? 0, Number(one(e, 'shoal.sequence'))),
          )
        }
      }

      const nacks = ofKind(shoal, 2)
      expect(nacks.length).toBeGreaterThan(0)
      for (const nack of nacks) {
        expect(one(nack, 'shoal.session')).toBe(hex32(session))
        const count = fragmented.get(`${one(nack, 'shoal.topic')}#${one(nack, 'shoal.sequence')}`)
        expect(count, 'a NACK names a fragmented message of the capture').toBeDefined()
        const firsts = all(nack, 'shoal.nack.first').map(Number)
        const counts = all(nack, 'shoal.nack.count').map(Number)
        expect(firsts.length).toBeGreaterThan(0)
        firsts.forEach((first, i) => {
          const whole = all(nack, 'shoal.nack.whole_message')[i] === '1'
          if (!whole) expect(first + counts[i]!).toBeLessThanOrEqual(count!)
        })
      }

      const nackFrames = ofKind(shoal, 6)
      expect(nackFrames.length).toBeGreaterThan(0)
      for (const nack of nackFrames) {
        expect(one(nack, 'shoal.session')).toBe(hex32(session))
        const firsts = all(nack, 'shoal.nack_frames.first').map(Number)
        expect(one(nack, 'shoal.sequence')).toBe(String(firsts[0]))
        for (const first of firsts) expect(first).toBeLessThanOrEqual(sent.get(one(nack, 'shoal.topic'))!)
      }

      // A fragment b's loss rule dropped is in the capture, and so is its resend.
      expect(shoal.some((s) => all(s, 'shoal.fragment.status')[0] === '2')).toBe(true)
      expect(shoal.every((s) => one(s, 'shoal.crc.good') === '1')).toBe(true)
    })
  },
)

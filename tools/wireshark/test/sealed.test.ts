/**
 * Sealed frames (WIRE.md "Sealing"), as a keyed publisher sends them: captured on loopback by a
 * raw subscriber (every datagram as it came), written to a pcap and dissected. The dissector has no
 * key: it shows the seal, the tag and every header field; in `authenticate` mode the payload too
 * (decoded, batches unpacked, fragments reassembled), in `encrypt` mode only that it is ciphertext.
 */
import { randomInt } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Image, Imu } from '@shoal/schema'
import { createPublisher, createSubscriber, Keyring, type SealMode } from '@shoal/transport'
import {
  encodeTopic,
  encodeWholeFrame,
  Flag,
  FrameKind,
  SEAL_EXTENSION_LENGTH,
  TAG_LENGTH,
} from '@shoal/transport/wire'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writePcap } from './pcap.js'
import { all, DISSECTOR, dissect, type Layers, one, requireTshark, shoalLayer, summaries } from './tshark.js'

const tshark = requireTshark()

const KEY_ID = 7
const KEYRING = Keyring.parse(`${KEY_ID} ${'5a'.repeat(32)}`, 'test')
/** Small datagrams, so a small image takes several fragments. */
const BUDGET = 600
const IMU_Z = [9.5, 9.75, 10]
const image = {
  header: { sourceId: 'sealed-camera' },
  height: 40,
  width: 50,
  encoding: 'mono8',
  step: 50,
  data: Uint8Array.from({ length: 2000 }, (_, i) => i % 256),
}
/** How long a wait for the datagrams of a run may take. */
const WAIT_MS = 5_000

/** Every datagram one keyed publisher sends for: 3 IMU frames (batched or not), an image, heartbeats. */
async function sealedTraffic(mode: SealMode, batch: boolean): Promise<Uint8Array[]> {
  const where = {
    group: `239.255.${randomInt(100, 255)}.${randomInt(1, 255)}`,
    port: randomInt(20_000, 60_000),
    interface: '127.0.0.1',
  }
  const sub = await createSubscriber({ ...where, raw: true })
  const got: Uint8Array[] = []
  sub.on('raw', (d: { data: Buffer }) => got.push(Uint8Array.from(d.data)))
  const pub = await createPublisher({
    ...where,
    budget: BUDGET,
    flow: false,
    batch,
    seal: { keyring: KEYRING, mode },
  })
  await Promise.all(IMU_Z.map((z) => pub.publish('imu', Imu, { linearAcceleration: { z } })))
  await pub.publish('camera', Image, image)
  await pub.close()
  const deadline = Date.now() + WAIT_MS
  const kindOf = (d: Uint8Array) => d[3]
  while (!got.some((d) => kindOf(d) === FrameKind.HEARTBEAT) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  await sub.close()
  return got
}

let dir: string
const runs: Record<string, Layers[]> = {}
let pcaps: Record<string, string> = {}
const shoal = (run: string) => runs[run]!.map(shoalLayer).filter((s) => s !== undefined)
const ofKind = (run: string, kind: number) => shoal(run).filter((s) => s['shoal.kind'] === String(kind))
const whole = (run: string) => ofKind(run, FrameKind.DATA).filter((s) => s['shoal.fragment_count'] === '1')
const fragments = (run: string) =>
  ofKind(run, FrameKind.DATA).filter((s) => s['shoal.fragment_count'] !== '1')

describe.skipIf(tshark.skip)('shoal.lua on sealed frames from a keyed publisher', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-sealed-'))
    const traffic = {
      authenticate: await sealedTraffic('authenticate', false),
      authenticateBatched: await sealedTraffic('authenticate', true),
      encrypt: await sealedTraffic('encrypt', false),
      // AUTHENTICATED, but no room for the seal: what no sealing side sends.
      malformed: [
        encodeWholeFrame(
          Flag.AUTHENTICATED,
          0,
          1,
          0,
          Imu.fingerprint,
          encodeTopic('imu'),
          new Uint8Array(20),
        ),
      ],
    }
    pcaps = {}
    for (const [run, datagrams] of Object.entries(traffic)) {
      pcaps[run] = join(dir, `${run}.pcap`)
      writePcap(
        pcaps[run]!,
        datagrams.map((payload) => ({ payload })),
      )
      runs[run] = dissect(pcaps[run]!)
      expect(runs[run]).toHaveLength(datagrams.length)
    }
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('shows the seal of every datagram: key id, one sender id, counters that only go up, the tag', () => {
    for (const run of ['authenticate', 'authenticateBatched', 'encrypt']) {
      const sealed = shoal(run)
      expect(sealed.length).toBeGreaterThan(4)
      expect(new Set(sealed.map((s) => one(s, 'shoal.seal.key_id')))).toEqual(new Set([String(KEY_ID)]))
      const senders = new Set(sealed.map((s) => one(s, 'shoal.seal.sender')))
      expect(senders.size).toBe(1)
      expect([...senders][0]!.split(':')).toHaveLength(8)
      const counters = sealed.map((s) => BigInt(one(s, 'shoal.seal.counter')))
      expect(counters.slice(1).every((counter, i) => counter > counters[i]!)).toBe(true)
      for (const s of sealed) {
        // The datagram's own flags (a batch's inner frames carry theirs, never a seal flag).
        expect((s['shoal.flags_tree'] as Layers)['shoal.flags.authenticated']).toBe('1')
        expect(one(s, 'shoal.seal.tag').split(':')).toHaveLength(TAG_LENGTH)
        expect(one(s, 'shoal.crc.good')).toBe('1')
        expect(Number(s['shoal.header_length'])).toBe(
          36 + Number(s['shoal.topic_length']) + SEAL_EXTENSION_LENGTH,
        )
        expect(all(s, 'shoal.extension')).toEqual([])
      }
    }
  })

  it('authenticate: decodes messages, unpacks the batch and reassembles the image, the tag apart', () => {
    const imu = whole('authenticate')
    expect(imu.map((s) => one(s, 'pbf.shoal.v1.Vector3.z'))).toEqual(IMU_Z.map(String))
    for (const s of imu) {
      expect((s['shoal.flags_tree'] as Layers)['shoal.flags.encrypted']).toBe('0')
      expect(Number(one(s, 'shoal.payload_length'))).toBe(Number(one(s, 'shoal.message_length')) + TAG_LENGTH)
    }
    const parts = fragments('authenticate')
    expect(parts.length).toBeGreaterThan(1)
    const last = parts.find((s) => all(s, 'shoal.fragment.status')[0] === '1')!
    expect(one(last, 'shoal.reassembled.length')).toBe(one(last, 'shoal.message_length'))
    expect(one(last, 'pbf.shoal.v1.Image.width')).toBe('50')
    expect(one(last, 'pbf.shoal.v1.Image.encoding')).toBe('mono8')
    expect(one(last, 'pbf.shoal.v1.Header.source_id')).toBe('sealed-camera')

    const batches = ofKind('authenticateBatched', FrameKind.BATCH)
    const entries = batches.flatMap((b) => all(b, 'shoal.batch.entry') as Layers[])
    expect(entries.map((e) => one(e, 'pbf.shoal.v1.Vector3.z'))).toEqual(IMU_Z.map(String))
    for (const e of entries) expect(one(e, 'shoal.flags.authenticated')).toBe('0')

    const heartbeat = ofKind('authenticate', FrameKind.HEARTBEAT).at(-1)!
    expect(
      Object.fromEntries(
        all(heartbeat, 'shoal.heartbeat.topic').map((t, i) => [
          t,
          all(heartbeat, 'shoal.heartbeat.last_sequence')[i],
        ]),
      ),
    ).toEqual({
      imu: '2',
      camera: '0',
    })
    expect(
      summaries(pcaps.authenticate!)
        .filter((line) => line.includes('Shoal'))
        .every((line) => line.endsWith('[authenticated]')),
    ).toBe(true)
  })

  it('encrypt: shows ciphertext and the readable header, decodes and reassembles nothing', () => {
    const sealed = shoal('encrypt')
    for (const s of sealed) {
      expect((s['shoal.flags_tree'] as Layers)['shoal.flags.encrypted']).toBe('1')
      expect(all(s, 'shoal.seal.ciphertext')).toHaveLength(1)
      expect(all(s, 'shoal.expert.encrypted')).toHaveLength(1)
      expect(JSON.stringify(s)).not.toContain('pbf.')
    }
    expect(whole('encrypt').map((s) => one(s, 'shoal.type'))).toEqual(IMU_Z.map(() => 'shoal.v1.Imu'))
    const parts = fragments('encrypt')
    expect(parts.length).toBeGreaterThan(1)
    expect(new Set(parts.map((s) => one(s, 'shoal.fragment.status')))).toEqual(new Set(['8']))
    expect(parts.flatMap((s) => all(s, 'shoal.reassembled.length'))).toEqual([])
    expect(all(ofKind('encrypt', FrameKind.HEARTBEAT), 'shoal.heartbeat.topic')).toEqual([])
    const lines = summaries(pcaps.encrypt!).filter((line) => line.includes('Shoal'))
    expect(lines.every((line) => line.endsWith('[encrypted]'))).toBe(true)
    expect(lines.some((line) => line.includes('DATA camera #0 fragment 1/'))).toBe(true)
  })

  it('exercises every seal field the dissector declares', () => {
    const declared = [
      ...readFileSync(DISSECTOR, 'utf8').matchAll(/ProtoField\.\w+\("(shoal\.seal[a-z0-9_.]*)"/g),
    ]
    const fields = declared.map((m) => m[1]!)
    expect(fields.length).toBeGreaterThan(4)
    const everything = Object.values(runs).flat()
    expect(fields.filter((field) => all(everything, field).length === 0)).toEqual([])
  })

  it('flags a frame that says it is sealed but has no room for the seal', () => {
    const [malformed] = shoal('malformed')
    expect(all(malformed, 'shoal.expert.bad_seal')).toHaveLength(1)
    expect(all(malformed, 'shoal.seal.key_id')).toEqual([])
  })
})

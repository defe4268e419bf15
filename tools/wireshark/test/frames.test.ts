/**
 * Every frame kind and every field, on datagrams encoded by the transport's own codecs (so they are
 * exactly what Shoal sends), malformed ones included: tshark with the generated dissector must show
 * each value. Needs tshark only (no root): the namespace suite (capture.test.ts) does real traffic.
 */
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Imu } from '@shoal/schema'
import { Flag, FrameKind } from '@shoal/transport/wire'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CASES,
  type CaseName,
  crcOf,
  FRAGMENT_BUDGET,
  fragments,
  frameNumber,
  gpsMessage,
  imageMessage,
  imuFrame,
  imuMessage,
  NAMES,
  RECEIVER,
  RESERVED_FLAG,
  SESSION,
  UNKNOWN_FINGERPRINT,
  WIND_FINGERPRINT,
  writeCases,
} from './cases.js'
import {
  all,
  DISSECTOR,
  dissect,
  hex32,
  type Layers,
  one,
  PROTO_DIR,
  requireTshark,
  searchPath,
  shoalLayer,
  summaries,
  TSHARK_TIMEOUT_MS,
} from './tshark.js'

const tshark = requireTshark()

let dir: string
let pcap: string
let packets: Layers[]
const layer = (name: CaseName) => {
  const found = shoalLayer(packets[NAMES.indexOf(name)]!)
  if (found === undefined) throw new Error(`${name}: not dissected as Shoal`)
  return found
}
const expertOf = (name: CaseName, expert: string) =>
  all(packets[NAMES.indexOf(name)], `shoal.expert.${expert}`)

describe.skipIf(tshark.skip)('shoal.lua on datagrams from the transport codecs', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-wireshark-'))
    pcap = join(dir, 'frames.pcap')
    writeCases(pcap)
    // The user's own types: a .proto directory of theirs on the search path.
    packets = dissect(pcap, searchPath(fileURLToPath(new URL('fixtures/proto', import.meta.url))))
    expect(packets).toHaveLength(NAMES.length)
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('shows every header field of a DATA frame and its IMU message decoded', () => {
    const imu = layer('imu')
    const frame = CASES.imu
    expect({
      magic: one(imu, 'shoal.magic'),
      version: one(imu, 'shoal.version'),
      kind: one(imu, 'shoal.kind'),
      flags: one(imu, 'shoal.flags'),
      ackRequest: one(imu, 'shoal.flags.ack_request'),
      authenticated: one(imu, 'shoal.flags.authenticated'),
      encrypted: one(imu, 'shoal.flags.encrypted'),
      repairable: one(imu, 'shoal.flags.repairable'),
      foreign: one(imu, 'shoal.flags.foreign'),
      hops: one(imu, 'shoal.hops'),
      topicLength: one(imu, 'shoal.topic_length'),
      session: one(imu, 'shoal.session'),
      sequence: one(imu, 'shoal.sequence'),
      fingerprint: one(imu, 'shoal.fingerprint'),
      type: one(imu, 'shoal.type'),
      messageLength: one(imu, 'shoal.message_length'),
      fragmentOffset: one(imu, 'shoal.fragment_offset'),
      fragmentIndex: one(imu, 'shoal.fragment_index'),
      fragmentCount: one(imu, 'shoal.fragment_count'),
      headerLength: one(imu, 'shoal.header_length'),
      payloadLength: one(imu, 'shoal.payload_length'),
      topic: one(imu, 'shoal.topic'),
      crc: one(imu, 'shoal.crc'),
      crcGood: one(imu, 'shoal.crc.good'),
    }).toEqual({
      magic: '0x5348',
      version: '1',
      kind: String(FrameKind.DATA),
      flags: '0x0001',
      ackRequest: '1',
      authenticated: '0',
      encrypted: '0',
      repairable: '0',
      foreign: '0',
      hops: '0',
      topicLength: '3',
      session: hex32(SESSION),
      sequence: '41',
      fingerprint: hex32(Imu.fingerprint),
      type: 'shoal.v1.Imu',
      messageLength: String(imuMessage(9.81).length),
      fragmentOffset: '0',
      fragmentIndex: '0',
      fragmentCount: '1',
      headerLength: '39',
      payloadLength: String(imuMessage(9.81).length),
      topic: 'imu',
      crc: hex32(crcOf(frame)),
      crcGood: '1',
    })
    expect(all(imu, 'pbf.shoal.v1.Vector3.z')).toEqual(['0.03', '9.81'])
    expect(all(imu, 'pbf.shoal.v1.Vector3.y')).toEqual(['0.02', '-0.25'])
    expect(one(imu, 'pbf.shoal.v1.Header.source_id')).toBe('test-imu')
    expect(one(imu, 'pbf.shoal.v1.Header.stamp_ns')).toBe('1700000000000000000')
  })

  it('shows hops, the FOREIGN flag and GPS fields; an unknown fingerprint as bytes with a note', () => {
    const gps = layer('gps')
    expect([one(gps, 'shoal.hops'), one(gps, 'shoal.flags'), one(gps, 'shoal.flags.foreign')]).toEqual([
      '2',
      '0x0200',
      '1',
    ])
    expect(one(gps, 'pbf.shoal.v1.NavSatFix.latitude')).toBe('47.5')
    expect(one(gps, 'pbf.shoal.v1.NavSatFix.longitude')).toBe('8.25')
    const unknown = layer('unknownType')
    expect(one(unknown, 'shoal.fingerprint')).toBe(hex32(UNKNOWN_FINGERPRINT))
    expect(all(unknown, 'shoal.type')).toEqual([])
    expect(all(unknown, 'pbf.shoal.v1.NavSatFix.latitude')).toEqual([])
    expect(expertOf('unknownType', 'unknown_type')).toHaveLength(1)
  })

  it("names a type of the user's by the capture's SCHEMA frame and decodes it from their .proto", () => {
    const wind = layer('wind')
    expect(one(wind, 'shoal.fingerprint')).toBe(hex32(WIND_FINGERPRINT))
    expect(one(wind, 'shoal.type')).toBe('acme.v1.Wind')
    expect(one(wind, 'shoal.type.schema_frame')).toBe(String(frameNumber('schema')))
    expect([one(wind, 'pbf.acme.v1.Wind.speed'), one(wind, 'pbf.acme.v1.Wind.direction')]).toEqual([
      '7.5',
      '270',
    ])
    expect(expertOf('wind', 'unknown_type')).toEqual([])
    // A built-in type is never renamed by a SCHEMA frame, and says where it comes from no more.
    expect(all(layer('imu'), 'shoal.type.schema_frame')).toEqual([])
  })

  it('unpacks a BATCH into its inner frames, each decoded', () => {
    const b = layer('batch')
    expect(all(b, 'shoal.kind')).toEqual(['4', '0', '0', '0'])
    expect(all(b, 'shoal.topic')).toEqual(['*', 'imu', 'imu', 'gps'])
    expect(all(b, 'shoal.sequence')).toEqual(['5', '42', '43', '7'])
    expect(one(b, 'shoal.batch.frames')).toBe('3')
    expect(all(b, 'shoal.batch.entry_length').map(Number)).toEqual([
      39 + imuMessage(9.5).length,
      39 + imuMessage(9.75).length,
      39 + gpsMessage.length,
    ])
    expect(all(b, 'shoal.type')).toEqual(['shoal.v1.Imu', 'shoal.v1.Imu', 'shoal.v1.NavSatFix'])
    expect(all(b, 'pbf.shoal.v1.Vector3.z')).toEqual(['0.03', '9.5', '0.03', '9.75'])
    expect(one(b, 'pbf.shoal.v1.NavSatFix.latitude')).toBe('47.5')
    expect(all(b, 'shoal.crc.good')).toEqual(['1'])
  })

  it('reassembles a fragmented image out of order, once, and decodes it', () => {
    expect(fragments.length).toBe(4)
    const status = (name: CaseName) => one(layer(name), 'shoal.fragment.status')
    expect(
      ['fragment0', 'fragment2', 'fragment2Again', 'fragment1', 'fragment3', 'fragment0Late'].map((n) =>
        status(n as CaseName),
      ),
    ).toEqual(['0', '0', '2', '0', '1', '3'])
    const last = layer('fragment3')
    expect(all(last, 'shoal.fragment_index')).toEqual(['3'])
    expect(one(last, 'shoal.fragment_count')).toBe('4')
    expect(one(last, 'shoal.flags.repairable')).toBe('1')
    expect(one(last, 'shoal.reassembled.length')).toBe(String(imageMessage.length))
    expect(all(last, 'shoal.reassembled.frame')).toEqual(
      ['fragment0', 'fragment1', 'fragment2', 'fragment3'].map((n) => String(frameNumber(n as CaseName))),
    )
    expect(one(last, 'pbf.shoal.v1.Image.width')).toBe('30')
    expect(one(last, 'pbf.shoal.v1.Image.height')).toBe('20')
    expect(one(last, 'pbf.shoal.v1.Image.encoding')).toBe('rgb8')
    expect(one(last, 'pbf.shoal.v1.Header.source_id')).toBe('test-camera')
    for (const name of ['fragment0', 'fragment2', 'fragment1'] as const) {
      expect(one(layer(name), 'shoal.fragment.reassembled_in')).toBe(String(frameNumber('fragment3')))
      expect(all(layer(name), 'pbf.shoal.v1.Image.width')).toEqual([])
    }
    const offsets = fragments.map((_, i) => one(layer(`fragment${i}` as CaseName), 'shoal.fragment_offset'))
    const size = FRAGMENT_BUDGET - 36 - 'camera'.length - 4
    expect(offsets).toEqual(['0', String(size), String(2 * size), String(3 * size)])
  })

  it("keeps no fragment that disagrees with its message, breaks its geometry or exceeds receivers' cap", () => {
    const status = (name: CaseName) => one(layer(name), 'shoal.fragment.status')
    expect(status('refusedFirst')).toBe('0')
    expect(status('refusedMismatch')).toBe('4')
    expect(status('refusedTooLarge')).toBe('5')
    expect(expertOf('refusedMismatch', 'fragment')).toHaveLength(1)
    expect(expertOf('refusedTooLarge', 'fragment')).toHaveLength(1)
    expect(expertOf('refusedFirst', 'fragment')).toHaveLength(0)
    // A last fragment must end its message: at 400, 300 bytes do not end the declared 800.
    expect(status('refusedGeometry')).toBe('6')
  })

  it('shows ACK, NACK (ranges, whole message, padding) and NACK_FRAMES payloads', () => {
    const ack = layer('ack')
    expect([one(ack, 'shoal.kind'), one(ack, 'shoal.sequence'), one(ack, 'shoal.topic')]).toEqual([
      '1',
      '41',
      'imu',
    ])
    expect(one(ack, 'shoal.fingerprint')).toBe('0x00000000')
    expect(one(ack, 'shoal.receiver_session')).toBe(hex32(RECEIVER))
    expect(one(ack, 'shoal.ack.receiver')).toBe('rx-1')

    const nack = layer('nack')
    expect([one(nack, 'shoal.kind'), one(nack, 'shoal.sequence'), one(nack, 'shoal.topic')]).toEqual([
      '2',
      '3',
      'camera',
    ])
    expect(all(nack, 'shoal.nack.first')).toEqual(['1', '3'])
    expect(all(nack, 'shoal.nack.count')).toEqual(['2', '1'])
    expect(all(nack, 'shoal.nack.whole_message')).toEqual(['0', '0'])
    const headerLength = Number(one(nack, 'shoal.header_length'))
    expect(CASES.nack.length).toBe(120)
    expect(headerLength).toBeGreaterThan(36 + 'camera'.length)
    expect(one(nack, 'shoal.extension').split(':')).toHaveLength(headerLength - 36 - 'camera'.length)
    expect(one(layer('nackWhole'), 'shoal.nack.whole_message')).toBe('1')
    expect(one(layer('nackWhole'), 'shoal.nack.count')).toBe('65535')

    const frames = layer('nackFrames')
    expect([one(frames, 'shoal.kind'), one(frames, 'shoal.sequence')]).toEqual(['6', '10'])
    expect(one(frames, 'shoal.receiver_session')).toBe(hex32(RECEIVER))
    expect(all(frames, 'shoal.nack_frames.first')).toEqual(['10', '4294967295'])
    expect(all(frames, 'shoal.nack_frames.count')).toEqual(['3', '2'])
  })

  it('shows HEARTBEAT and STATUS entries, and their announcements with none', () => {
    const hb = layer('heartbeat')
    expect([one(hb, 'shoal.kind'), one(hb, 'shoal.sequence'), one(hb, 'shoal.topic')]).toEqual([
      '3',
      '9',
      '*',
    ])
    expect(all(hb, 'shoal.heartbeat.topic')).toEqual(['imu', 'camera'])
    expect(all(hb, 'shoal.heartbeat.last_sequence')).toEqual(['43', '3'])
    expect(all(hb, 'shoal.entry.topic_length')).toEqual(['3', '6'])
    expect(all(layer('heartbeatAnnounce'), 'shoal.heartbeat.topic')).toEqual([])

    const status = layer('status')
    expect([one(status, 'shoal.kind'), one(status, 'shoal.sequence'), one(status, 'shoal.session')]).toEqual([
      '5',
      '4',
      hex32(SESSION),
    ])
    expect(one(status, 'shoal.receiver_session')).toBe(hex32(RECEIVER))
    expect(one(status, 'shoal.status.window')).toBe('1000000')
    expect(one(status, 'shoal.status.topic')).toBe('imu')
    expect(one(status, 'shoal.status.next_sequence')).toBe('44')
    expect(one(layer('statusAnnounce'), 'shoal.status.window')).toBe('2000000')
    expect(all(layer('statusAnnounce'), 'shoal.status.topic')).toEqual([])
  })

  it('flags what receivers would drop, each with its reason', () => {
    expect(one(layer('badCrc'), 'shoal.crc.good')).toBe('0')
    expect(one(layer('badCrc'), 'shoal.crc.computed')).toBe(hex32(crcOf(imuFrame(44, 1))))
    expect(expertOf('badCrc', 'bad_crc')).toHaveLength(1)
    expect(expertOf('imu', 'bad_crc')).toHaveLength(0)
    expect(Object.values(Flag)).not.toContain(RESERVED_FLAG)
    expect(one(layer('unsupportedFlag'), 'shoal.flags.unknown_must_understand')).toBe('0x0008')
    expect(expertOf('unsupportedFlag', 'unsupported_flags')).toHaveLength(1)
    expect(expertOf('truncated', 'truncated')).toHaveLength(1)
    expect(expertOf('badLength', 'bad_length')).toHaveLength(1)
    expect(expertOf('badNack', 'bad_payload')).toHaveLength(1)
    expect(one(layer('unknownKind'), 'shoal.kind')).toBe('10')
    expect(expertOf('unknownKind', 'unknown_kind')).toHaveLength(1)
    expect(shoalLayer(packets[NAMES.indexOf('notShoal')]!)).toBeUndefined()
  })

  it('writes a one-line summary per frame kind in the Info column', () => {
    const lines = summaries(pcap)
    const info = (name: CaseName) => lines[NAMES.indexOf(name)]
    expect(info('imu')).toContain('DATA imu #41 shoal.v1.Imu')
    expect(info('batch')).toContain('BATCH #5: 3 frames (imu x2, gps x1)')
    expect(info('batchOfOne')).toContain('BATCH #6: 1 frame (imu x1)')
    expect(info('fragment3')).toContain(
      `DATA camera #3 fragment 4/4 shoal.v1.Image [reassembled ${imageMessage.length} bytes]`,
    )
    expect(info('ack')).toContain('ACK imu #41 from rx-1')
    expect(info('nack')).toContain('NACK camera #3 fragments 1-2, 3')
    expect(info('nackWhole')).toContain('NACK camera #3 fragments whole message')
    expect(info('nackFrames')).toContain('NACK_FRAMES imu #10-12, #4294967295-0')
    expect(info('heartbeat')).toContain('HEARTBEAT #9: imu last 43, camera last 3')
    expect(info('heartbeatAnnounce')).toContain('HEARTBEAT #10 (announcement, no topics yet)')
    expect(info('status')).toContain('STATUS #4 window 1000000: imu next 44')
    expect(info('schema')).toContain(`SCHEMA acme.v1.Wind ${hex32(WIND_FINGERPRINT)} #1 (40 bytes)`)
    expect(info('wind')).toContain('DATA weather/wind #0 acme.v1.Wind')
    expect(info('schemaRequest')).toContain(`SCHEMA_REQUEST other for ${hex32(UNKNOWN_FINGERPRINT)}`)
    expect(info('notShoal')).not.toContain('Shoal')
  })

  it('loads from the personal plugins folder, with the search path saved in the profile as the GUI does', () => {
    const home = join(dir, 'home')
    const plugins = join(home, '.local', 'lib', 'wireshark', 'plugins')
    const profile = join(home, '.config', 'wireshark')
    mkdirSync(plugins, { recursive: true })
    mkdirSync(profile, { recursive: true })
    copyFileSync(DISSECTOR, join(plugins, 'shoal.lua'))
    writeFileSync(join(profile, 'protobuf_search_paths'), `"${PROTO_DIR}","TRUE"\n`)
    writeFileSync(join(profile, 'preferences'), 'protobuf.pbf_as_hf: TRUE\nprotobuf.preload_protos: TRUE\n')
    const { XDG_CONFIG_HOME: _, ...env } = process.env
    const filter = 'pbf.shoal.v1.NavSatFix.latitude == 47.5'
    const fields = ['frame.number', 'shoal.sequence', 'pbf.shoal.v1.NavSatFix.latitude'].flatMap((f) => [
      '-e',
      f,
    ])
    const run = spawnSync('tshark', ['-n', '-r', pcap, '-Y', filter, '-T', 'fields', ...fields], {
      env: { ...env, HOME: home },
      encoding: 'utf8',
      timeout: TSHARK_TIMEOUT_MS,
    })
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout.trim().split('\n')).toEqual([
      `${frameNumber('gps')}\t6\t47.5`,
      `${frameNumber('batch')}\t5,42,43,7\t47.5`,
    ])
  })

  it('exercises every field the dissector declares', () => {
    const source = readFileSync(DISSECTOR, 'utf8')
    const declared = [...source.matchAll(/ProtoField\.\w+\("(shoal\.[a-z0-9_.]*[a-z0-9_])"/g)].map(
      (m) => m[1]!,
    )
    const flags = Object.keys(Flag).map((name) => `shoal.flags.${name.toLowerCase()}`)
    // Seal fields: sealed.test.ts, on a keyed publisher's datagrams.
    const unseen = [...declared, ...flags]
      .filter((field) => !field.startsWith('shoal.seal'))
      .filter((field) => all(packets, field).length === 0)
    expect(unseen).toEqual([])
  })
})

/**
 * Every frame kind and every field, on datagrams encoded by the transport's own codecs (so they are
 * exactly what Shoal sends), malformed ones included: tshark with the generated dissector must show
 * each value. Needs tshark only (no root): the namespace suite (capture.test.ts) does real traffic.
 */
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Image, Imu, NavSatFix } from '@shoal/schema'
import {
  BatchBuilder,
  encodeAck,
  encodeControlFrame,
  encodedFrameLength,
  encodeFrameInto,
  encodeHeartbeats,
  encodeNack,
  encodeNackFrames,
  encodeStatuses,
  encodeTopic,
  encodeWholeFrame,
  Flag,
  type FrameHeader,
  FrameKind,
  fragmentMessage,
  Limits,
  WHOLE_MESSAGE,
} from '@shoal/transport/wire'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Datagram, writePcap } from './pcap.js'
import {
  all,
  DISSECTOR,
  dissect,
  hex32,
  type Layers,
  one,
  PROTO_DIR,
  requireTshark,
  shoalLayer,
  summaries,
  TSHARK_TIMEOUT_MS,
} from './tshark.js'

const tshark = requireTshark()

const SESSION = 0x1234abcd
const RECEIVER = 0xfeedbeef
const BUDGET = 1472
const FRAGMENT_BUDGET = 600
const UNKNOWN_FINGERPRINT = 0x0badf00d

const imuMessage = (z: number) =>
  Imu.encode(
    Imu.fromObject({
      header: { sourceId: 'test-imu', frameId: 'imu_link', stampNs: '1700000000000000000' },
      angularVelocity: { x: 0.01, y: 0.02, z: 0.03 },
      linearAcceleration: { x: 0.5, y: -0.25, z },
    }),
  )
const imuFrame = (sequence: number, z: number, flags = Flag.ACK_REQUEST, hops = 0) =>
  encodeWholeFrame(flags, hops, SESSION, sequence, Imu.fingerprint, encodeTopic('imu'), imuMessage(z))

const gpsMessage = NavSatFix.encode(
  NavSatFix.fromObject({ header: { sourceId: 'test-gps' }, latitude: 47.5, longitude: 8.25, altitude: 455 }),
)
const pixels = Uint8Array.from({ length: 30 * 20 * 3 }, (_, i) => i % 251)
const imageMessage = Image.encode(
  Image.fromObject({
    header: { sourceId: 'test-camera' },
    height: 20,
    width: 30,
    encoding: 'rgb8',
    step: 90,
    data: Buffer.from(pixels).toString('base64'),
  }),
)
const fragments = fragmentMessage(
  {
    kind: FrameKind.DATA,
    flags: Flag.REPAIRABLE,
    hops: 0,
    topic: 'camera',
    sessionId: SESSION,
    sequence: 3,
    fingerprint: Image.fingerprint,
    extensionLength: 0,
  },
  encodeTopic('camera'),
  imageMessage,
  FRAGMENT_BUDGET,
)

/** One camera fragment with the header fields given, CRC and all: for fragments that do not fit. */
function fragment(
  fields: Partial<FrameHeader> & Pick<FrameHeader, 'sequence'>,
  payloadLength: number,
): Uint8Array {
  const header: FrameHeader = {
    kind: FrameKind.DATA,
    flags: 0,
    hops: 0,
    topic: 'camera',
    sessionId: SESSION,
    fingerprint: Image.fingerprint,
    messageLength: 2 * payloadLength,
    fragmentOffset: 0,
    fragmentIndex: 0,
    fragmentCount: 2,
    payloadLength,
    extensionLength: 0,
    ...fields,
  }
  const topicBytes = encodeTopic(header.topic)
  const out = new Uint8Array(encodedFrameLength(header, topicBytes))
  encodeFrameInto(header, topicBytes, new Uint8Array(payloadLength), out, 0)
  return out
}
const REFUSED_SIZE = 400

function batch(): Uint8Array {
  const builder = new BatchBuilder(BUDGET)
  builder.append(0, 0, SESSION, 42, Imu.fingerprint, encodeTopic('imu'), imuMessage(9.5))
  builder.append(0, 0, SESSION, 43, Imu.fingerprint, encodeTopic('imu'), imuMessage(9.75))
  builder.append(0, 0, SESSION, 7, NavSatFix.fingerprint, encodeTopic('gps'), gpsMessage)
  return builder.finish(SESSION, 5)
}

const crcOf = (frame: Uint8Array) => new DataView(frame.buffer, frame.byteOffset).getUint32(frame.length - 4)
const withBadCrc = (frame: Uint8Array) => {
  const bad = Uint8Array.from(frame)
  bad[bad.length - 1]! ^= 0xff
  return bad
}
const imuAbout = { sessionId: SESSION, sequence: 41, topic: 'imu' }
const cameraAbout = { sessionId: SESSION, sequence: 3, topic: 'camera' }
const imuTopic = (sequence: number) => ({ topicBytes: encodeTopic('imu'), sequence })

/** The capture, one datagram per named case, in this order. */
const CASES = {
  imu: imuFrame(41, 9.81),
  gps: encodeWholeFrame(Flag.FOREIGN, 2, SESSION, 6, NavSatFix.fingerprint, encodeTopic('gps'), gpsMessage),
  unknownType: encodeWholeFrame(0, 0, SESSION, 0, UNKNOWN_FINGERPRINT, encodeTopic('other'), gpsMessage),
  batch: batch(),
  fragment0: fragments[0]!,
  fragment2: fragments[2]!,
  fragment2Again: fragments[2]!,
  fragment1: fragments[1]!,
  fragment3: fragments[3]!,
  fragment0Late: fragments[0]!,
  // Message #20: 2 fragments of 400 bytes, then one that says 3; #21's last fragment ends short of
  // its message; #22 declares more than a receiver reassembles.
  refusedFirst: fragment({ sequence: 20 }, REFUSED_SIZE),
  refusedMismatch: fragment({ sequence: 20, fragmentIndex: 1, fragmentCount: 3 }, REFUSED_SIZE),
  refusedGeometry: fragment(
    { sequence: 21, fragmentIndex: 1, fragmentOffset: REFUSED_SIZE },
    REFUSED_SIZE - 100,
  ),
  refusedTooLarge: fragment({ sequence: 22, messageLength: Limits.MAX_MESSAGE_BYTES + 1 }, REFUSED_SIZE),
  ack: encodeAck(imuAbout, { receiverSession: RECEIVER, receiver: 'rx-1' }),
  nack: encodeNack(
    cameraAbout,
    {
      receiverSession: RECEIVER,
      ranges: [
        [1, 2],
        [3, 1],
      ],
    },
    120,
  ),
  nackWhole: encodeNack(cameraAbout, { receiverSession: RECEIVER, ranges: [WHOLE_MESSAGE] }),
  nackFrames: encodeNackFrames(imuAbout, {
    receiverSession: RECEIVER,
    ranges: [
      [10, 3],
      [0xffffffff, 2],
    ],
  }),
  heartbeat: encodeHeartbeats(
    SESSION,
    9,
    [imuTopic(43), { topicBytes: encodeTopic('camera'), sequence: 3 }],
    BUDGET,
  )[0]!,
  heartbeatAnnounce: encodeHeartbeats(SESSION, 10, [], BUDGET)[0]!,
  status: encodeStatuses(SESSION, RECEIVER, 4, 1_000_000, [imuTopic(44)], BUDGET)[0]!,
  statusAnnounce: encodeStatuses(SESSION, RECEIVER, 5, 2_000_000, [], BUDGET)[0]!,
  badCrc: withBadCrc(imuFrame(44, 1)),
  unsupportedFlag: imuFrame(45, 1, Flag.AUTHENTICATED),
  truncated: imuFrame(46, 1).subarray(0, 60),
  badLength: Uint8Array.from([...imuFrame(47, 1), 0, 0, 0]),
  badNack: encodeControlFrame(FrameKind.NACK, cameraAbout, Uint8Array.of(1, 2, 3, 4, 5)),
  unknownKind: encodeControlFrame(9 as FrameKind, imuAbout, Uint8Array.of(1, 2, 3)),
  notShoal: new TextEncoder().encode('hello, not a Shoal datagram at all'),
} satisfies Record<string, Uint8Array>
type CaseName = keyof typeof CASES
const NAMES = Object.keys(CASES) as CaseName[]
const frameNumber = (name: CaseName) => NAMES.indexOf(name) + 1

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
    const datagrams: Datagram[] = NAMES.map((name) => {
      const toPublisher = ['ack', 'nack', 'nackWhole', 'nackFrames', 'status', 'statusAnnounce', 'badNack']
      return toPublisher.includes(name)
        ? { payload: CASES[name], src: '10.77.1.2', dst: '10.77.1.1', srcPort: 7400, dstPort: 40_000 }
        : { payload: CASES[name] }
    })
    writePcap(pcap, datagrams)
    packets = dissect(pcap)
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
    expect(one(layer('unsupportedFlag'), 'shoal.flags.unknown_must_understand')).toBe('0x0002')
    expect(expertOf('unsupportedFlag', 'unsupported_flags')).toHaveLength(1)
    expect(expertOf('truncated', 'truncated')).toHaveLength(1)
    expect(expertOf('badLength', 'bad_length')).toHaveLength(1)
    expect(expertOf('badNack', 'bad_payload')).toHaveLength(1)
    expect(one(layer('unknownKind'), 'shoal.kind')).toBe('9')
    expect(expertOf('unknownKind', 'unknown_kind')).toHaveLength(1)
    expect(shoalLayer(packets[NAMES.indexOf('notShoal')]!)).toBeUndefined()
  })

  it('writes a one-line summary per frame kind in the Info column', () => {
    const lines = summaries(pcap)
    const info = (name: CaseName) => lines[NAMES.indexOf(name)]
    expect(info('imu')).toContain('DATA imu #41 shoal.v1.Imu')
    expect(info('batch')).toContain('BATCH #5: 3 frames (imu x2, gps x1)')
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
    const unseen = [...declared, ...flags].filter((field) => all(packets, field).length === 0)
    expect(unseen).toEqual([])
  })
})

/**
 * The datagrams frames.test.ts dissects: one per frame kind and field worth showing, encoded by the
 * transport's own codecs (so they are exactly what Shoal sends), and a few malformed ones.
 */
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
  encodeSchemaAnnounce,
  encodeSchemaRequest,
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
import { type Datagram, writePcap } from './pcap.js'

export const SESSION = 0x1234abcd
export const RECEIVER = 0xfeedbeef
export const BUDGET = 1472
export const FRAGMENT_BUDGET = 600
export const UNKNOWN_FINGERPRINT = 0x0badf00d
/** The fingerprint the capture's SCHEMA frame gives acme.v1.Wind (test/fixtures/proto). */
export const WIND_FINGERPRINT = 0x0c340be5
/** A must-understand flag bit no version implements yet (bits 0-7 that Flag does not name). */
export const RESERVED_FLAG = 1 << 3

export const imuMessage = (z: number) =>
  Imu.encode(
    Imu.fromObject({
      header: { sourceId: 'test-imu', frameId: 'imu_link', stampNs: '1700000000000000000' },
      angularVelocity: { x: 0.01, y: 0.02, z: 0.03 },
      linearAcceleration: { x: 0.5, y: -0.25, z },
    }),
  )
export const imuFrame = (sequence: number, z: number, flags = Flag.ACK_REQUEST, hops = 0) =>
  encodeWholeFrame(flags, hops, SESSION, sequence, Imu.fingerprint, encodeTopic('imu'), imuMessage(z))

export const gpsMessage = NavSatFix.encode(
  NavSatFix.fromObject({ header: { sourceId: 'test-gps' }, latitude: 47.5, longitude: 8.25, altitude: 455 }),
)
export const pixels = Uint8Array.from({ length: 30 * 20 * 3 }, (_, i) => i % 251)
export const imageMessage = Image.encode(
  Image.fromObject({
    header: { sourceId: 'test-camera' },
    height: 20,
    width: 30,
    encoding: 'rgb8',
    step: 90,
    data: Buffer.from(pixels).toString('base64'),
  }),
)
export const fragments = fragmentMessage(
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
export const REFUSED_SIZE = 400

function batch(): Uint8Array {
  const builder = new BatchBuilder(BUDGET)
  builder.append(0, 0, SESSION, 42, Imu.fingerprint, encodeTopic('imu'), imuMessage(9.5))
  builder.append(0, 0, SESSION, 43, Imu.fingerprint, encodeTopic('imu'), imuMessage(9.75))
  builder.append(0, 0, SESSION, 7, NavSatFix.fingerprint, encodeTopic('gps'), gpsMessage)
  return builder.finish(SESSION, 5)
}

/** A batch of one frame (a batch the linger closed early). */
function batchOfOne(): Uint8Array {
  const builder = new BatchBuilder(BUDGET)
  builder.append(0, 0, SESSION, 50, Imu.fingerprint, encodeTopic('imu'), imuMessage(9.25))
  return builder.finish(SESSION, 6)
}

export const crcOf = (frame: Uint8Array) =>
  new DataView(frame.buffer, frame.byteOffset).getUint32(frame.length - 4)
const withBadCrc = (frame: Uint8Array) => {
  const bad = Uint8Array.from(frame)
  bad[bad.length - 1]! ^= 0xff
  return bad
}
const imuAbout = { sessionId: SESSION, sequence: 41, topic: 'imu' }
const cameraAbout = { sessionId: SESSION, sequence: 3, topic: 'camera' }
const imuTopic = (sequence: number) => ({ topicBytes: encodeTopic('imu'), sequence })

/** acme.v1.Wind { speed: 7.5, direction: 270 }: two doubles, fields 1 and 2 (test/fixtures/proto). */
function windMessage(): Uint8Array {
  const out = new Uint8Array(18)
  const view = new DataView(out.buffer)
  out[0] = (1 << 3) | 1
  view.setFloat64(1, 7.5, true)
  out[9] = (2 << 3) | 1
  view.setFloat64(10, 270, true)
  return out
}

/** The SCHEMA announce of a type of the user's, one datagram: its "descriptor set" is 40 bytes of 7. */
function schemaAnnounce(): Uint8Array {
  const [[head, body, crc]] = encodeSchemaAnnounce(
    {
      sessionId: SESSION,
      sequence: 1,
      typeName: 'acme.v1.Wind',
      fingerprint: WIND_FINGERPRINT,
      descriptorSet: new Uint8Array(40).fill(7),
    },
    BUDGET,
  ) as [[Uint8Array, Uint8Array, Uint8Array]]
  return Uint8Array.from([...head, ...body, ...crc])
}

/** The capture, one datagram per named case, in this order. */
export const CASES = {
  imu: imuFrame(41, 9.81),
  gps: encodeWholeFrame(Flag.FOREIGN, 2, SESSION, 6, NavSatFix.fingerprint, encodeTopic('gps'), gpsMessage),
  unknownType: encodeWholeFrame(0, 0, SESSION, 0, UNKNOWN_FINGERPRINT, encodeTopic('other'), gpsMessage),
  batch: batch(),
  batchOfOne: batchOfOne(),
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
  unsupportedFlag: imuFrame(45, 1, RESERVED_FLAG),
  truncated: imuFrame(46, 1).subarray(0, 60),
  badLength: Uint8Array.from([...imuFrame(47, 1), 0, 0, 0]),
  badNack: encodeControlFrame(FrameKind.NACK, cameraAbout, Uint8Array.of(1, 2, 3, 4, 5)),
  schema: schemaAnnounce(),
  wind: encodeWholeFrame(0, 0, SESSION, 0, WIND_FINGERPRINT, encodeTopic('weather/wind'), windMessage()),
  schemaRequest: encodeSchemaRequest({
    sessionId: SESSION,
    topic: 'other',
    sequence: 2,
    fingerprint: UNKNOWN_FINGERPRINT,
    receiverSession: RECEIVER,
  }),
  unknownKind: encodeControlFrame(10 as FrameKind, imuAbout, Uint8Array.of(1, 2, 3)),
  notShoal: new TextEncoder().encode('hello, not a Shoal datagram at all'),
} satisfies Record<string, Uint8Array>
export type CaseName = keyof typeof CASES
export const NAMES = Object.keys(CASES) as CaseName[]
export const frameNumber = (name: CaseName) => NAMES.indexOf(name) + 1

/** Frames a receiver sends its publisher: they travel the other way in the capture. */
const TO_PUBLISHER: readonly CaseName[] = [
  'ack',
  'nack',
  'nackWhole',
  'nackFrames',
  'schemaRequest',
  'status',
  'statusAnnounce',
  'badNack',
]

/** Writes every case, in order, to a pcap at `path`. */
export function writeCases(path: string): void {
  const datagrams: Datagram[] = NAMES.map((name) =>
    TO_PUBLISHER.includes(name)
      ? { payload: CASES[name], src: '10.77.1.2', dst: '10.77.1.1', srcPort: 7400, dstPort: 40_000 }
      : { payload: CASES[name] },
  )
  writePcap(path, datagrams)
}

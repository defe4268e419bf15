import {
  Heartbeat,
  Image,
  Imu,
  type MessageType,
  NavSatFix,
  Scalar,
  Temperature,
  toUint64,
} from '@shoal/schema'

export interface Sample {
  topic: string
  type: MessageType
  message: Record<string, unknown>
}

const header = (sourceId: string) => ({
  sourceId,
  frameId: 'base_link',
  stampNs: toUint64(1_700_000_000_123_456_789n),
})

/** One message of every type, on its default topic (Scalar has none: `scalar/pressure`). */
export const SAMPLES: readonly Sample[] = [
  {
    topic: 'imu',
    type: Imu,
    message: {
      header: header('imu0'),
      orientation: { x: 0, y: 0, z: 0.6, w: 0.8 },
      angularVelocity: { x: 0.01, y: -0.02, z: 0.5 },
      linearAcceleration: { x: 0.1, y: 0.2, z: 9.81 },
      orientationCovariance: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    },
  },
  {
    topic: 'gps',
    type: NavSatFix,
    message: { header: header('gps0'), latitude: 48.858844, longitude: 2.294351, altitude: 35.5, status: 2 },
  },
  {
    topic: 'temperature',
    type: Temperature,
    message: { header: header('t0'), celsius: 21.5, variance: 0.01 },
  },
  {
    topic: 'scalar/pressure',
    type: Scalar,
    message: { header: header('p0'), value: 101.325, unit: 'kPa', quantity: 'pressure' },
  },
  {
    topic: 'camera',
    type: Image,
    // 300 kB: fragmented into hundreds of datagrams and reassembled.
    message: {
      header: header('cam0'),
      width: 400,
      height: 250,
      encoding: 'rgb8',
      step: 1200,
      data: Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) & 0xff),
    },
  },
  {
    topic: 'heartbeat',
    type: Heartbeat,
    message: {
      header: header('node0'),
      uptimeNs: toUint64(12_000_000_000),
      state: 2,
      detail: 'ok',
      sequence: 7,
    },
  },
]

/** What `toObject` gives for the message after it crossed the wire. */
export function expectedObject(sample: Sample): Record<string, unknown> {
  return sample.type.toObject(sample.type.decode(sample.type.encode(sample.type.create(sample.message))))
}

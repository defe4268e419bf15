/**
 * Simulated sensors: plausible IMU, GPS, temperature and camera messages as functions of time, so
 * a receiver shows numbers that look like a slowly turning, gently rocking vehicle driving in a
 * circle on a mild day. Values are noisy like real sensors; nothing here touches the network.
 */
import { Image, Imu, type MessageType, NavSatFix, nowStampNs, shoal, Temperature } from '@shoal/schema'
import { CAMERA_BYTES_PER_PIXEL, type Dimensions, type Sensor } from './config.js'

export interface SimulatedSensor<T = unknown> {
  readonly name: Sensor
  /** The topic it publishes on: its name, which `defaultTopics` maps to its type. */
  readonly topic: string
  readonly type: MessageType<T>
  /** The reading at `t` seconds after the start, stamped with the current wall-clock time. */
  sample(t: number): T
}

export interface SensorOptions {
  /** `Header.sourceId` of every message. */
  readonly sourceId: string
  readonly cameraSize: Dimensions
  /** Uniform [0, 1) numbers for the noise; `Math.random` unless given (tests pass a seeded one). */
  readonly random?: () => number
}

/** Standard gravity, m/s². */
const GRAVITY = 9.80665
/** Where the simulated vehicle drives its circle (WGS 84 degrees, ellipsoidal metres). */
const GPS_ORIGIN = { latitude: 47.3769, longitude: 8.5417, altitude: 455 }
const GPS_CIRCLE_RADIUS_M = 25
const GPS_SPEED_M_S = 1.5
/** Metres per degree of latitude (mean). */
const METRES_PER_DEGREE = 111_320
const GPS_SIGMA_HORIZONTAL_M = 1.2
const GPS_SIGMA_VERTICAL_M = 2.5
const YAW_RATE_RAD_S = GPS_SPEED_M_S / GPS_CIRCLE_RADIUS_M
const GYRO_SIGMA_RAD_S = 0.003
const ACCEL_SIGMA_M_S2 = 0.05
const ORIENTATION_SIGMA_RAD = 0.01
const TEMPERATURE_MEAN_C = 21.5
const TEMPERATURE_SWING_C = 0.8
const TEMPERATURE_PERIOD_S = 600
const TEMPERATURE_SIGMA_C = 0.05

/** Frame ids (`Header.frameId`): the coordinate frame of each sensor's data. */
export const FRAME_IDS: Readonly<Record<Sensor, string>> = {
  imu: 'imu_link',
  gps: 'gps_antenna',
  temperature: '', // no spatial meaning
  camera: 'camera_optical',
}

export function createSensor(name: Sensor, options: SensorOptions): SimulatedSensor {
  const noise = gaussian(options.random ?? Math.random)
  const header = () => ({ sourceId: options.sourceId, frameId: FRAME_IDS[name], stampNs: nowStampNs() })
  switch (name) {
    case 'imu':
      return sensor(name, Imu, (t) => imuSample(t, noise, header()))
    case 'gps':
      return sensor(name, NavSatFix, (t) => gpsSample(t, noise, header()))
    case 'temperature':
      return sensor(name, Temperature, (t) => ({
        header: header(),
        celsius:
          TEMPERATURE_MEAN_C +
          TEMPERATURE_SWING_C * Math.sin((2 * Math.PI * t) / TEMPERATURE_PERIOD_S) +
          noise(TEMPERATURE_SIGMA_C),
        variance: TEMPERATURE_SIGMA_C ** 2,
      }))
    case 'camera':
      return cameraSensor(options.cameraSize, header)
  }
}

function sensor<T>(name: Sensor, type: MessageType<T>, sample: (t: number) => T): SimulatedSensor<T> {
  return { name, topic: name, type, sample }
}

type Header = { sourceId: string; frameId: string; stampNs: ReturnType<typeof nowStampNs> }
type Noise = (sigma: number) => number

/** Roll and pitch rock gently; yaw turns at the rate of the GPS circle. */
function imuSample(t: number, noise: Noise, header: Header): shoal.v1.Imu.$Properties {
  const roll = 0.02 * Math.sin(2 * Math.PI * 0.5 * t)
  const pitch = 0.015 * Math.sin(2 * Math.PI * 0.3 * t)
  const yaw = wrapAngle(YAW_RATE_RAD_S * t)
  const rollRate = 0.02 * 2 * Math.PI * 0.5 * Math.cos(2 * Math.PI * 0.5 * t)
  const pitchRate = 0.015 * 2 * Math.PI * 0.3 * Math.cos(2 * Math.PI * 0.3 * t)
  return {
    header,
    orientation: quaternionFromEuler(roll, pitch, yaw),
    orientationCovariance: diagonal(ORIENTATION_SIGMA_RAD ** 2),
    angularVelocity: {
      x: rollRate + noise(GYRO_SIGMA_RAD_S),
      y: pitchRate + noise(GYRO_SIGMA_RAD_S),
      z: YAW_RATE_RAD_S + noise(GYRO_SIGMA_RAD_S),
    },
    angularVelocityCovariance: diagonal(GYRO_SIGMA_RAD_S ** 2),
    // Gravity seen in the tilted body frame, plus the centripetal pull of the circle.
    linearAcceleration: {
      x: -GRAVITY * Math.sin(pitch) + noise(ACCEL_SIGMA_M_S2),
      y:
        GRAVITY * Math.sin(roll) * Math.cos(pitch) + GPS_SPEED_M_S * YAW_RATE_RAD_S + noise(ACCEL_SIGMA_M_S2),
      z: GRAVITY * Math.cos(roll) * Math.cos(pitch) + noise(ACCEL_SIGMA_M_S2),
    },
    linearAccelerationCovariance: diagonal(ACCEL_SIGMA_M_S2 ** 2),
  }
}

function gpsSample(t: number, noise: Noise, header: Header): shoal.v1.NavSatFix.$Properties {
  const angle = YAW_RATE_RAD_S * t
  const north = GPS_CIRCLE_RADIUS_M * Math.sin(angle) + noise(GPS_SIGMA_HORIZONTAL_M)
  const east = GPS_CIRCLE_RADIUS_M * (1 - Math.cos(angle)) + noise(GPS_SIGMA_HORIZONTAL_M)
  const h = GPS_SIGMA_HORIZONTAL_M ** 2
  return {
    header,
    latitude: GPS_ORIGIN.latitude + north / METRES_PER_DEGREE,
    longitude:
      GPS_ORIGIN.longitude + east / (METRES_PER_DEGREE * Math.cos((GPS_ORIGIN.latitude * Math.PI) / 180)),
    altitude: GPS_ORIGIN.altitude + noise(GPS_SIGMA_VERTICAL_M),
    positionCovariance: [h, 0, 0, 0, h, 0, 0, 0, GPS_SIGMA_VERTICAL_M ** 2],
    positionCovarianceType: shoal.v1.NavSatFix.CovarianceType.COVARIANCE_TYPE_DIAGONAL_KNOWN,
    status: shoal.v1.NavSatFix.FixStatus.FIX_STATUS_FIX,
  }
}

/**
 * `rgb8` images of a colour gradient that scrolls down one row per frame. The pattern is drawn once,
 * twice as tall as a frame, and each frame is a view into it: no per-frame pixel work.
 */
function cameraSensor(size: Dimensions, header: () => Header): SimulatedSensor<shoal.v1.Image.$Properties> {
  const { width, height } = size
  const step = width * CAMERA_BYTES_PER_PIXEL
  const pattern = new Uint8Array(step * height * 2)
  for (let y = 0; y < height * 2; y++) {
    const row = y % height
    for (let x = 0; x < width; x++) {
      const at = y * step + x * CAMERA_BYTES_PER_PIXEL
      pattern[at] = Math.floor((x * 256) / width)
      pattern[at + 1] = Math.floor((row * 256) / height)
      pattern[at + 2] = (x + row) & 0xff
    }
  }
  let frame = 0
  return sensor('camera', Image, () => {
    const top = (height - (frame++ % height)) % height
    return {
      header: header(),
      width,
      height,
      encoding: 'rgb8',
      isBigendian: false,
      step,
      data: pattern.subarray(top * step, (top + height) * step),
    }
  })
}

/** Hamilton quaternion of intrinsic Z-Y-X (yaw, pitch, roll) rotations. */
export function quaternionFromEuler(
  roll: number,
  pitch: number,
  yaw: number,
): { x: number; y: number; z: number; w: number } {
  const [cr, sr] = [Math.cos(roll / 2), Math.sin(roll / 2)]
  const [cp, sp] = [Math.cos(pitch / 2), Math.sin(pitch / 2)]
  const [cy, sy] = [Math.cos(yaw / 2), Math.sin(yaw / 2)]
  return {
    w: cr * cp * cy + sr * sp * sy,
    x: sr * cp * cy - cr * sp * sy,
    y: cr * sp * cy + sr * cp * sy,
    z: cr * cp * sy - sr * sp * cy,
  }
}

function wrapAngle(angle: number): number {
  return Math.atan2(Math.sin(angle), Math.cos(angle))
}

/** A row-major 3×3 covariance with `variance` on the diagonal. */
function diagonal(variance: number): number[] {
  return [variance, 0, 0, 0, variance, 0, 0, 0, variance]
}

/** Normal noise with standard deviation `sigma` (Box–Muller). */
function gaussian(random: () => number): Noise {
  return (sigma) => {
    const u = 1 - random() // (0, 1]: log(0) is -Infinity
    return sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random())
  }
}

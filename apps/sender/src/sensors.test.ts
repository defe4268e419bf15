import { defaultTopics, uint64ToBigInt } from '@shoal/schema'
import { describe, expect, it } from 'vitest'
import { SENSORS } from './config.js'
import { createSensor, FRAME_IDS, quaternionFromEuler } from './sensors.js'

/** A seeded uniform generator (mulberry32), so the noise is the same every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

const options = { sourceId: 'sim', cameraSize: { width: 32, height: 4 }, random: seeded(7) }
// biome-ignore lint/suspicious/noExplicitAny: readings of different types, checked field by field
const reading = (name: (typeof SENSORS)[number], t: number): any => {
  const sensor = createSensor(name, options)
  return sensor.type.decode(sensor.type.encode(sensor.sample(t)))
}

describe('simulated sensors', () => {
  it.each(SENSORS)('%s publishes its default topic type with a stamped header', (name) => {
    const sensor = createSensor(name, options)
    expect(sensor.topic).toBe(name)
    expect(defaultTopics.typeFor(sensor.topic)).toBe(sensor.type)
    const before = BigInt(Date.now()) * 1_000_000n
    const message = reading(name, 1.5)
    expect(message.header.sourceId).toBe('sim')
    expect(message.header.frameId).toBe(FRAME_IDS[name])
    expect(uint64ToBigInt(message.header.stampNs)).toBeGreaterThanOrEqual(before)
  })

  it('imu: a unit quaternion, about 1 g, a slow yaw rate', () => {
    for (const t of [0, 0.005, 3.7, 120]) {
      const { orientation: q, linearAcceleration: a, angularVelocity: w } = reading('imu', t)
      expect(Math.hypot(q.x, q.y, q.z, q.w)).toBeCloseTo(1, 9)
      expect(Math.hypot(a.x, a.y, a.z)).toBeGreaterThan(9.3)
      expect(Math.hypot(a.x, a.y, a.z)).toBeLessThan(10.3)
      expect(Math.abs(w.z)).toBeLessThan(0.2)
    }
    expect(reading('imu', 0).linearAccelerationCovariance).toHaveLength(9)
  })

  it('gps: a fix that circles its origin within tens of metres', () => {
    const first = reading('gps', 0)
    const later = reading('gps', 30)
    expect(first.status).toBe(2) // FIX_STATUS_FIX
    expect(first.positionCovariance).toHaveLength(9)
    for (const fix of [first, later]) {
      expect(Math.abs(fix.latitude - 47.3769) * 111_320).toBeLessThan(70)
      expect(Math.abs(fix.altitude - 455)).toBeLessThan(20)
    }
    expect(later.latitude).not.toBe(first.latitude)
  })

  it('temperature: room temperature with a small variance', () => {
    for (const t of [0, 150, 450]) {
      const { celsius, variance } = reading('temperature', t)
      expect(celsius).toBeGreaterThan(19)
      expect(celsius).toBeLessThan(24)
      expect(variance).toBeGreaterThan(0)
    }
  })

  it('camera: rgb8 images of the configured size whose rows scroll from frame to frame', () => {
    const camera = createSensor('camera', options)
    const frames = [0, 1, 2, 3, 4].map((i) =>
      camera.type.decode(camera.type.encode(camera.sample(i / 10))),
    ) as Array<{
      width: number
      height: number
      step: number
      encoding: string
      data: Uint8Array
    }>
    for (const image of frames) {
      expect(image).toMatchObject({ width: 32, height: 4, step: 96, encoding: 'rgb8' })
      expect(image.data).toHaveLength(96 * 4)
    }
    const row = (image: { data: Uint8Array }, y: number) =>
      Buffer.from(image.data.subarray(y * 96, (y + 1) * 96))
    expect(row(frames[1]!, 1)).toEqual(row(frames[0]!, 0)) // moved down one row
    expect(row(frames[0]!, 0)).not.toEqual(row(frames[0]!, 1))
    expect(Buffer.from(frames[4]!.data)).toEqual(Buffer.from(frames[0]!.data)) // period = height
  })

  it('quaternionFromEuler: yaw alone turns about z', () => {
    const q = quaternionFromEuler(0, 0, Math.PI / 2)
    expect(q.w).toBeCloseTo(Math.SQRT1_2)
    expect(q.z).toBeCloseTo(Math.SQRT1_2)
    expect(q.x).toBeCloseTo(0)
    expect(q.y).toBeCloseTo(0)
  })
})

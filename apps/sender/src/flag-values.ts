/**
 * The values of shoal-send's own flags: sensors and their rates, camera sizes, batching linger and
 * expected receivers, each a schema that says what it expects when a value is wrong.
 */
import { isIP } from 'node:net'
import { MAX_LINGER_MS } from '@shoal/transport'
import { z } from 'zod'

export const SENSORS = ['imu', 'gps', 'temperature', 'camera'] as const
export type Sensor = (typeof SENSORS)[number]

/** Simulated sensors' default rates, in frames per second. */
export const DEFAULT_RATES: Readonly<Record<Sensor, number>> = {
  imu: 200,
  gps: 10,
  temperature: 1,
  camera: 10,
}

export const DEFAULT_GROUP_V4 = '239.255.0.1'
/** The IPv6 counterpart of 239.255.0.1: a transient (T flag), site-local (scope 5) group. */
export const DEFAULT_GROUP_V6 = 'ff15::1'

export const MAX_RATE_HZ = 10_000

/** `imu=200`: one sensor's rate in Hz. */
export const sensorRate = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const match = /^([a-z]+)=(\d+(?:\.\d+)?)$/.exec(value)
    const sensor = match?.[1]
    const hz = Number(match?.[2])
    if (match === null || !SENSORS.includes(sensor as Sensor) || !(hz > 0 && hz <= MAX_RATE_HZ)) {
      ctx.addIssue({
        code: 'custom',
        message: `expected <sensor>=<hz> with a sensor of ${SENSORS.join(', ')} and 0 < hz <= ${MAX_RATE_HZ}, e.g. imu=200`,
      })
      return z.NEVER
    }
    return { sensor: sensor as Sensor, hz }
  })

export interface Dimensions {
  readonly width: number
  readonly height: number
}

/** `640x480`. */
export const dimensions = z
  .string()
  .trim()
  .transform((value, ctx): Dimensions => {
    const match = /^(\d{1,5})x(\d{1,5})$/i.exec(value)
    const width = Number(match?.[1])
    const height = Number(match?.[2])
    if (match === null || width < 1 || height < 1 || width > 8192 || height > 8192) {
      ctx.addIssue({ code: 'custom', message: 'expected WIDTHxHEIGHT, each 1-8192, e.g. 640x480' })
      return z.NEVER
    }
    return { width, height }
  })

/** Bytes per pixel of the simulated camera's `rgb8` images. */
export const CAMERA_BYTES_PER_PIXEL = 3

/** Room for an Image message's fields other than its pixels (header, sizes, encoding). */
export const CAMERA_MESSAGE_OVERHEAD = 1024

/**
 * `0.5`, `0.5ms`, `1ms`: how long a small frame waits for others to share its datagram, in ms,
 * 0 to {@link MAX_LINGER_MS} (the transport's limit). 0 turns batching off.
 */
export const linger = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const match = /^(\d+(?:\.\d+)?)\s*(ms)?$/.exec(value)
    const ms = Number(match?.[1])
    if (match === null || !(ms >= 0 && ms <= MAX_LINGER_MS)) {
      ctx.addIssue({
        code: 'custom',
        message: `expected 0 to ${MAX_LINGER_MS} ms, e.g. 0.5ms; 0 sends every frame in its own datagram`,
      })
      return z.NEVER
    }
    return ms
  })

/**
 * `--expect NAME` or `NAME@ADDRESS`: a receiver that must acknowledge, and optionally the one
 * address its acknowledgements count from (see the Security section of the README).
 */
export const expectedReceiver = z
  .string()
  .trim()
  .refine(
    (value) => {
      const at = value.lastIndexOf('@')
      const name = at < 0 ? value : value.slice(0, at)
      const address = at < 0 ? undefined : value.slice(at + 1).replace(/^\[(.*)\]$/, '$1')
      return /^[A-Za-z0-9._-]{1,64}$/.test(name) && (address === undefined || isIP(address) !== 0)
    },
    {
      error:
        "expected NAME or NAME@ADDRESS: a receiver's --name (letters, digits, '.', '_', '-') and an IP address",
    },
  )

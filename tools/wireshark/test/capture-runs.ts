/**
 * The traffic capture.test.ts dissects: three runs of the built shoal-send (host a) and shoal-recv
 * (host b), each on its own port, and dumpcap on b's interface. See capture.test.ts.
 */
import { type Network, type WatchedProcess, watchProcess } from '@shoal/netns'
import { expect } from 'vitest'
import { RECV, SEND, sessionOf, startApp, WAIT_MS } from './apps.js'

export const PORT = { plain: 7401, batched: 7402, lossy: 7403 } as const
const GROUP = '239.255.74.1'
/** The part of its datagrams host b drops in the lossy run. */
const LOSS = 0.25
/** How long the lossy run's sender runs. */
const LOSSY_DURATION = '2s'
export const BATCHED_FRAMES = 20
/** dumpcap's kernel buffer, MiB (its default, 2, can drop a burst of fragments under load). */
const CAPTURE_BUFFER_MIB = 32
/** Between probe datagrams while dumpcap starts. */
const PROBE_INTERVAL_MS = 50
/** The camera image of the plain run: 64 × 48 rgb8, about 7 fragments on a 1500-byte MTU. */
export const IMAGE = { width: 64, height: 48 }
export const IMU_Z = [9.75, 10.25, 10.75]
export const GPS_LATITUDE = [47.375, 47.5]

const imuLine = (z: number) =>
  JSON.stringify({
    topic: 'imu',
    message: { header: { frameId: 'imu_link' }, linearAcceleration: { x: 0.5, y: -0.25, z } },
  })
const gpsLine = (latitude: number) =>
  JSON.stringify({
    topic: 'gps',
    message: { header: { frameId: 'gps' }, latitude, longitude: 8.5, altitude: 455.25 },
  })
const pixels = Buffer.from(
  Uint8Array.from({ length: IMAGE.width * IMAGE.height * 3 }, (_, i) => (i * 7) % 256),
)
const cameraMessage = { header: { frameId: 'cam' }, ...IMAGE, encoding: 'rgb8', step: IMAGE.width * 3 }
const cameraLine = JSON.stringify({
  topic: 'camera',
  message: { ...cameraMessage, data: pixels.toString('base64') },
})

export interface Run {
  readonly session: number
  /** What shoal-recv printed: one JSON line per frame. */
  readonly received: Record<string, unknown>[]
}

const endpoint = (port: number) => ['--group', GROUP, '--port', String(port)]

/** JSON lines unbatched, with acks: IMU and GPS frames with known values and a camera image. */
export async function plainRun(net: Network): Promise<Run> {
  const [a, b] = [net.host('a'), net.host('b')]
  const ack = ['--ack', '--name', 'rx-b']
  const recv = startApp(b, RECV, [
    '--interface',
    b.ipv4(),
    ...endpoint(PORT.plain),
    ...ack,
    '--output',
    'json',
  ])
  await recv.waitForLog('ready')
  const lines = [...IMU_Z.map(imuLine), ...GPS_LATITUDE.map(gpsLine), cameraLine]
  const input = ['--input', '-', '--batch-linger', '0', '--expect', `rx-b@${b.ipv4()}`]
  const send = startApp(
    a,
    SEND,
    ['--interface', a.ipv4(), ...endpoint(PORT.plain), ...input],
    `${lines.join('\n')}\n`,
  )
  const session = await sessionOf(send)
  expect((await send.process.waitForExit(WAIT_MS)).code).toBe(0)
  const all = () => (recv.lines().length >= lines.length ? true : undefined)
  await recv.process.waitUntil('every frame', all, WAIT_MS)
  expect((await recv.stop()).code).toBe(0)
  return { session, received: recv.lines() }
}

/** JSON lines batched: IMU frames whose z is their sequence + 1 (a zero is not on the wire at all). */
export async function batchedRun(net: Network): Promise<Run> {
  const [a, b] = [net.host('a'), net.host('b')]
  const recv = startApp(b, RECV, ['--interface', b.ipv4(), ...endpoint(PORT.batched), '--output', 'json'])
  await recv.waitForLog('ready')
  const lines = Array.from({ length: BATCHED_FRAMES }, (_, i) => imuLine(i + 1))
  const args = ['--interface', a.ipv4(), ...endpoint(PORT.batched), '--input', '-']
  const send = startApp(a, SEND, args, `${lines.join('\n')}\n`)
  const session = await sessionOf(send)
  expect((await send.process.waitForExit(WAIT_MS)).code).toBe(0)
  const all = () => (recv.lines().length >= BATCHED_FRAMES ? true : undefined)
  await recv.process.waitUntil('every frame', all, WAIT_MS)
  expect((await recv.stop()).code).toBe(0)
  return { session, received: recv.lines() }
}

/** Simulated IMU and camera while host b drops {@link LOSS} of what it receives: b repairs. */
export async function lossyRun(net: Network): Promise<Run> {
  const [a, b] = [net.host('a'), net.host('b')]
  const recv = startApp(b, RECV, ['--interface', b.ipv4(), ...endpoint(PORT.lossy), '--output', 'none'])
  await recv.waitForLog('ready')
  await net.injectLoss('b', LOSS)
  const sensors = ['--sensors', 'imu,camera', '--rate', 'imu=400,camera=20', '--camera-size', '160x120']
  const args = ['--interface', a.ipv4(), ...endpoint(PORT.lossy), ...sensors, '--duration', LOSSY_DURATION]
  const send = startApp(a, SEND, args)
  const session = await sessionOf(send)
  expect((await send.process.waitForExit(WAIT_MS)).code).toBe(0)
  await net.clearLoss('b')
  expect((await recv.stop()).code).toBe(0)
  return { session, received: [] }
}

/** A UDP datagram from host a to b's discard port: proof that the capture on b is running. */
const PROBE = `const s = require('node:dgram').createSocket('udp4'); s.send('probe', 9, process.argv[1], () => s.close())`

/**
 * dumpcap on host b's interface, once it is capturing: it prints "Capturing on" before it opens the
 * interface, so probe datagrams go out until it counts one.
 */
export async function startCapture(net: Network, pcap: string): Promise<WatchedProcess> {
  const [a, b] = [net.host('a'), net.host('b')]
  const args = ['-i', b.ifname(), '-B', String(CAPTURE_BUFFER_MIB), '-f', 'udp', '-w', pcap]
  const capture = watchProcess(b.spawn('dumpcap', args), { label: 'dumpcap on b' })
  const deadline = Date.now() + WAIT_MS
  while (!/Packets: [1-9]/.test(capture.stderr())) {
    if (Date.now() > deadline) throw new Error(`dumpcap did not start capturing: ${capture.stderr()}`)
    await a.run(process.execPath, ['-e', PROBE, b.ipv4()])
    await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS))
  }
  return capture
}

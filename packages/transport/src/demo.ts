/**
 * The transport demo: a publisher and a subscriber on loopback (interface 127.0.0.1, so nothing
 * leaves the host) exchanging simulated sensor frames for a few seconds, printing decoded frames
 * and a stats line. Run: `pnpm demo`.
 */
import { Heartbeat, Image, Imu, NavSatFix, nowStampNs, registry, Temperature } from '@shoal/schema'
import { createPublisher, createSubscriber } from './index.js'

const group = '239.255.0.1'
const port = 7400
const seconds = Number(process.env.SHOAL_DEMO_SECONDS ?? 5)

const subscriber = await createSubscriber({ group, port, interface: '127.0.0.1' })
const publisher = await createPublisher({ group, port, interface: '127.0.0.1', ttl: 1 })
console.log(
  `demo: ${group}:${port} on ${publisher.info.interface} (${publisher.info.interfaceAddress}), ttl ${publisher.info.ttl}, ` +
    `datagram budget ${publisher.info.budget} B, session ${publisher.sessionId.toString(16)}; ${seconds} s`,
)

let printed = 0
subscriber.on('frame', (frame) => {
  // Print a sample of frames: every camera and GPS frame, 1 in 50 IMU frames.
  if (frame.topic === 'imu' && frame.sequence % 50 !== 0) return
  printed++
  const m = frame.message as Record<string, unknown>
  const body =
    frame.topic === 'camera'
      ? `${m.width}x${m.height} ${m.encoding}, ${(m.data as Uint8Array).length} bytes`
      : JSON.stringify(summarise(registry.byName(frame.typeName ?? '')?.toObject(m) ?? m))
  console.log(`${frame.topic.padEnd(11)} #${String(frame.sequence).padEnd(5)} ${frame.typeName}  ${body}`)
})

function summarise(m: Record<string, unknown>): Record<string, unknown> {
  const { header: _header, ...rest } = m
  return rest
}

const header = (frameId: string) => ({ sourceId: 'demo', frameId, stampNs: nowStampNs() })
const timers = [
  setInterval(() => {
    const t = Date.now() / 1000
    void publisher.publish('imu', Imu, {
      header: header('imu_link'),
      angularVelocity: { x: Math.sin(t), y: 0, z: 0.1 },
      linearAcceleration: { x: 0, y: 0, z: 9.81 },
      orientation: { w: 1 },
    })
  }, 5),
  setInterval(() => {
    void publisher.publish('gps', NavSatFix, {
      header: header('gps'),
      latitude: 48.137 + Math.random() * 1e-5,
      longitude: 11.575,
      altitude: 519,
    })
  }, 100),
  setInterval(
    () => void publisher.publish('temperature', Temperature, { header: header('board'), celsius: 41.5 }),
    1000,
  ),
  setInterval(() => void publisher.publish('heartbeat', Heartbeat, { header: header('') }), 1000),
  setInterval(() => {
    const data = new Uint8Array(640 * 480).fill(Date.now() & 0xff)
    void publisher.publish('camera', Image, {
      header: header('camera'),
      width: 640,
      height: 480,
      encoding: 'mono8',
      step: 640,
      data,
    })
  }, 200),
]

const statsLine = () => {
  const r = subscriber.stats()
  const frames = r.received.reduce((n, s) => n + s.frames, 0)
  const gaps = r.received.reduce((n, s) => n + s.gaps, 0)
  const drops = Object.values(r.drops).reduce((n, d) => n + (d ?? 0), 0)
  return `stats: ${frames} frames received, ${gaps} lost (gaps), ${drops} dropped; ${r.datagramsIn} datagrams`
}
const stats = setInterval(() => console.log(statsLine()), 1000)

const stop = async () => {
  for (const t of timers) clearInterval(t)
  clearInterval(stats)
  await new Promise((resolve) => setTimeout(resolve, 200))
  const sent = publisher.stats().sent.reduce((n, s) => n + s.frames, 0)
  console.log(`${statsLine()}\nsummary: sent ${sent}, printed ${printed}`)
  await publisher.close()
  await subscriber.close()
}
setTimeout(stop, seconds * 1000)
process.once('SIGINT', stop)

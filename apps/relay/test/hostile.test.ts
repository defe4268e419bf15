/**
 * An outsider on the relay's segment with a plain UDP socket (bound to 127.0.0.2: on Linux every
 * 127/8 address is this host's, so it is a second host on loopback as far as the relay can tell)
 * sends well-formed Shoal frames at relays: into a udp:// input that does not take it, and with a
 * real publisher's session id to take the way back for acks. Every socket is on 127.0.0.0/8.
 */
import { fileURLToPath } from 'node:url'
import { Imu, nowStampNs } from '@shoal/schema'
import { parsePrometheusText, requireBuilt, sampleValue, startCli } from '@shoal/service/testing'
import {
  createPublisher,
  createSubscriber,
  type Publisher,
  type ReceivedFrame,
  type Subscriber,
} from '@shoal/transport'
import { encodeHeartbeats, encodeTopic, encodeWholeFrame, Flag } from '@shoal/transport/wire'
import { afterEach, describe, expect, it } from 'vitest'
import { OPEN_UDP_INPUT_WARNING } from '../src/allow-list.js'
import type { Relay } from '../src/relay.js'
import { plainSocket } from './fixtures/plain-socket.mjs'
import { startRelay, uniqueGroup, uniquePort, WAIT_MS, waitFor } from './support.js'

const BIN = fileURLToPath(new URL('../dist/shoal-relay.js', import.meta.url))
const OUTSIDER_ADDRESS = '127.0.0.2'
/** The outsider's own session id, for frames it makes up. */
const FORGED_SESSION = 0x0bad_f00d

const open: Array<{ close(): Promise<void> | void }> = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()))
})
async function track<T extends Publisher | Subscriber | Relay>(p: Promise<T>): Promise<T> {
  const s = await p
  open.push(s)
  return s
}

const imu = (i: number) => ({ header: { sourceId: 'imu0', frameId: `${i}`, stampNs: nowStampNs() } })

/** A whole DATA frame as a publisher writes it: a real type and message, a valid CRC. */
function forged(session: number, sequence: number, { topic = 'imu', flags = 0 } = {}): Uint8Array {
  const message = Imu.encode(imu(sequence))
  return encodeWholeFrame(flags, 0, session, sequence, Imu.fingerprint, encodeTopic(topic), message)
}

/** A plain UDP socket on 127.0.0.2 that keeps count of what comes back to it. */
async function outsider() {
  const socket = await plainSocket(OUTSIDER_ADDRESS)
  open.push(socket)
  return socket
}

/** A subscriber on a loopback group, keeping every frame. */
async function sink(group: { group: string; port: number }, options: { ack?: boolean; name?: string } = {}) {
  const subscriber = await track(createSubscriber({ ...group, interface: '127.0.0.1', ...options }))
  const frames: ReceivedFrame[] = []
  subscriber.on('frame', (f: ReceivedFrame) => frames.push(f))
  return frames
}

/** `GET /metrics` until `done` holds of it (bounded by WAIT_MS); the last scrape. */
async function scrapeUntil(
  url: string,
  done: (families: ReturnType<typeof parsePrometheusText>) => boolean,
  what: string,
) {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const families = parsePrometheusText(await (await fetch(`${url}/metrics`)).text())
    if (done(families)) return families
    if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('a udp:// input takes only its peers', () => {
  it('the bundle with allow=127.0.0.1: 100 frames from 127.0.0.2 are not forwarded, and counted as not-allowed', async () => {
    requireBuilt(BIN)
    const port = uniquePort()
    const b = uniqueGroup()
    const input = `udp://127.0.0.1:${port}?allow=127.0.0.1`
    const running = startCli(BIN, ['--in', input, '--out', b.route, '--http', '0'])
    try {
      const [line] = await running.waitFor(/^\{.*"msg":"forwarding".*$/m)
      expect(JSON.parse(line)).toMatchObject({ inputs: [{ route: input, allow: ['127.0.0.1'] }] })
      const [, url] = await running.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/)
      await running.waitFor(/"msg":"ready"/)
      const frames = await sink(b)

      const attacker = await outsider()
      for (let i = 0; i < 100; i++) await attacker.send(forged(FORGED_SESSION, i), port)
      const peer = await track(createPublisher({ mode: 'unicast', address: '127.0.0.1', port }))
      for (let i = 0; i < 20; i++) await peer.publish('imu', Imu, imu(i))

      const families = await scrapeUntil(
        `${url}`,
        (f) => sampleValue(f, 'shoal_relay_received_total') === 120,
        'the relay to count all 120 datagrams',
      )
      await waitFor(() => frames.length === 20, "the peer's 20 frames on B")
      expect(frames.every((f) => f.source.sessionId === peer.sessionId)).toBe(true)
      expect(sampleValue(families, 'shoal_relay_received_total')).toBe(120)
      expect(sampleValue(families, 'shoal_relay_forwarded_total')).toBe(20)
      expect(sampleValue(families, 'shoal_relay_dropped_total', { reason: 'not-allowed' })).toBe(100)

      running.child.kill('SIGTERM')
      const result = await running.exited
      expect(result.code).toBe(0)
      expect(result.stderr).toMatch(
        /: received=120 forwarded=20 dropped=100 not-allowed=100 loop=0 filtered=0 max-hops=0 duplicate=0 invalid=0 /m,
      )
      expect(result.stderr).not.toContain('takes datagrams from any host')
    } finally {
      running.child.kill('SIGKILL')
    }
  })

  it('without allow=, a tunnel end takes the host its unicast output sends to, and no other', async () => {
    const port = uniquePort()
    const back = uniquePort()
    const relay = await track(
      startRelay(['--in', `udp://127.0.0.1:${port}`, '--out', `unicast://127.0.0.1:${back}`]),
    )
    const attacker = await outsider()
    for (let i = 0; i < 10; i++) await attacker.send(forged(FORGED_SESSION, i), port)
    const peer = await track(createPublisher({ mode: 'unicast', address: '127.0.0.1', port }))
    for (let i = 0; i < 5; i++) await peer.publish('imu', Imu, imu(i))
    await waitFor(() => relay.counters().received === 15, 'all 15 datagrams')
    expect(relay.counters()).toMatchObject({ forwarded: 5, dropped: { 'not-allowed': 10 } })
    expect(relay.describe()).toMatchObject({
      inputs: [{ allow: ['127.0.0.1'], allowFrom: 'unicast outputs' }],
    })
    expect(relay.log.text).not.toContain(OPEN_UDP_INPUT_WARNING)
  })

  it('a udp:// input that takes any host says so at start, naming the fix', async () => {
    const port = uniquePort()
    const relay = await track(startRelay(['--in', `udp://127.0.0.1:${port}`, '--out', uniqueGroup().route]))
    const warning = relay.log.json().find((line) => line.msg === OPEN_UDP_INPUT_WARNING)
    expect(warning).toMatchObject({ level: 40, route: `udp://127.0.0.1:${port}`, port })
    expect(OPEN_UDP_INPUT_WARNING).toContain('allow=')
    expect(relay.describe()).toMatchObject({ inputs: [{ allow: 'any host' }] })
  })
})

describe('the way back for acks cannot be taken', () => {
  it('an outsider sending frames with a publisher’s session id gets none of its acks', async () => {
    const a = uniqueGroup()
    const b = uniqueGroup()
    const relay = await track(startRelay(['--in', a.route, '--out', b.route]))
    await sink(b, { ack: true, name: 'beyond-the-relay' })
    const publisher = await track(createPublisher({ ...a, interface: '127.0.0.1' }))
    const attacker = await outsider()
    const count = 50
    for (let i = 0; i < count; i++) {
      const sent = await publisher.publish('imu', Imu, imu(i), { ack: true })
      // Read off the wire: the session id. The forged frames ask for acks on a topic of their own,
      // so they do not disturb the receiver's accounting of the publisher's imu stream.
      const frame = forged(publisher.sessionId, i, { topic: 'forged', flags: Flag.ACK_REQUEST })
      await attacker.send(frame, a.port, a.group)
      const report = await publisher.waitForAcks(sent, { timeoutMs: 5_000, expected: ['beyond-the-relay'] })
      expect(report.missing).toEqual([])
    }
    await waitFor(() => relay.counters().ackRoutes.conflicts === count, 'every forged frame counted')
    expect(attacker.received).toEqual([])
    expect(relay.counters()).toMatchObject({
      forwarded: 2 * count,
      ackRoutes: { conflicts: count, moved: 0, refused: 0 },
      tables: { 'ack-routes': { entries: 1, evicted: 0 } },
    })
  })
})

describe('forged frames cannot take a stream’s place through a relay', () => {
  it('frames claiming a publisher’s next 100 sequence numbers first: every real frame still reaches the far side, counted exactly', async () => {
    const a = uniqueGroup()
    const b = uniqueGroup()
    const relay = await track(startRelay(['--in', a.route, '--out', b.route]))
    const far = await track(createSubscriber({ ...b, interface: '127.0.0.1' }))
    const frames: ReceivedFrame[] = []
    far.on('frame', (f: ReceivedFrame) => frames.push(f))
    const publisher = await track(createPublisher({ ...a, interface: '127.0.0.1' }))
    const attacker = await outsider()
    await publisher.publish('imu', Imu, imu(0))
    await waitFor(() => frames.length === 1, 'the first frame')
    // The session read off the wire; the next 100 sequence numbers claimed before the publisher.
    const fake = Imu.encode({ header: { sourceId: 'forger' } })
    for (let i = 1; i <= 100; i++) {
      const frame = encodeWholeFrame(0, 0, publisher.sessionId, i, Imu.fingerprint, encodeTopic('imu'), fake)
      await attacker.send(frame, a.port, a.group)
    }
    await waitFor(() => frames.length === 101, 'the forged frames, marked FOREIGN')
    for (let i = 1; i <= 100; i++) await publisher.publish('imu', Imu, imu(i))
    await waitFor(() => frames.length === 201, 'the real frames')
    const real = frames.filter(
      (f) => (f.message as { header?: { sourceId?: string } }).header?.sourceId === 'imu0',
    )
    expect(real.map((f) => f.sequence)).toEqual([...Array(101).keys()])
    const stream = far.stats().received[0]!
    // the forged copies were delivered (they are indistinguishable without keys) but moved nothing
    expect(stream).toMatchObject({ gaps: 0, duplicates: 0, jumps: 100, resyncs: 0 })
    expect(relay.counters().dropped.duplicate).toBe(0)
  })
})

describe('heartbeats through a relay', () => {
  it('the publisher’s pass, a stranger’s arrive marked FOREIGN and move nothing', async () => {
    const a = uniqueGroup()
    const b = uniqueGroup()
    const relay = await track(startRelay(['--in', a.route, '--out', b.route]))
    const far = await track(createSubscriber({ ...b, interface: '127.0.0.1' }))
    const frames: ReceivedFrame[] = []
    far.on('frame', (f: ReceivedFrame) => frames.push(f))
    const publisher = await track(
      createPublisher({ ...a, interface: '127.0.0.1', heartbeat: { minMs: 5, maxMs: 20 } }),
    )
    for (let i = 0; i < 10; i++) await publisher.publish('imu', Imu, imu(i))
    await waitFor(() => frames.length === 10, 'the frames')
    await waitFor(() => (far.stats().heartbeats?.received ?? 0) >= 2, 'the publisher’s heartbeats')
    const attacker = await outsider()
    const topicBytes = encodeTopic('imu')
    for (const d of encodeHeartbeats(publisher.sessionId, 9_999, [{ topicBytes, sequence: 200 }], 1_472))
      await attacker.send(d, a.port, a.group)
    await waitFor(() => relay.counters().heartbeats.forwarded >= 3, 'the forged heartbeat forwarded')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(far.stats().received[0]).toMatchObject({ frames: 10, gaps: 0 })
    expect(relay.counters()).toMatchObject({ received: 10, forwarded: 10 })
  })
})

/**
 * Real sockets on loopback: every socket here is pinned to 127.0.0.1 / ::1, so nothing leaves
 * the host.
 */
import { createSocket } from 'node:dgram'
import { Heartbeat, Image, Imu, type MessageType, NavSatFix, nowStampNs, Temperature } from '@shoal/schema'
import { describe, expect, it } from 'vitest'
import { createPublisher, createSubscriber, isTransportError, type ReceivedFrame } from '../src/index.js'
import { encodeNack, encodeTopic, FrameKind, fragmentMessage, nackLengthFor } from '../src/wire/index.js'
import { closeAfterEach, settle, udpHandles, uniqueEndpoint, waitFor } from './support.js'

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

const track = closeAfterEach()

const header = (i: number) => ({ sourceId: 'test', frameId: `f${i}`, stampNs: nowStampNs() })

/** The 1,472-byte fragments of a 5,000-pixel image on topic `camera`, as a bare publisher builds them. */
const imageFragments = (sessionId: number, sequence: number) =>
  fragmentMessage(
    {
      kind: FrameKind.DATA,
      flags: 0,
      hops: 0,
      topic: 'camera',
      sessionId,
      sequence,
      fingerprint: Image.fingerprint,
      extensionLength: 0,
    },
    encodeTopic('camera'),
    Image.encode({ header: header(sequence), data: new Uint8Array(5000) }),
    1472,
  )
// biome-ignore lint/suspicious/noExplicitAny: a table of different message types
const samples: Array<[string, MessageType<any>, (i: number) => unknown]> = [
  [
    'imu',
    Imu,
    (i) => ({
      header: header(i),
      angularVelocity: { x: i, y: 2, z: 3 },
      linearAcceleration: { x: 0, y: 0, z: 9.81 },
    }),
  ],
  [
    'gps',
    NavSatFix,
    (i) => ({ header: header(i), latitude: 48.1 + i / 1e6, longitude: 11.5, altitude: 520 }),
  ],
  ['temperature', Temperature, (i) => ({ header: header(i), celsius: 20 + (i % 10) })],
  ['heartbeat', Heartbeat, (i) => ({ header: header(i) })],
  [
    'camera',
    Image,
    (i) => ({
      header: header(i),
      width: 8,
      height: 8,
      encoding: 'mono8',
      step: 8,
      data: new Uint8Array(64).fill(i & 0xff),
    }),
  ],
]

describe('loopback multicast (interface 127.0.0.1)', () => {
  it('delivers 10,000 frames of mixed types from two sources, decoded, in order per source, with exact stats', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1' }))
    const pubs = [
      await track(createPublisher({ group, port, interface: '127.0.0.1' })),
      await track(createPublisher({ group, port, interface: 'lo' })),
    ]
    const got: ReceivedFrame[] = []
    sub.on('frame', (f) => got.push(f))
    const total = 10_000
    for (let i = 0; i < total; i++) {
      const [topic, type, make] = samples[i % samples.length]!
      await pubs[i % 2]!.publish(topic, type, make(i))
    }
    await waitFor(() => got.length >= total, 30_000, `${total} frames`)
    expect(got).toHaveLength(total)
    // in order per (source, topic), every frame decoded to the type its topic carries
    const last = new Map<string, number>()
    for (const f of got) {
      const key = `${f.source.session}/${f.topic}`
      expect(f.sequence).toBe((last.get(key) ?? -1) + 1)
      last.set(key, f.sequence)
      expect(f.typeName).toBe(samples.find(([t]) => t === f.topic)![1].typeName)
      expect(f.message).toBeDefined()
    }
    const imu = got.find((f) => f.topic === 'imu')!.message as { linearAcceleration: { z: number } }
    expect(imu.linearAcceleration.z).toBeCloseTo(9.81)
    const stats = sub.stats()
    expect(stats.received).toHaveLength(2 * samples.length)
    for (const s of stats.received) {
      expect(s).toMatchObject({
        frames: total / 2 / samples.length,
        gaps: 0,
        duplicates: 0,
        reordered: 0,
        drops: {},
      })
    }
    expect(stats.drops).toEqual({})
    // every frame's datagram, and the publishers' heartbeats
    expect(stats.datagramsIn).toBe(total + (stats.heartbeats?.received ?? 0))
    const sent = pubs.flatMap((p) => p.stats().sent)
    expect(sent.reduce((n, s) => n + s.frames, 0)).toBe(total)
  })

  it('batching: 20,000 small frames packed into far fewer datagrams, every frame accounted for', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1' }))
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1', batch: true }))
    const got: ReceivedFrame[] = []
    sub.on('frame', (f) => got.push(f))
    const total = 20_000
    for (let i = 0; i < total; i++) {
      pub.send(i % 2 ? 'imu' : 'temperature', i % 2 ? Imu : Temperature, samples[i % 2 ? 0 : 2]![2](i))
      if (i % 500 === 499) await pub.flush() // let the receiver drain, as a paced sensor would
    }
    // a large frame in the middle of small ones keeps its place in its topic's order
    await pub.publish('camera', Image, samples[4]![2](0) as never)
    const big = new Uint8Array(200_000)
    await pub.publish('camera', Image, {
      header: header(1),
      width: 1,
      height: 1,
      encoding: 'mono8',
      step: 1,
      data: big,
    })
    await pub.publish('imu', Imu, samples[0]![2](total) as never)
    await waitFor(() => got.length === total + 3, 20_000, 'all frames')
    const stats = sub.stats()
    for (const s of stats.received) expect(s).toMatchObject({ gaps: 0, duplicates: 0, reordered: 0 })
    expect(stats.received.find((s) => s.topic === 'imu')!.frames).toBe(total / 2 + 1)
    expect(stats.datagramsIn).toBeLessThan(total / 50)
    const imuSeq = got.filter((f) => f.topic === 'imu').map((f) => f.sequence)
    expect(imuSeq).toEqual([...Array(total / 2 + 1).keys()])
    expect(got.filter((f) => f.topic === 'camera').map((f) => f.sequence)).toEqual([0, 1])
    expect(stats.drops).toEqual({})
  })

  it('batching: a lone frame goes out by itself after the linger', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1' }))
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1', batch: { lingerMs: 1 } }))
    const got: ReceivedFrame[] = []
    sub.on('frame', (f) => got.push(f))
    pub.send('imu', Imu, samples[0]![2](0))
    await waitFor(() => got.length === 1, 5_000, 'the lingering frame')
    const result = await pub.publish('imu', Imu, samples[0]![2](1) as never, { ack: false })
    expect(result.sequence).toBe(1)
    await expect(
      createPublisher({ group, port, interface: '127.0.0.1', batch: { lingerMs: 5 } }),
    ).rejects.toSatisfy((e) => isTransportError(e, 'SHOAL_BAD_OPTION'))
  })

  it('batching: a producer that goes quiet gets its batch sent after one empty event-loop turn', async () => {
    const { group, port } = uniqueEndpoint()
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1', batch: { lingerMs: 1 } }))
    for (let i = 0; i < 3; i++) pub.send('imu', Imu, samples[0]![2](i))
    await nextTurn() // the turn that added the frames ends: they are younger than the linger
    await nextTurn() // a turn with nothing added: the batch goes
    // A loaded machine can stall a turn past the first heartbeat (10 ms): that datagram is not the batch.
    const stats = pub.stats()
    expect(stats.datagramsOut - (stats.heartbeats?.sent ?? 0)).toBe(1)
  })

  it('batching: a producer adding frames every turn fills one datagram until the linger', async () => {
    const { group, port } = uniqueEndpoint()
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1', batch: { lingerMs: 1 } }))
    const started = performance.now()
    for (let i = 0; i < 10; i++) {
      pub.send('imu', Imu, samples[0]![2](i))
      await nextTurn()
    }
    const elapsed = performance.now() - started
    // Ten turns normally take far less than the 1 ms linger: then nothing may have gone out yet.
    if (elapsed < 1) expect(pub.stats().datagramsOut).toBe(0)
    await pub.flush()
    expect(pub.stats().datagramsOut).toBeLessThanOrEqual(elapsed < 1 ? 1 : 10)
  })

  it('publish() reports a bad topic as a rejection, batched or not; send() throws it', async () => {
    const { group, port } = uniqueEndpoint()
    const topic = 'x'.repeat(256) // one byte over the wire limit
    for (const batch of [false, true]) {
      const pub = await track(createPublisher({ group, port, interface: '127.0.0.1', batch }))
      const result = pub.publish(topic, Imu, samples[0]![2](0) as never)
      await expect(result).rejects.toSatisfy((e) => isTransportError(e, 'SHOAL_BAD_TOPIC'))
      expect(() => pub.send(topic, Imu, samples[0]![2](0))).toThrow(/256 bytes/)
    }
  })

  it('batching: a linger of 0 sends every frame at once in its own datagram', async () => {
    const { group, port } = uniqueEndpoint()
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1', batch: { lingerMs: 0 } }))
    for (let i = 0; i < 3; i++) pub.send('imu', Imu, samples[0]![2](i))
    expect(pub.stats().datagramsOut).toBe(3)
  })

  it('two receivers sharing one group and port on one host both receive everything', async () => {
    const { group, port } = uniqueEndpoint()
    const a = await track(createSubscriber({ group, port, interface: '127.0.0.1' }))
    const b = await track(createSubscriber({ group, port, interface: '127.0.0.1' }))
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1' }))
    const counts = [0, 0]
    a.on('frame', () => counts[0]!++)
    b.on('frame', () => counts[1]!++)
    for (let i = 0; i < 500; i++) {
      // half through the promise-free fast path, half through publish()
      if (i % 2) pub.send('temperature', Temperature, { header: header(i), celsius: i })
      else await pub.publish('temperature', Temperature, { header: header(i), celsius: i })
    }
    await waitFor(() => counts[0] === 500 && counts[1] === 500, 10_000, 'both receivers')
    expect(counts).toEqual([500, 500])
  })

  it('delivers an 8 MiB image whole across fragments', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1' }))
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1', budget: 65_507 }))
    const data = new Uint8Array(8 * 1024 * 1024).map((_, i) => (i * 31) & 0xff)
    const got: ReceivedFrame[] = []
    sub.on('frame', (f) => got.push(f))
    const result = await pub.publish('camera', Image, {
      header: header(0),
      width: 2048,
      height: 4096,
      encoding: 'mono8',
      step: 2048,
      data,
    })
    expect(result.datagrams).toBeGreaterThan(100)
    await waitFor(() => got.length === 1, 10_000, 'the image')
    const image = got[0]!.message as { data: Uint8Array; width: number }
    expect(image.width).toBe(2048)
    expect(Buffer.compare(image.data, data)).toBe(0)
  })

  it('pacing caps the average rate across publishes', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1' }))
    const rate = 20 * 1024 * 1024 // bytes/s
    const pub = await track(
      createPublisher({
        group,
        port,
        interface: '127.0.0.1',
        pacing: { bytesPerSecond: rate, burstBytes: 256 * 1024 },
      }),
    )
    let frames = 0
    sub.on('frame', () => frames++)
    const image = {
      header: header(0),
      width: 1,
      height: 1,
      encoding: 'mono8',
      step: 1,
      data: new Uint8Array(512 * 1024),
    }
    const started = performance.now()
    let bytes = 0
    for (let i = 0; i < 8; i++) bytes += (await pub.publish('camera', Image, image)).bytes
    const elapsed = (performance.now() - started) / 1000
    // 4 MiB at 20 MiB/s, less the first 256 KiB burst, cannot take less than ~0.19 s: a floor
    // implied by the cap, not a speed expectation.
    expect(elapsed).toBeGreaterThanOrEqual((bytes - 256 * 1024) / rate - 0.01)
    await waitFor(() => frames === 8, 10_000, 'the images')
  })

  it('filters topics exactly and by prefix', async () => {
    const { group, port } = uniqueEndpoint()
    const exact = await track(createSubscriber({ group, port, interface: '127.0.0.1', topics: ['imu'] }))
    const prefix = await track(
      createSubscriber({ group, port, interface: '127.0.0.1', topics: ['sensors/*'] }),
    )
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1' }))
    const seen: Record<string, string[]> = { exact: [], prefix: [] }
    exact.on('frame', (f) => seen.exact!.push(f.topic))
    prefix.on('frame', (f) => seen.prefix!.push(f.topic))
    for (const topic of ['imu', 'sensors/imu', 'sensors/gps/front', 'imu2', 'sensor']) {
      await pub.publish(topic, Imu, { header: header(0) })
    }
    await pub.publish('imu', Imu, { header: header(1) })
    await waitFor(() => seen.exact!.length === 2 && seen.prefix!.length === 2, 5_000, 'filtered frames')
    expect(seen.exact).toEqual(['imu', 'imu'])
    expect(seen.prefix).toEqual(['sensors/imu', 'sensors/gps/front'])
  })

  it('acks: receivers answer, the publisher reports who acked and who is missing', async () => {
    const { group, port } = uniqueEndpoint()
    const r1 = await track(createSubscriber({ group, port, interface: '127.0.0.1', ack: true, name: 'r1' }))
    const r2 = await track(createSubscriber({ group, port, interface: '127.0.0.1', ack: true, name: 'r2' }))
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1' }))
    const first = await pub.publish('imu', Imu, { header: header(0) }, { ack: true })
    const report = await pub.waitForAcks(first, { timeoutMs: 5_000, expected: ['r1', 'r2'] })
    expect(report.acked.map((a) => a.receiver).sort()).toEqual(['r1', 'r2'])
    expect(report.missing).toEqual([])
    await r2.close()
    const second = await pub.publish('imu', Imu, { header: header(1) }, { ack: true })
    const later = await pub.waitForAcks(second, { timeoutMs: 300 })
    expect(later.acked.map((a) => a.receiver)).toEqual(['r1'])
    expect(later.missing).toEqual(['r2'])
    void r1
  })

  it('a receiver counts the datagrams it sends: STATUS, acks, replies', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1', ack: true, name: 'r1' }))
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1' }))
    for (let i = 0; i < 9; i++) await pub.publish('imu', Imu, { header: header(i) })
    const last = await pub.publish('imu', Imu, { header: header(9) }, { ack: true })
    await pub.waitForAcks(last, { timeoutMs: 5_000, expected: ['r1'] })
    await waitFor(() => (sub.stats().status?.sent ?? 0) > 0, 5_000, 'a STATUS')
    // Besides STATUS (more may go at any time): the one ack. Nothing lost on loopback, a type it
    // knows: no NACK, no schema request.
    const notStatus = () => {
      const s = sub.stats()
      return s.datagramsOut - s.status!.sent
    }
    expect(notStatus()).toBe(1)
    const bytesBefore = sub.stats().bytesOut
    expect(bytesBefore).toBeGreaterThan(0)
    await sub.reply(new TextEncoder().encode('pong'), { address: '127.0.0.1', port })
    expect(notStatus()).toBe(2)
    expect(sub.stats().bytesOut).toBeGreaterThanOrEqual(bytesBefore + 4)
  })

  it('counts a non-Shoal datagram by reason and keeps running', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1' }))
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1' }))
    const warnings: string[] = []
    sub.on('warning', (w) => warnings.push(w.reason))
    let frames = 0
    sub.on('frame', () => frames++)
    await pub.sendRaw(new TextEncoder().encode('hello from a plain socket, as the seed programs send'))
    await pub.sendRaw(new Uint8Array([0x53, 0x48, 1]))
    await pub.publish('imu', Imu, { header: header(0) })
    await waitFor(() => frames === 1, 5_000, 'the good frame')
    expect(sub.stats().drops).toEqual({ 'bad-magic': 1, truncated: 1 })
    expect(warnings).toEqual(['bad-magic', 'truncated'])
  })

  it('counts every truncation and every single-byte corruption of a real datagram, never throws', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1' }))
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1' }))
    const topic = encodeTopic('imu')
    const payload = Imu.encode({ header: header(0), angularVelocity: { x: 1, y: 2, z: 3 } })
    const frame = fragmentMessage(
      {
        kind: FrameKind.DATA,
        flags: 0,
        hops: 0,
        topic: 'imu',
        sessionId: 1,
        sequence: 0,
        fingerprint: Imu.fingerprint,
        extensionLength: 0,
      },
      topic,
      payload,
      1472,
    )[0]!
    let frames = 0
    sub.on('frame', () => frames++)
    let bad = 0
    for (let length = 1; length < frame.length; length++, bad++) await pub.sendRaw(frame.subarray(0, length))
    for (let i = 0; i < frame.length; i++, bad++) {
      const corrupt = frame.slice()
      corrupt[i] = corrupt[i]! ^ (1 + (i % 255))
      await pub.sendRaw(corrupt)
    }
    await pub.sendRaw(frame) // the intact one still gets through
    await waitFor(() => frames === 1, 5_000, 'the intact frame')
    const drops = Object.values(sub.stats().drops).reduce((n, d) => n + (d ?? 0), 0)
    expect(drops).toBe(bad)
    expect(sub.stats().datagramsIn).toBe(bad + 1)
  })

  it('a message missing a fragment expires, is counted against its stream, and shows as a gap', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await track(
      createSubscriber({ group, port, interface: '127.0.0.1', reassembly: { timeoutMs: 100 } }),
    )
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1' }))
    const fragments = (sequence: number) => imageFragments(5, sequence)
    let frames = 0
    sub.on('frame', () => frames++)
    for (const f of fragments(0)) await pub.sendRaw(f)
    for (const f of fragments(1).slice(1)) await pub.sendRaw(f) // fragment 0 of message 1 is lost
    for (const f of fragments(2)) await pub.sendRaw(f)
    await waitFor(() => (sub.stats().drops['reassembly-expired'] ?? 0) === 1, 5_000, 'the expiry')
    expect(frames).toBe(2)
    const stream = sub.stats().received[0]!
    expect(stream).toMatchObject({ topic: 'camera', source: '00000005', frames: 2, gaps: 1 })
    expect(stream.drops).toEqual({ 'reassembly-expired': 1 })
  })

  it('a frame seen only in part counts as a gap once a later one completes, and at close if none does', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await createSubscriber({ group, port, interface: '127.0.0.1' })
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1' }))
    const fragments = (sequence: number) => imageFragments(6, sequence)
    let frames = 0
    sub.on('frame', () => frames++)
    await pub.sendRaw(fragments(0)[1]!) // the stream's first datagram; message 0 never completes
    for (const f of fragments(1)) await pub.sendRaw(f)
    await pub.sendRaw(fragments(2)[0]!) // message 2 is still partial when the subscriber closes
    await waitFor(() => sub.stats().datagramsIn === 2 + fragments(1).length, 5_000, 'the datagrams')
    expect(frames).toBe(1)
    expect(sub.stats().received[0]).toMatchObject({ frames: 1, gaps: 1 })
    await sub.close()
    expect(sub.stats().drops).toEqual({ 'reassembly-unfinished': 2 })
  })

  it('raw mode delivers plain datagrams untouched', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1', raw: true }))
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1' }))
    const got: string[] = []
    sub.on('raw', (d) => got.push(d.data.toString()))
    await pub.sendRaw(new TextEncoder().encode('robot'))
    await waitFor(() => got.length === 1, 5_000, 'raw datagram')
    expect(got).toEqual(['robot'])
  })

  it('unicast both ways on loopback', async () => {
    const { port } = uniqueEndpoint()
    const b = await track(createSubscriber({ mode: 'unicast', port, interface: '127.0.0.1' }))
    const a = await track(createSubscriber({ mode: 'unicast', port: port + 1, interface: '127.0.0.1' }))
    const toB = await track(createPublisher({ mode: 'unicast', address: '127.0.0.1', port }))
    const toA = await track(createPublisher({ mode: 'unicast', address: '127.0.0.1', port: port + 1 }))
    const got: string[] = []
    b.on('frame', (f) => got.push(`b:${f.topic}`))
    a.on('frame', (f) => got.push(`a:${f.topic}`))
    await toB.publish('ping', Heartbeat, { header: header(0) })
    await waitFor(() => got.length === 1, 5_000, 'ping')
    await toA.publish('pong', Heartbeat, { header: header(1) })
    await waitFor(() => got.length === 2, 5_000, 'pong')
    expect(got).toEqual(['b:ping', 'a:pong'])
  })

  it('reports the receive buffer the kernel granted', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await track(
      createSubscriber({ group, port, interface: '127.0.0.1', recvBufferBytes: 1 << 30 }),
    )
    expect(sub.info.recvBuffer.requested).toBe(1 << 30)
    expect(sub.info.recvBuffer.granted).toBeGreaterThan(0)
    expect(sub.info.recvBuffer.clamped).toBe(true)
  })

  it('a batch the kernel refuses is counted as send-failed, not thrown', async () => {
    const { port } = uniqueEndpoint()
    // Linux's lo has no multicast flag, so IPv6 multicast on it is unreachable (ENETUNREACH).
    // ff01:: is interface-local scope: even if it were reachable it could not leave the host.
    const pub = await track(createPublisher({ group: 'ff01::5:9', port, interface: 'lo', batch: true }))
    const warnings: string[] = []
    pub.on('warning', (w: { reason: string }) => warnings.push(w.reason))
    pub.send('imu', Imu, { header: header(0) })
    await expect(pub.flush()).rejects.toSatisfy((e) => isTransportError(e, 'SHOAL_SOCKET'))
    pub.send('imu', Imu, { header: header(1) }) // nobody waits on this batch: a warning, counted
    await waitFor(() => warnings.length === 1, 5_000, 'the send failure')
    expect(warnings).toEqual(['send-failed'])
    expect(pub.stats().drops).toEqual({ 'send-failed': 1 })
  })

  it('close() leaves the group and releases every socket', async () => {
    await settle()
    const before = udpHandles()
    const { group, port } = uniqueEndpoint()
    const sub = await createSubscriber({ group, port, interface: '127.0.0.1', ack: true })
    const pub = await createPublisher({ group, port, interface: '127.0.0.1' })
    // The subscriber's socket, and the publisher's two: one receives, one connected sends (Linux).
    expect(udpHandles()).toBe(before + (process.platform === 'linux' ? 3 : 2))
    await pub.publish('imu', Imu, { header: header(0) })
    await sub.close()
    await pub.close()
    await sub.close() // idempotent
    await settle()
    expect(udpHandles()).toBe(before)
    await expect(pub.publish('imu', Imu, { header: header(0) })).rejects.toSatisfy((e) =>
      isTransportError(e, 'SHOAL_CLOSED'),
    )
  })
})

describe('large messages from send()', () => {
  it('close() sends every one whole, though each goes out over several event-loop turns', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1' }))
    const got: ReceivedFrame[] = []
    sub.on('frame', (f) => got.push(f))
    // Bursts of 64 KiB: every 1 MiB image yields to the event loop 16 times on its way out.
    const pub = await createPublisher({ group, port, interface: '127.0.0.1', pacing: { burstBytes: 65_536 } })
    const image = (i: number) => ({
      header: header(i),
      width: 1024,
      height: 1024,
      encoding: 'mono8',
      step: 1024,
      data: new Uint8Array(1024 * 1024).fill(i),
    })
    for (let i = 0; i < 5; i++) pub.send('camera', Image, image(i))
    await pub.close()
    await waitFor(() => got.length === 5, 5_000, 'five whole images')
    expect(got.map((f) => f.sequence)).toEqual([0, 1, 2, 3, 4])
    expect(pub.stats().sent[0]).toMatchObject({ frames: 5 })
  })
})

describe('repair on the publisher', () => {
  it('serves a NACK that comes while it closes, and counts one for a message it does not hold', async () => {
    const { group, port } = uniqueEndpoint()
    const pub = await createPublisher({ group, port, interface: '127.0.0.1' })
    const image = {
      header: header(0),
      width: 512,
      height: 256,
      encoding: 'mono8',
      step: 512,
      data: new Uint8Array(512 * 256).fill(7),
    }
    const sent = await pub.publish('camera', Image, image)
    expect(sent.datagrams).toBeGreaterThan(1)
    const closing = pub.close()
    const asker = createSocket('udp4')
    // Padded for two loopback-sized fragments: a NACK earns NACK_AMPLIFICATION × its length.
    const nack = (sequence: number) =>
      new Promise<void>((resolve, reject) =>
        asker.send(
          encodeNack(
            { sessionId: pub.sessionId, sequence, topic: 'camera' },
            { receiverSession: 1, ranges: [[0, 2]] },
            nackLengthFor(2 * 65_507),
          ),
          pub.info.local.port,
          '127.0.0.1',
          (error) => (error ? reject(error) : resolve()),
        ),
      )
    try {
      await nack(0)
      await nack(99)
      await closing
    } finally {
      asker.close()
    }
    expect(pub.stats().repair).toMatchObject({ nacksReceived: 2, fragmentsResent: 2, unavailable: 1 })
    expect(pub.stats().datagramsIn).toBe(2)
  })
})

describe('validation', () => {
  const cases: Array<[string, Parameters<typeof createSubscriber>[0], string]> = [
    ['group not multicast', { group: '10.0.0.1', port: 7400 }, 'SHOAL_NOT_MULTICAST'],
    ['SSM group without a source', { group: '232.1.1.1', port: 7400 }, 'SHOAL_SSM_NEEDS_SOURCE'],
    [
      'source on an ASM group',
      { group: '239.1.1.1', port: 7400, source: '127.0.0.1' },
      'SHOAL_NOT_SSM_GROUP',
    ],
    ['port 0', { group: '239.1.1.1', port: 0 }, 'SHOAL_BAD_PORT'],
    ['port 70000', { group: '239.1.1.1', port: 70_000 }, 'SHOAL_BAD_PORT'],
    [
      'unknown interface',
      { group: '239.1.1.1', port: 7400, interface: 'nosuch0' },
      'SHOAL_UNKNOWN_INTERFACE',
    ],
    [
      'interface address not on this host',
      { group: '239.1.1.1', port: 7400, interface: '203.0.113.9' },
      'SHOAL_UNKNOWN_INTERFACE',
    ],
    ['broadcast over IPv6', { mode: 'broadcast', port: 7400, address: '::1' }, 'SHOAL_BAD_OPTION'],
    ['ack TTL 300', { group: '239.1.1.1', port: 7400, interface: '127.0.0.1', ttl: 300 }, 'SHOAL_BAD_TTL'],
  ]
  it.each(cases)('subscriber: %s', async (_, options, code) => {
    await expect(createSubscriber(options)).rejects.toSatisfy((e) => isTransportError(e, code as never))
  })
  it.each([
    [-1, 'SHOAL_BAD_TTL'],
    [256, 'SHOAL_BAD_TTL'],
    [1.5, 'SHOAL_BAD_TTL'],
  ] as const)('publisher: TTL %s', async (ttl, code) => {
    await expect(
      createPublisher({ group: '239.1.1.1', port: 7400, interface: '127.0.0.1', ttl }),
    ).rejects.toSatisfy((e) => isTransportError(e, code))
  })
  it.each([
    [{ bytesPerSecond: 0 }],
    [{ bytesPerSecond: -1 }],
    [{ bytesPerSecond: Number.POSITIVE_INFINITY }],
    [{ burstBytes: -1 }],
    [{ burstBytes: Number.NaN }],
  ])('publisher: pacing %o', async (pacing) => {
    await expect(
      createPublisher({ group: '239.1.1.1', port: 7400, interface: '127.0.0.1', pacing }),
    ).rejects.toSatisfy((e) => isTransportError(e, 'SHOAL_BAD_OPTION'))
  })
  it.each([[{ windowBytes: -1 }], [{ windowMs: Number.NaN }]])('publisher: repair %o', async (repair) => {
    await expect(
      createPublisher({ group: '239.1.1.1', port: 7400, interface: '127.0.0.1', repair }),
    ).rejects.toSatisfy((e) => isTransportError(e, 'SHOAL_BAD_OPTION'))
  })
  it.each([[{ idleMs: -1 }], [{ retryMs: Number.POSITIVE_INFINITY }], [{ maxRetries: 1.5 }]])(
    'subscriber: repair %o',
    async (repair) => {
      await expect(
        createSubscriber({ group: '239.1.1.1', port: 7400, interface: '127.0.0.1', repair }),
      ).rejects.toSatisfy((e) => isTransportError(e, 'SHOAL_BAD_OPTION'))
    },
  )
  it('publisher: budget out of range', async () => {
    await expect(
      createPublisher({ group: '239.1.1.1', port: 7400, interface: '127.0.0.1', budget: 70_000 }),
    ).rejects.toSatisfy((e) => isTransportError(e, 'SHOAL_BUDGET_OUT_OF_RANGE'))
  })
  it('budget follows the interface MTU: 65,507 on loopback', async () => {
    const pub = await track(createPublisher({ group: '239.1.1.1', port: 7400, interface: '127.0.0.1' }))
    expect(pub.info.mtu).toBe(65_536)
    expect(pub.info.budget).toBe(65_507)
  })
})

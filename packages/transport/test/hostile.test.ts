/**
 * What a stranger's datagrams can do to a subscriber and a publisher, on loopback: every socket here
 * is pinned to 127.0.0.1 (the stranger sends from 127.0.0.2, also loopback). The same attacks from
 * a third host in network namespaces are in apps/relay/test/e2e.
 */
import { createSocket, type Socket } from 'node:dgram'
import { Image, Imu, NavSatFix } from '@shoal/schema'
import { afterEach, describe, expect, it } from 'vitest'
import { createPublisher, createSubscriber, type ReceivedFrame, type StatsSnapshot } from '../src/index.js'
import { NACK_CREDIT_FRACTION } from '../src/receive/nack-credit.js'
import {
  BatchBuilder,
  encodeAck,
  encodedFrameLength,
  encodeFrameInto,
  encodeNack,
  encodeTopic,
  encodeWholeFrame,
  Flag,
  FrameKind,
  NACK_AMPLIFICATION,
  WHOLE_MESSAGE,
} from '../src/wire/index.js'
import { closeAfterEach, uniqueEndpoint, waitFor } from './support.js'

const track = closeAfterEach()
const strangers: Socket[] = []
afterEach(() => {
  for (const s of strangers.splice(0)) s.close()
})

/** A plain UDP socket on 127.0.0.2: someone else on the segment. */
async function stranger(): Promise<(datagram: Uint8Array, port: number, address?: string) => Promise<void>> {
  const socket = createSocket('udp4')
  strangers.push(socket)
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.2', resolve))
  return (datagram, port, address = '127.0.0.1') =>
    new Promise((resolve, reject) => socket.send(datagram, port, address, (e) => (e ? reject(e) : resolve())))
}

const outcomesAddUp = (stats: StatsSnapshot) =>
  Object.values(stats.outcomes ?? {}).reduce((n: number, v) => n + (v ?? 0), 0) === stats.datagramsIn

describe('a subscriber meets strangers', () => {
  it('one forged BATCH jumping imu and gps 2³¹ − 1 ahead stops nothing: every real frame is delivered, counted exactly', async () => {
    const { group, port } = uniqueEndpoint()
    const where = { group, port, interface: '127.0.0.1' }
    const sub = await track(createSubscriber(where))
    const got: ReceivedFrame[] = []
    sub.on('frame', (f: ReceivedFrame) => got.push(f))
    const pub = await track(createPublisher({ ...where, sessionId: 0x5e55 }))
    for (let i = 0; i < 50; i++) {
      await pub.publish('imu', Imu, { angularVelocity: { x: i } })
      await pub.publish('gps', NavSatFix, { latitude: i })
    }
    await waitFor(() => got.length === 100, 5_000)
    const batch = new BatchBuilder(1_472)
    // gps carries an Imu: the type does not matter to sequence accounting
    for (const topic of ['imu', 'gps'])
      batch.append(0, 0, 0x5e55, 50 + 0x7fffffff, Imu.fingerprint, encodeTopic(topic), Imu.encode({}))
    await (await stranger())(batch.finish(0x5e55, 0), port, group)
    for (let i = 50; i < 100; i++) {
      await pub.publish('imu', Imu, { angularVelocity: { x: i } })
      await pub.publish('gps', NavSatFix, { latitude: i })
    }
    await waitFor(() => got.length === 202, 5_000)
    const real = got.filter((f) => f.source.address === '127.0.0.1')
    expect(real.filter((f) => f.topic === 'imu').map((f) => f.sequence)).toEqual([...Array(100).keys()])
    const stats = sub.stats()
    for (const stream of stats.received)
      expect(stream).toMatchObject({ frames: 101, gaps: 0, duplicates: 0, jumps: 1, resyncs: 0 })
    expect(outcomesAddUp(stats)).toBe(true)
  })

  it('every datagram ends in exactly one outcome: garbage, control frames, duplicates, batches, fragments', async () => {
    const { group, port } = uniqueEndpoint()
    const where = { group, port, interface: '127.0.0.1' }
    const sub = await track(createSubscriber({ ...where, topics: ['imu', 'camera'] }))
    const send = await stranger()
    const frame = (topic: string, sequence: number) =>
      encodeWholeFrame(0, 0, 7, sequence, Imu.fingerprint, encodeTopic(topic), Imu.encode({}))
    const datagrams = [
      frame('imu', 0),
      frame('imu', 0), // duplicate
      frame('gps', 0), // filtered
      new Uint8Array([1, 2, 3]), // truncated
      new Uint8Array(100), // bad magic
      encodeAck({ sessionId: 7, sequence: 0, topic: 'imu' }, { receiverSession: 1, receiver: 'x' }),
      encodeNack(
        { sessionId: 7, sequence: 0, topic: 'imu' },
        { receiverSession: 1, ranges: [WHOLE_MESSAGE] },
      ),
      // unknown type: asked for in-band and held for its schema (WIRE.md “Schemas”)
      encodeWholeFrame(0, 0, 7, 1, 0xdead, encodeTopic('imu'), new Uint8Array(3)),
    ]
    for (const d of datagrams) await send(d, port, group)
    await waitFor(() => sub.stats().datagramsIn === datagrams.length, 5_000)
    const stats = sub.stats()
    expect(stats.outcomes).toEqual({
      delivered: 1,
      duplicate: 1,
      filtered: 1,
      truncated: 1,
      'bad-magic': 1,
      'unexpected-kind': 2,
      'schema-wait': 1,
    })
    expect(outcomesAddUp(stats)).toBe(true)
    // Its schema never comes: once the subscriber closes it is counted unknown, as before.
    await sub.close()
    expect(sub.stats().drops['unknown-type']).toBe(1)
  })

  it('one forged fragment declaring a 64 MiB message earns the stranger at most a quarter of its bytes in NACKs', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1' }))
    const nacks: Buffer[] = []
    const socket = createSocket('udp4')
    strangers.push(socket)
    // NACKs only (kind 2): a STATUS would be the subscriber's flow control, not repair.
    socket.on('message', (data) => {
      if (data[3] === FrameKind.NACK) nacks.push(data)
    })
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.2', resolve))
    socket.setMulticastInterface('127.0.0.1')
    const header = {
      kind: FrameKind.DATA,
      flags: Flag.REPAIRABLE,
      hops: 0,
      topic: 'camera',
      sessionId: 0xbad,
      sequence: 0,
      fingerprint: Image.fingerprint,
      messageLength: 65_535 * 1_024,
      fragmentOffset: 0,
      fragmentIndex: 0,
      fragmentCount: 65_535,
      payloadLength: 1_024,
      extensionLength: 0,
    }
    const datagram = new Uint8Array(encodedFrameLength(header, encodeTopic('camera')))
    encodeFrameInto(header, encodeTopic('camera'), new Uint8Array(1_024), datagram, 0)
    await new Promise<void>((resolve, reject) =>
      socket.send(datagram, port, group, (e) => (e ? reject(e) : resolve())),
    )
    // the idle tail is asked for after 10 ms, then again 8 times 20 ms apart
    await waitFor(() => sub.stats().repair.nacksSuppressed > 0, 5_000)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const sent = nacks.reduce((n, d) => n + d.length, 0)
    expect(sent).toBeLessThanOrEqual(datagram.length * NACK_CREDIT_FRACTION)
    expect(sub.stats().repair.nacksSent).toBe(nacks.length)
  })

  it('allow() drops other senders before anything else is done', async () => {
    const { port } = uniqueEndpoint()
    const sub = await track(
      createSubscriber({ mode: 'unicast', port, interface: '127.0.0.1', allow: (a) => a === '127.0.0.1' }),
    )
    // No heartbeats: the count below is of the one frame and the stranger's datagram.
    const pub = await track(
      createPublisher({
        mode: 'unicast',
        address: '127.0.0.1',
        port,
        interface: '127.0.0.1',
        heartbeat: false,
      }),
    )
    await pub.publish('imu', Imu, {})
    await (await stranger())(
      encodeWholeFrame(0, 0, 9, 0, Imu.fingerprint, encodeTopic('imu'), Imu.encode({})),
      port,
    )
    await waitFor(() => sub.stats().datagramsIn === 2, 5_000)
    const stats = sub.stats()
    expect(stats.outcomes).toEqual({ delivered: 1, 'not-allowed': 1 })
    expect(stats.received).toHaveLength(1)
  })
})

describe('a publisher meets strangers', () => {
  it(`a forged whole-message NACK makes it send at most ${NACK_AMPLIFICATION} × the NACK's length`, async () => {
    const { group, port } = uniqueEndpoint()
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1', budget: 1_472 }))
    const sent = await pub.publish('camera', Image, {
      width: 640,
      height: 480,
      data: new Uint8Array(640 * 480),
    })
    expect(sent.datagrams).toBeGreaterThan(200)
    const before = pub.stats()
    const send = await stranger()
    const nack = encodeNack(
      { sessionId: pub.sessionId, sequence: sent.sequence, topic: 'camera' },
      {
        receiverSession: 1,
        ranges: [WHOLE_MESSAGE],
      },
    )
    for (let i = 0; i < 3; i++) await send(nack, pub.info.local.port)
    await waitFor(() => pub.stats().repair.nacksReceived === 3, 5_000)
    await pub.flush()
    const after = pub.stats()
    expect(after.bytesOut - before.bytesOut).toBeLessThanOrEqual(3 * NACK_AMPLIFICATION * nack.length)
    expect(after.repair.creditLimited).toBe(3)
    expect(after.outcomes).toEqual({ nack: 3 })
  })

  it('ACKs in a pinned receiver’s name from another address do not count', async () => {
    const { group, port } = uniqueEndpoint()
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1' }))
    const result = await pub.publish('imu', Imu, {}, { ack: true })
    const waiting = pub.waitForAcks(result, { timeoutMs: 300, expected: ['rx-1@127.0.0.1'] })
    const send = await stranger()
    const forged = encodeAck(
      { sessionId: pub.sessionId, sequence: result.sequence, topic: 'imu' },
      { receiverSession: 5, receiver: 'rx-1' },
    )
    for (let i = 0; i < 40; i++) await send(forged, pub.info.local.port)
    const report = await waiting
    expect(report.acked).toEqual([])
    expect(report.missing).toEqual(['rx-1@127.0.0.1'])
    expect(pub.stats().drops['ack-impostor']).toBe(40)
  })
})

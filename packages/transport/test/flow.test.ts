/**
 * Flow control between real hosts (WIRE.md “STATUS”): receivers tell the publisher how far they
 * consumed and how much more they can take; the publisher never runs further ahead. Every host is a
 * private network namespace made by @shoal/netns, on one segment; nothing here touches the
 * machine's own interfaces.
 * Hosts on segment `lan`: a (publisher), b (a fast receiver), c (a slow receiver, the one killed),
 * x (an attacker with plain node:dgram sockets, no Shoal code).
 */
import { createNetwork, type Network, requireNetns } from '@shoal/netns'
import { Imu } from '@shoal/schema'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  MAX_FLOW_WINDOW_BYTES,
  MAX_STATUS_SESSIONS,
  NACK_AMPLIFICATION,
  type PublisherInfo,
  type SourceEvent,
  STATUS_SESSION_IDLE_MS,
  type StatsSnapshot,
  type SubscriberInfo,
} from '../src/index.js'
import {
  decodeFrame,
  encodeControlFrame,
  encodeHeartbeats,
  encodeNackFrames,
  encodeStatuses,
  encodeTopic,
  encodeWholeFrame,
  FrameKind,
  MAX_NACK_FRAME_COUNT,
  MAX_NACK_FRAME_RANGES,
} from '../src/wire/index.js'
import { type Agent, startAgent, type TopicSummary } from './agent-client.js'
import { uniqueEndpoint, waitFor } from './support.js'

const netns = requireNetns()

const HOSTS = ['a', 'b', 'c', 'x'] as const
/** Small frames (Imu, about 70 bytes on the wire) per slow-receiver run. */
const FRAMES = 20_000
/** Sent before the run, so that both receivers have reported (a STATUS needs 4 datagrams heard). */
const WARM_UP = 10
/**
 * The publisher sends like a fast sensor: a 1 ms pause after every 100 frames (at most about 100 k
 * frames/s). The slow receiver's application takes 10 frames every 1 ms (about 9 k frames/s): about
 * a tenth of that.
 */
const BURST = 100
const SLOW = { frames: 10, everyMs: 1 }
/**
 * The slow receiver's receive buffer: it offers half of it as its window, less what waits in its
 * application's queue, so its queue is held to about 32 KiB of messages (some 1,200 frames) under
 * `min`. Its queue limit is well above that and far below the run, so under `max` it overflows.
 */
const SLOW_RECV_BUFFER_BYTES = 64 * 1024
const SLOW_QUEUE_LIMIT = 4_000
/** A bound on waiting for delivery, not a speed check. */
const DELIVERY_TIMEOUT_MS = 20_000

interface FrameSummary {
  topic: string
  sequence: number
  session: string
}

interface PlainDatagram {
  hex: string
  address: string
  port: number
}

const hex = (datagram: Uint8Array) => Buffer.from(datagram).toString('hex')
const outcomesAddUp = (s: StatsSnapshot) =>
  Object.values(s.outcomes ?? {}).reduce((n: number, v) => n + (v ?? 0), 0) === s.datagramsIn

describe.skipIf(netns.skip)('flow control between hosts (network namespaces)', () => {
  let net: Network
  const agents: Record<string, Agent> = {}

  beforeAll(async () => {
    net = await createNetwork({ hosts: [...HOSTS], segments: [{ name: 'lan', hosts: [...HOSTS] }] })
    for (const name of HOSTS) agents[name] = await startAgent(net.host(name))
  }, 60_000)

  afterAll(async () => {
    await Promise.all(Object.values(agents).map((a) => a.stop()))
    await net?.destroy()
  })

  const on = (host: string) => ({ interface: net.host(host).ifname('lan') })
  const stats = (host: string, name: string) => agents[host]!.call<StatsSnapshot>('stats', { name })
  const imu = async (host: string, name: string, expected = 0) =>
    (await agents[host]!.call<Record<string, TopicSummary>>('summary', { name, expected: { imu: expected } }))
      .imu!
  const flow = async (name: string) => (await stats('a', name)).flow!

  /**
   * Receivers b (fast) and c (slow: `SLOW`, a small buffer, `SLOW_QUEUE_LIMIT`), a publisher on a
   * with `strategy` (and `batch`); warms up until both receivers have reported, then sends the run
   * with send() (waiting for ready() whenever it is BACK_PRESSURED), and waits for b to have it all.
   */
  async function slowRun(name: string, strategy: 'min' | 'max', batch: boolean) {
    const { group, port } = uniqueEndpoint()
    await agents.b!.call('sub', { name, options: { group, port, ...on('b') } })
    const slow = await agents.c!.call<SubscriberInfo>('sub', {
      name,
      options: {
        group,
        port,
        recvBufferBytes: SLOW_RECV_BUFFER_BYTES,
        queueLimit: SLOW_QUEUE_LIMIT,
        ...on('c'),
      },
      slow: SLOW,
    })
    expect(slow.recvBuffer.granted).toBe(SLOW_RECV_BUFFER_BYTES)
    await agents.a!.call('pub', { name, options: { group, port, batch, flow: { strategy }, ...on('a') } })
    await agents.a!.call('send', { name, topic: 'imu', count: WARM_UP })
    await waitFor(async () => (await flow(name)).receivers === 2, 10_000, 'a STATUS from both receivers')
    await agents.a!.call('send', { name, topic: 'imu', from: WARM_UP, count: FRAMES - WARM_UP, burst: BURST })
    await waitFor(
      async () => (await imu('b', name)).delivered >= FRAMES,
      DELIVERY_TIMEOUT_MS,
      'every frame at the fast receiver',
    )
  }

  /**
   * Waits until the slow receiver's transport has accounted for every frame (taken in, or counted
   * lost: the publisher's heartbeats show it a lost tail) and its application has drained its
   * queue; returns its stats then.
   */
  async function drained(name: string): Promise<StatsSnapshot> {
    const settled = async () => {
      const s = await stats('c', name)
      const stream = s.received[0]
      if (stream === undefined || stream.frames + stream.gaps < FRAMES) return false
      const overflow = s.drops['queue-overflow'] ?? 0
      return (await imu('c', name)).delivered === stream.frames - overflow
    }
    await waitFor(settled, DELIVERY_TIMEOUT_MS, 'the slow receiver to account for every frame').catch(
      async (error: Error) => {
        const { received, drops, repair, kernelDrops } = await stats('c', name)
        throw new Error(
          `${error.message}\nc: ${JSON.stringify({ received, drops, repair, kernelDrops })}\n` +
            `c's application: ${JSON.stringify(await imu('c', name, FRAMES))}`,
        )
      },
    )
    return stats('c', name)
  }

  /** Under `min`: the publisher waited, and both receivers delivered every frame once, none lost. */
  async function nothingLost(name: string): Promise<Record<string, StatsSnapshot>> {
    await drained(name)
    const pub = await flow(name)
    expect(pub.backPressure.episodes).toBeGreaterThan(0)
    expect(pub.backPressure.totalMs).toBeGreaterThan(0)
    expect(pub.sendsRefused).toBeGreaterThan(0)
    const receivers: Record<string, StatsSnapshot> = {}
    for (const host of ['b', 'c']) {
      const got = await imu(host, name, FRAMES)
      expect({
        host,
        delivered: got.delivered,
        missing: got.missingCount,
        duplicates: got.duplicateCount,
      }).toEqual({ host, delivered: FRAMES, missing: 0, duplicates: 0 })
      const s = await stats(host, name)
      expect({ host, received: s.received.map((r) => [r.topic, r.frames, r.gaps]), drops: s.drops }).toEqual({
        host,
        received: [['imu', FRAMES, 0]],
        drops: {},
      })
      // It reported (the publisher's waits above came from its STATUS frames), to this one publisher.
      expect({ host, status: s.status }).toMatchObject({
        host,
        status: { sent: expect.any(Number), sessionsRefused: 0 },
      })
      expect(s.status!.sent).toBeGreaterThan(0)
      receivers[host] = s
    }
    await agents.a!.call('close', { name })
    return receivers
  }

  it('min: a slow receiver loses nothing, not even in its kernel; the publisher waits for it', async () => {
    // Batched (about 16 frames to a datagram of up to 1,472 bytes): datagrams of the size the
    // window's half of the receive buffer is meant for.
    await slowRun('min', 'min', true)
    const receivers = await nothingLost('min')
    for (const host of ['b', 'c'])
      expect({ host, kernelDrops: receivers[host]!.kernelDrops }).toEqual({ host, kernelDrops: 0 })
  })

  it('min, every small frame in its own datagram: the slow receiver loses nothing, not even in its kernel', async () => {
    // The window counts what the receive buffer holds of datagrams this small (the kernel charges
    // each about 800 bytes beyond its own: receiveBufferHolds), not the buffer's bytes.
    await slowRun('min-unbatched', 'min', false)
    const receivers = await nothingLost('min-unbatched')
    for (const host of ['b', 'c'])
      expect({ host, kernelDrops: receivers[host]!.kernelDrops }).toEqual({ host, kernelDrops: 0 })
  })

  it("max: the fast receiver gets everything; the slow one's loss is counted exactly", async (context) => {
    await slowRun('max', 'max', false)
    const fast = await imu('b', 'max', FRAMES)
    expect([fast.missingCount, fast.duplicateCount]).toEqual([0, 0])
    expect((await stats('b', 'max')).received.map((r) => [r.frames, r.gaps])).toEqual([[FRAMES, 0]])
    // The slow receiver: wait until it has accounted for every frame and drained its queue. The
    // publisher stays open meanwhile: a heartbeat dropped in c's full buffer is followed by another.
    const s = await drained('max')
    const stream = s.received[0]!
    const got = await imu('c', 'max', FRAMES)
    const overflow = s.drops['queue-overflow'] ?? 0
    // Its queue did overflow: the publisher ran at the fast receiver's pace, not the slow one's.
    // A frame dropped there was taken in by the transport (its stream counts it) and counted as
    // dropped, in the subscriber's drops and its stream's.
    expect(overflow).toBeGreaterThan(0)
    expect(stream.drops['queue-overflow']).toBe(overflow)
    expect(stream.frames).toBe(got.delivered + overflow)
    // Every frame its application never got is counted lost, once: dropped at its full queue, or a
    // gap (it never arrived, nor was repaired in time).
    expect(got.duplicateCount).toBe(0)
    expect(got.missingCount).toBe(overflow + stream.gaps)
    expect(got.delivered + overflow + stream.gaps).toBe(FRAMES)
    expect(s.drops).toEqual({ 'queue-overflow': overflow })
    await agents.a!.call('close', { name: 'max' })
    await context.annotate(
      `slow receiver: ${got.delivered} delivered, ${overflow} dropped at its full queue, ${stream.gaps} gaps, ` +
        `${s.kernelDrops} kernel drops, ${s.repair.framesAsked} frames asked again`,
    )
  })

  it('a killed receiver holds a min publisher back only until its receiver timeout; the other loses nothing', async () => {
    const { group, port } = uniqueEndpoint()
    const count = 5_000
    await agents.b!.call('sub', { name: 'kill', options: { group, port, ...on('b') } })
    // c's application nearly stalls (one frame every 5 ms): the publisher soon waits for it.
    await agents.c!.call('sub', {
      name: 'kill',
      options: { group, port, recvBufferBytes: SLOW_RECV_BUFFER_BYTES, ...on('c') },
      slow: { frames: 1, everyMs: 5 },
    })
    await agents.a!.call('pub', {
      name: 'kill',
      options: { group, port, flow: { strategy: 'min', receiverTimeoutMs: 500 }, ...on('a') },
    })
    await agents.a!.call('send', { name: 'kill', topic: 'imu', count: WARM_UP })
    await waitFor(async () => (await flow('kill')).receivers === 2, 10_000, 'a STATUS from both receivers')
    const sending = agents.a!.call('send', {
      name: 'kill',
      topic: 'imu',
      from: WARM_UP,
      count: count - WARM_UP,
      burst: BURST,
    })
    await waitFor(
      async () => (await flow('kill')).backPressure.waiting,
      10_000,
      'the publisher to wait for c',
    )
    // c's host crashes: its subscriber never says goodbye, its STATUS frames just stop.
    await agents.c!.kill()
    await sending
    const after = await flow('kill')
    expect(after.timedOut).toBeGreaterThanOrEqual(1)
    expect(after.receivers).toBe(1)
    await waitFor(
      async () => (await imu('b', 'kill')).delivered >= count,
      DELIVERY_TIMEOUT_MS,
      'b to get all',
    )
    const got = await imu('b', 'kill', count)
    expect([got.missingCount, got.duplicateCount, got.delivered]).toEqual([0, 0, count])
    expect((await stats('b', 'kill')).received.map((r) => [r.frames, r.gaps])).toEqual([[count, 0]])
    await agents.a!.call('close', { name: 'kill' })
    agents.c = await startAgent(net.host('c'))
  })

  // A publisher waiting for its group announces itself with heartbeats; receivers answer each
  // with a STATUS, so the group forms before the first frame and stays formed while it is quiet.
  it('groupSize 2: nothing goes out until b and c report, then everything does', async () => {
    const { group, port } = uniqueEndpoint()
    const count = 100
    for (const host of ['b', 'c'])
      await agents[host]!.call('sub', { name: 'group', options: { group, port, ...on(host) } })
    await agents.a!.call('pub', {
      name: 'group',
      options: { group, port, flow: { groupSize: 2 }, ...on('a') },
    })
    const sending = agents.a!.call('send', { name: 'group', topic: 'imu', count })
    await waitFor(async () => (await flow('group')).receivers === 2, 5_000, 'b and c to report')
    await sending
    for (const host of ['b', 'c'])
      await waitFor(async () => (await imu(host, 'group')).delivered >= count, 10_000, `all at ${host}`)
    await agents.a!.call('close', { name: 'group' })
  })

  it('a restarted publisher (same group, port and local port, a new session): the old one is gone, no false gap', async () => {
    const { group, port } = uniqueEndpoint()
    const count = 1_000
    await agents.b!.call('sub', { name: 'restart', options: { group, port, sourceGoneMs: 500, ...on('b') } })
    // Heartbeats at least every 100 ms, so a publisher that is merely quiet stays alive at 500 ms.
    const options = { group, port, heartbeat: { maxMs: 100 }, ...on('a') }
    const first = await agents.a!.call<PublisherInfo>('pub', { name: 'first', options })
    await agents.a!.call('send', { name: 'first', topic: 'imu', count, burst: BURST })
    await waitFor(async () => (await imu('b', 'restart')).delivered >= count, 10_000, 'the first run')
    await waitFor(async () => (await flow('first')).receivers === 1, 10_000, 'b to report to the first')
    await agents.a!.call('close', { name: 'first' })
    // The new process binds the local port the old one had, so STATUS frames b sends the old
    // session still arrive there.
    const second = await agents.a!.call<PublisherInfo>('pub', {
      name: 'second',
      options: { ...options, localPort: first.local.port },
    })
    expect(second.sessionId).not.toBe(first.sessionId)
    await agents.a!.call('send', { name: 'second', topic: 'imu', count, burst: BURST })
    const events = () => agents.b!.call<SourceEvent[]>('sources', { name: 'restart' })
    await waitFor(
      async () => (await events()).some((e) => e.state === 'gone' && e.sessionId === first.sessionId),
      10_000,
      'the first session to be gone',
    )
    await waitFor(async () => (await imu('b', 'restart')).delivered >= 2 * count, 10_000, 'the second run')
    expect((await events()).map((e) => [e.state, e.sessionId])).toEqual([
      ['alive', first.sessionId],
      ['alive', second.sessionId],
      ['gone', first.sessionId],
    ])
    const frames = await agents.b!.call<FrameSummary[]>('frames', { name: 'restart' })
    const sequences = (session: number) =>
      frames
        .filter((f) => f.session === session.toString(16).padStart(8, '0'))
        .map((f) => f.sequence)
        .sort((x, y) => x - y)
    expect(sequences(first.sessionId)).toEqual([...Array(count).keys()])
    expect(sequences(second.sessionId)).toEqual([...Array(count).keys()])
    const s = await stats('b', 'restart')
    expect(s.received.map((r) => [r.frames, r.gaps])).toEqual([
      [count, 0],
      [count, 0],
    ])
    expect(s.drops).toEqual({})
    expect(s.sources).toEqual({ alive: 1, gone: 1 })
    // The new session's flow control started afresh: b reports to it, and it was never held back
    // by what the old one knew.
    const pub = await flow('second')
    expect(pub.receivers).toBe(1)
    expect(pub.backPressure.waiting).toBe(false)
    // A STATUS b still sent the old session is counted, not taken.
    const drops = (await stats('a', 'second')).drops
    expect(Object.keys(drops).filter((r) => r !== 'foreign-session')).toEqual([])
    await agents.a!.call('close', { name: 'second' })
  })

  it('forged and malformed control frames from a third host: counted by reason, bounded, clamped; nothing stops', async () => {
    const { group, port } = uniqueEndpoint()
    const count = 2_000
    await agents.b!.call('sub', { name: 'atk', options: { group, port, ...on('b') } })
    // x listens on the group like any host may, and learns the session and topic there.
    const xAddress = net.host('x').ipv4('lan')
    await agents.x!.call('plain', { name: 'atk', address: xAddress, group, port })
    // `max`: the publisher follows the largest limit, so an unclamped forged window would be its
    // limit. No heartbeats and a long sent log: every byte out after the stream is a resend, and
    // the frames stay resendable however slow this machine is.
    const pub = await agents.a!.call<PublisherInfo>('pub', {
      name: 'atk',
      options: {
        group,
        port,
        flow: { strategy: 'max' },
        heartbeat: false,
        repair: { windowMs: 60_000 },
        ...on('a'),
      },
    })
    await agents.a!.call('send', { name: 'atk', topic: 'imu', count, burst: BURST })
    await waitFor(async () => (await imu('b', 'atk')).delivered >= count, 10_000, 'the stream at b')
    await waitFor(async () => (await flow('atk')).receivers === 1, 10_000, 'b to report')
    const heard = await agents.x!.call<PlainDatagram[]>('plainReceived', { name: 'atk' })
    const sniffed = decodeFrame(Buffer.from(heard[0]!.hex, 'hex'))
    if (!sniffed.ok) throw new Error(`x heard an undecodable datagram: ${sniffed.reason}`)
    const session = sniffed.header.sessionId
    expect(session).toBe(pub.sessionId)
    const control = { address: net.host('a').ipv4('lan'), port: pub.local.port }
    const toPublisher = (datagram: Uint8Array) =>
      agents.x!.call<number>('plainSend', { name: 'atk', hex: hex(datagram), ...control })
    const toGroup = (datagram: Uint8Array) =>
      agents.x!.call<number>('plainSend', { name: 'atk', hex: hex(datagram), address: group, port })
    const before = await stats('a', 'atk')

    // A STATUS claiming a 4 GiB window (the most a u32 says) for a receiver of x's making.
    const imuBytes = encodeTopic('imu')
    const huge = encodeStatuses(
      session,
      0xbad,
      0,
      0xffff_ffff,
      [{ topicBytes: imuBytes, sequence: count }],
      1_472,
    )
    expect(huge).toHaveLength(1)
    await toPublisher(huge[0]!)
    await waitFor(async () => (await flow('atk')).clamped >= 1, 5_000, 'the forged STATUS')
    const clamped = await flow('atk')
    expect(clamped.limit - clamped.position).toBeLessThanOrEqual(MAX_FLOW_WINDOW_BYTES)

    // A STATUS whose body is 3 bytes (a sound frame otherwise), and a real one cut short.
    await toPublisher(
      encodeControlFrame(
        FrameKind.STATUS,
        { sessionId: session, sequence: 1, topic: '*' },
        new Uint8Array(3),
      ),
    )
    await toPublisher(huge[0]!.subarray(0, 40))
    await waitFor(
      async () => (await stats('a', 'atk')).datagramsIn >= before.datagramsIn + 3,
      5_000,
      'the malformed STATUS frames',
    )

    // A NACK_FRAMES for every sequence: 64 ranges of 65,535.
    const ranges: Array<[number, number]> = []
    for (let r = 0; r < MAX_NACK_FRAME_RANGES; r++)
      ranges.push([r * MAX_NACK_FRAME_COUNT, MAX_NACK_FRAME_COUNT])
    const everything = encodeNackFrames(
      { sessionId: session, topic: 'imu' },
      { receiverSession: 0xbad, ranges },
    )
    const heardBefore = (await agents.x!.call<PlainDatagram[]>('plainReceived', { name: 'atk' })).length
    const beforeNack = await stats('a', 'atk')
    await toPublisher(everything)
    await waitFor(
      async () => (await stats('a', 'atk')).repair.nacksReceived === beforeNack.repair.nacksReceived + 1,
      5_000,
      'the NACK for everything',
    )
    const afterNack = await stats('a', 'atk')
    const resentDatagrams = afterNack.repair.datagramsResent - beforeNack.repair.datagramsResent
    const resentBytes = afterNack.bytesOut - beforeNack.bytesOut
    expect(resentDatagrams).toBeGreaterThan(0)
    expect(afterNack.datagramsOut - beforeNack.datagramsOut).toBe(resentDatagrams)
    expect(resentBytes).toBeLessThanOrEqual(NACK_AMPLIFICATION * everything.length)
    expect(afterNack.repair.creditLimited - beforeNack.repair.creditLimited).toBe(1)
    // What x hears on the group: the resends (they go to the group, byte for byte), nothing more.
    const fromA = async () =>
      (await agents.x!.call<PlainDatagram[]>('plainReceived', { name: 'atk', from: heardBefore })).filter(
        (d) => d.address === control.address,
      )
    await waitFor(async () => (await fromA()).length >= resentDatagrams, 5_000, 'the resends at x')
    expect((await fromA()).reduce((n, d) => n + d.hex.length / 2, 0)).toBe(resentBytes)

    // A NACK_FRAMES for a topic the publisher never sent on.
    await toPublisher(
      encodeNackFrames(
        { sessionId: session, topic: 'made-up' },
        { receiverSession: 0xbad, ranges: [[0, 100]] },
        400,
      ),
    )
    await waitFor(
      async () => (await stats('a', 'atk')).repair.nacksReceived === afterNack.repair.nacksReceived + 1,
      5_000,
      'the NACK for a made-up topic',
    )

    // To the subscriber, on the group: a HEARTBEAT with garbage for a body, one in the publisher's
    // session claiming imu is 1,000,000 frames on (a stranger's: it must move nothing), garbage.
    const bBefore = await stats('b', 'atk')
    await toGroup(
      encodeControlFrame(
        FrameKind.HEARTBEAT,
        { sessionId: session, sequence: 0, topic: '*' },
        Uint8Array.from([0xff, 0x00, 0x13, 0x37, 0xde, 0xad, 0xbe, 0xef, 0x01]),
      ),
    )
    for (const d of encodeHeartbeats(session, 7, [{ topicBytes: imuBytes, sequence: 1_000_000 }], 1_472))
      await toGroup(d)
    await toGroup(Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff))
    await waitFor(
      async () => (await stats('b', 'atk')).datagramsIn >= bBefore.datagramsIn + 3,
      5_000,
      'the forgeries at b',
    )

    // The publisher: each counted by reason; nothing else taken from them.
    const a = await stats('a', 'atk')
    expect(a.drops).toEqual({ 'bad-status': 1 })
    expect(outcomesAddUp(a)).toBe(true)
    // Only the sound STATUS frames reached flow control. The one cut short is taken for a plain
    // datagram (control-inbox.ts: a datagram `truncated` before its CRC is a raw-mode `reply`).
    expect(a.outcomes).toEqual({ status: a.flow!.statuses, 'bad-status': 1, nack: 2, reply: 1 })
    expect(a.repair.unavailable - afterNack.repair.unavailable).toBe(1)
    expect(a.repair.datagramsResent).toBe(afterNack.repair.datagramsResent)
    expect(a.sent.map((s) => s.topic)).toEqual(['imu'])
    expect(a.flow!.clamped).toBe(1)
    expect(a.flow!.invalid).toBe(0)
    // The subscriber: the garbage counted, the stranger's heartbeat moved nothing.
    const b = await stats('b', 'atk')
    expect(b.drops).toEqual({ 'bad-heartbeat': 1, 'bad-magic': 1 })
    expect(outcomesAddUp(b)).toBe(true)
    expect(b.received.map((r) => [r.frames, r.gaps])).toEqual([[count, 0]])

    // Nothing stopped: the stream goes on, and every frame still arrives once.
    await agents.a!.call('send', { name: 'atk', topic: 'imu', from: count, count: 100 })
    await waitFor(async () => (await imu('b', 'atk')).delivered >= count + 100, 10_000, 'the stream after')
    const got = await imu('b', 'atk', count + 100)
    expect([got.missingCount, got.duplicateCount]).toEqual([0, 0])
    expect((await stats('b', 'atk')).received.map((r) => [r.frames, r.gaps])).toEqual([[count + 100, 0]])
    await agents.a!.call('close', { name: 'atk' })
  })

  it("a stranger's frames at a receiver whose window keeps moving: STATUS only back to the stranger, never more bytes than it sent", async () => {
    const { group, port } = uniqueEndpoint()
    const name = 'reflect'
    // x makes up more publishers than a receiver reports to.
    const sessions = MAX_STATUS_SESSIONS + 44
    const madeUp = (session: number) => session >= 0x7000_0000 && session < 0x7000_0000 + sessions
    // b's application takes frames slowly, so its queue, and the window it offers, move all the
    // time. Its receive buffer holds x's flood below (its window keeps its queue far under the limit).
    await agents.b!.call('sub', {
      name,
      options: { group, port, recvBufferBytes: 1024 * 1024, queueLimit: 1_000_000, ...on('b') },
      slow: SLOW,
    })
    const pub = await agents.a!.call<PublisherInfo>('pub', {
      name,
      options: { group, port, flow: { strategy: 'min' }, ...on('a') },
    })
    expect(madeUp(pub.sessionId)).toBe(false)
    await agents.a!.call('send', { name, topic: 'imu', count: WARM_UP })
    await waitFor(async () => (await flow(name)).receivers === 1, 10_000, "b's STATUS")
    // a streams all through the attack, held back to what b's application takes.
    const streamed = FRAMES * 2
    const streaming = agents.a!.call('send', {
      name,
      topic: 'imu',
      from: WARM_UP,
      count: streamed,
      burst: BURST,
    })

    // x, with a plain socket of its own, sends the group the fewest frames that get a receiver's
    // STATUS (4) for each of its made-up publishers, on a topic of its own.
    await agents.x!.call('plain', { name, address: net.host('x').ipv4('lan') })
    const topicBytes = encodeTopic('x')
    // A type b knows: no schema request goes back to x, only STATUS.
    const payload = Imu.encode({ header: { sourceId: 'x' } })
    const forged: string[] = []
    for (let i = 0; i < sessions; i++)
      for (let sequence = 0; sequence < 4; sequence++)
        forged.push(
          hex(encodeWholeFrame(0, 0, 0x7000_0000 + i, sequence, Imu.fingerprint, topicBytes, payload)),
        )
    const sentBytes = await agents.x!.call<number>('plainSendAll', {
      name,
      hexes: forged,
      address: group,
      port,
      burst: 20,
    })
    const perSession = sentBytes / sessions
    // As long as b keeps a publisher it reports on, and a little more.
    await new Promise((resolve) => setTimeout(resolve, STATUS_SESSION_IDLE_MS + 1_000))

    // Every datagram x got is a STATUS from b about one of x's made-up sessions; each of them got
    // no more STATUS bytes than its frames brought, and one status more; at most as many as b
    // reports to, a's among them.
    const got = await agents.x!.call<PlainDatagram[]>('plainReceived', { name })
    const bySession = new Map<number, { datagrams: number; bytes: number; largest: number }>()
    const bAddress = net.host('b').ipv4('lan')
    for (const d of got) {
      expect(d.address).toBe(bAddress)
      const frame = decodeFrame(Buffer.from(d.hex, 'hex'))
      if (!frame.ok) throw new Error(`x got an undecodable datagram: ${frame.reason}`)
      expect(frame.header.kind).toBe(FrameKind.STATUS)
      const s = bySession.get(frame.header.sessionId) ?? { datagrams: 0, bytes: 0, largest: 0 }
      s.datagrams++
      s.bytes += d.hex.length / 2
      s.largest = Math.max(s.largest, d.hex.length / 2)
      bySession.set(frame.header.sessionId, s)
    }
    expect(bySession.size).toBeGreaterThan(0)
    expect(bySession.size).toBeLessThanOrEqual(MAX_STATUS_SESSIONS - 1)
    expect([...bySession.keys()].filter((session) => !madeUp(session))).toEqual([])
    const over = [...bySession].filter(([, s]) => s.bytes > perSession + s.largest)
    expect(over.map(([session, s]) => ({ session, ...s, perSession }))).toEqual([])
    const b = await stats('b', name)
    expect(b.status!.sessionsRefused).toBeGreaterThan(0)

    // The stream went on: b has every frame of a's, once.
    await streaming
    const total = WARM_UP + streamed
    await waitFor(
      async () => (await imu('b', name)).delivered >= total,
      DELIVERY_TIMEOUT_MS,
      'the stream at b',
    )
    const imuAtB = await imu('b', name, total)
    expect([imuAtB.delivered, imuAtB.missingCount, imuAtB.duplicateCount]).toEqual([total, 0, 0])
    await agents.a!.call('close', { name })
  })

  it("a stranger's streams in a publisher's session add nothing to the STATUS the publisher gets", async () => {
    const { group, port } = uniqueEndpoint()
    const name = 'padding'
    await agents.b!.call('sub', { name, options: { group, port, ...on('b') } })
    const pub = await agents.a!.call<PublisherInfo>('pub', {
      name,
      options: { group, port, flow: { strategy: 'min' }, ...on('a') },
    })
    await agents.a!.call('send', { name, topic: 'imu', count: WARM_UP })
    await waitFor(async () => (await flow(name)).receivers === 1, 10_000, "b's STATUS")
    // x pads a's session at b: 200 topics of 250 bytes, 4 frames each, in a's session id.
    await agents.x!.call('plain', { name, address: net.host('x').ipv4('lan') })
    const payload = Imu.encode({ header: { sourceId: 'x' } })
    const forged: string[] = []
    for (let t = 0; t < 200; t++) {
      const topicBytes = encodeTopic(`${String(t).padStart(3, '0')}${'p'.repeat(247)}`)
      for (let sequence = 0; sequence < 4; sequence++)
        forged.push(
          hex(encodeWholeFrame(0, 0, pub.sessionId, sequence, Imu.fingerprint, topicBytes, payload)),
        )
    }
    await agents.x!.call('plainSendAll', { name, hexes: forged, address: group, port, burst: 20 })
    await waitFor(
      async () => (await stats('b', name)).datagramsIn >= WARM_UP + forged.length,
      10_000,
      "x's frames at b",
    )
    // a goes quiet: its heartbeats, answered by b, are all it hears from then on.
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    const a = await stats('a', name)
    expect(a.heartbeats!.sent).toBeGreaterThan(0)
    // What b sent a (b is its one receiver) is no more than what a sent, and one status; each
    // status lists imu alone (about 20 bytes), where a padded one would carry 200 × 250 bytes.
    expect(a.bytesIn).toBeLessThanOrEqual(a.bytesOut + 1_472)
    expect((await flow(name)).receivers).toBe(1)
    await agents.a!.call('close', { name })
  })
})

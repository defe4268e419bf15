/**
 * The send engine with no socket: a Publisher over a fake link. What goes out, in which datagrams,
 * with which sequence numbers; what a NACK brings back; what a kernel refusal does.
 */
import { Imu, nowStampNs } from '@shoal/schema'
import { describe, expect, it } from 'vitest'
import { BACK_PRESSURED, type EngineOptions, Publisher, type PublisherInfo } from '../src/index.js'
import {
  decodeFrame,
  encodeControlFrame,
  encodeNack,
  encodeNackFrames,
  encodeStatuses,
  encodeTopic,
  Flag,
  FrameKind,
  forEachInnerFrame,
  fragmentMessage,
} from '../src/wire/index.js'
import { FakeLink } from './fake-link.js'

const SESSION = 0x5eed
const info = (budget: number): PublisherInfo => ({
  mode: 'multicast',
  family: 4,
  destination: '239.0.0.1',
  port: 5000,
  interface: 'lo',
  interfaceAddress: '127.0.0.1',
  mtu: 65_536,
  budget,
  ttl: 1,
  loopback: true,
  sessionId: SESSION,
  local: { address: '127.0.0.1', port: 40000 },
})

function publisherOn(options: EngineOptions = {}, budget = 1_472) {
  const link = new FakeLink()
  const publisher = new Publisher(link, info(budget), { heartbeat: false, ...options })
  return { link, publisher }
}

const imu = () => ({
  header: { sourceId: 'imu', frameId: 'base', stampNs: nowStampNs() },
  angularVelocity: { x: 1, y: 2, z: 3 },
})

function decoded(datagram: Uint8Array) {
  const frame = decodeFrame(datagram, 0, datagram.length)
  if (!frame.ok) throw new Error(`undecodable datagram: ${frame.reason}`)
  return frame
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('send engine over a fake link', () => {
  it('numbers every frame of a topic from one ledger, whichever entry point sent it', async () => {
    const { link, publisher } = publisherOn()
    expect(publisher.send('imu', Imu, imu())).toBe(0)
    expect((await publisher.publish('imu', Imu, imu())).sequence).toBe(1)
    expect((await publisher.publishEncoded('imu', Imu.fingerprint, Imu.encode(imu()))).sequence).toBe(2)
    expect(publisher.send('other', Imu, imu())).toBe(0)
    await publisher.flush()
    const sequences = link.take().map((d) => [decoded(d).header.topic, decoded(d).header.sequence])
    expect(sequences).toEqual([
      ['imu', 0],
      ['imu', 1],
      ['imu', 2],
      ['other', 0],
    ])
    expect(publisher.stats().datagramsOut).toBe(4)
  })

  it('packs small frames of several topics into one BATCH datagram and counts one datagram', async () => {
    const { link, publisher } = publisherOn({ batch: true })
    for (let i = 0; i < 10; i++) publisher.send(i % 2 === 0 ? 'a' : 'b', Imu, imu())
    await publisher.flush()
    const [batch, ...rest] = link.take()
    expect(rest).toEqual([])
    const frame = decoded(batch!)
    expect(frame.header.kind).toBe(FrameKind.BATCH)
    const inner: string[] = []
    forEachInnerFrame(frame.payload, (header) => inner.push(`${header.topic}${header.sequence}`))
    expect(inner).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'b2', 'a3', 'b3', 'a4', 'b4'])
    expect(publisher.stats().datagramsOut).toBe(1)
  })

  it('resends the fragments a NACK names, once per holdoff, through the same outbox', async () => {
    const { link, publisher } = publisherOn()
    const payload = new Uint8Array(10_000).fill(7)
    const result = await publisher.publishEncoded('camera', 1, payload)
    const fragments = link.take()
    expect(fragments.length).toBe(result.datagrams)
    expect(fragments.every((f) => (decoded(f).header.flags & Flag.REPAIRABLE) !== 0)).toBe(true)
    const nack = encodeNack(
      { sessionId: SESSION, sequence: result.sequence, topic: 'camera' },
      { receiverSession: 9, ranges: [[2, 2]] },
      200,
    )
    link.deliver(nack)
    link.deliver(nack) // within the holdoff: nothing more
    await publisher.flush()
    const resent = link.take()
    expect(resent.map((d) => decoded(d).header.fragmentIndex)).toEqual([2, 3])
    expect(resent.map((d) => Buffer.from(d))).toEqual(
      [fragments[2], fragments[3]].map((d) => Buffer.from(d!)),
    )
    const stats = publisher.stats()
    expect(stats.repair).toMatchObject({ nacksReceived: 2, fragmentsResent: 2 })
    expect(stats.outcomes).toMatchObject({ nack: 2 })
  })

  it('counts a malformed or foreign control frame by reason and sends nothing for it', async () => {
    const { link, publisher } = publisherOn()
    const warnings: unknown[] = []
    publisher.on('warning', (w) => warnings.push(w))
    const nack = encodeNack(
      { sessionId: SESSION + 1, sequence: 0, topic: 't' },
      { receiverSession: 1, ranges: [[0, 1]] },
    )
    link.deliver(nack)
    const corrupt = Uint8Array.from(
      encodeNack({ sessionId: SESSION, sequence: 0, topic: 't' }, { receiverSession: 1, ranges: [[0, 1]] }),
    )
    corrupt[corrupt.length - 1] = corrupt.at(-1)! ^ 0xff
    link.deliver(corrupt)
    await settle()
    expect(link.take()).toEqual([])
    expect(publisher.stats().drops).toMatchObject({ 'foreign-session': 1, 'bad-crc': 1 })
    expect(warnings).toHaveLength(2)
  })

  it('turns a kernel refusal into a rejected publish, and a refused send() into a counted warning', async () => {
    const { link, publisher } = publisherOn()
    link.refuse = new Error('ENOBUFS')
    await expect(publisher.publish('imu', Imu, imu())).rejects.toMatchObject({ code: 'SHOAL_SOCKET' })
    const warnings: Array<{ reason: string }> = []
    publisher.on('warning', (w) => warnings.push(w))
    publisher.send('imu', Imu, imu())
    await settle()
    expect(warnings.map((w) => w.reason)).toEqual(['send-failed'])
    expect(publisher.stats().drops['send-failed']).toBe(1)
  })

  it('sends a last heartbeat with each topic’s last sequence on close, then closes the link', async () => {
    const link = new FakeLink()
    const publisher = new Publisher(link, info(1_472), {})
    publisher.send('imu', Imu, imu())
    publisher.send('imu', Imu, imu())
    await publisher.close()
    const last = decoded(link.sent.at(-1)!)
    expect(last.header.kind).toBe(FrameKind.HEARTBEAT)
    expect(publisher.stats().heartbeats?.sent).toBeGreaterThanOrEqual(1)
    expect(link.closed).toBe(true)
  })

  it('answers NACK_FRAMES from the sent log: the datagrams holding the frames, once per holdoff', async () => {
    const { link, publisher } = publisherOn({ batch: { lingerMs: 1 } })
    for (let i = 0; i < 5; i++) publisher.send('imu', Imu, imu())
    await publisher.flush()
    for (let i = 0; i < 5; i++) publisher.send('imu', Imu, imu())
    await publisher.flush()
    const [first, second] = link.take()
    const inner: number[] = []
    forEachInnerFrame(decoded(first!).payload, (header) => {
      inner.push(header.flags & Flag.REPAIRABLE)
    })
    expect(inner.every((flag) => flag !== 0)).toBe(true)
    const ask = (ranges: Array<[number, number]>, from = '127.0.0.2') =>
      link.deliver(
        encodeNackFrames({ sessionId: SESSION, topic: 'imu' }, { receiverSession: 3, ranges }, 400),
        from,
      )
    ask([[3, 4]]) // frames 3..6: both batches
    ask([[4, 1]], '127.0.0.3') // a second receiver within the holdoff: coalesced, nothing more
    await settle()
    expect(link.take().map((d) => Buffer.from(d))).toEqual([Buffer.from(first!), Buffer.from(second!)])
    expect(publisher.stats().repair).toMatchObject({ nacksReceived: 2, datagramsResent: 2 })
  })

  it('resends unbatched whole frames, and never makes a topic from a NACK naming another', async () => {
    const { link, publisher } = publisherOn()
    for (let i = 0; i < 3; i++) publisher.send('imu', Imu, imu())
    await publisher.flush()
    const sent = link.take()
    link.deliver(
      encodeNackFrames({ sessionId: SESSION, topic: 'imu' }, { receiverSession: 3, ranges: [[1, 1]] }, 200),
    )
    link.deliver(
      encodeNackFrames(
        { sessionId: SESSION, topic: 'made-up' },
        { receiverSession: 3, ranges: [[0, 9]] },
        200,
      ),
    )
    await settle()
    expect(link.take().map((d) => Buffer.from(d))).toEqual([Buffer.from(sent[1]!)])
    expect(publisher.stats().repair).toMatchObject({ datagramsResent: 1, unavailable: 1 })
    expect(publisher.stats().sent.map((s) => s.topic)).toEqual(['imu'])
  })

  it('a NACK_FRAMES for every sequence costs bounded work and at most 16 × its length', async () => {
    const { link, publisher } = publisherOn()
    for (let i = 0; i < 2_000; i++) publisher.send('imu', Imu, imu())
    await publisher.flush()
    link.take()
    const ranges: Array<[number, number]> = []
    for (let r = 0; r < 64; r++) ranges.push([r * 65_535, 65_535])
    const nack = encodeNackFrames({ sessionId: SESSION, topic: 'imu' }, { receiverSession: 3, ranges })
    link.deliver(nack)
    await settle()
    const resent = link.take()
    const bytes = resent.reduce((n, d) => n + d.length, 0)
    expect(bytes).toBeLessThanOrEqual(16 * nack.length)
    expect(resent.length).toBeGreaterThan(0)
    expect(publisher.stats().repair.creditLimited).toBe(1)
  })

  it('keeps nothing and marks nothing REPAIRABLE with repair off', async () => {
    const { link, publisher } = publisherOn({ repair: false })
    publisher.send('imu', Imu, imu())
    await publisher.flush()
    expect(decoded(link.take()[0]!).header.flags & Flag.REPAIRABLE).toBe(0)
    link.deliver(
      encodeNackFrames({ sessionId: SESSION, topic: 'imu' }, { receiverSession: 3, ranges: [[0, 1]] }, 200),
    )
    await settle()
    expect(link.take()).toEqual([])
    expect(publisher.stats().repair.unavailable).toBe(1)
  })

  describe('flow control', () => {
    const status = (next: number, window: number, receiver = 1, topic = 'imu') =>
      encodeStatuses(
        SESSION,
        receiver,
        0,
        window,
        [{ topicBytes: encodeTopic(topic), sequence: next }],
        1_472,
      )[0]!

    it('a receiver that consumed nothing holds send() back once its window is used; a STATUS lets it go on', async () => {
      const { link, publisher } = publisherOn()
      publisher.send('imu', Imu, imu())
      const frame = link.take()[0]!.length
      // consumed nothing past frame 0, room for two more frames
      link.deliver(status(0, 3 * frame))
      expect(publisher.send('imu', Imu, imu())).toBe(1)
      expect(publisher.send('imu', Imu, imu())).toBe(2)
      expect(publisher.send('imu', Imu, imu())).toBe(BACK_PRESSURED)
      const waited = publisher.publish('imu', Imu, imu())
      let done = false
      void waited.then(() => {
        done = true
      })
      await settle()
      expect(done).toBe(false)
      link.deliver(status(3, 3 * frame)) // consumed 0..2
      expect((await waited).sequence).toBe(3)
      const flow = publisher.stats().flow!
      expect(flow).toMatchObject({ receivers: 1, sendsRefused: 1 })
      expect(flow.backPressure.episodes).toBe(1)
    })

    it('min waits for the slowest receiver, max for the fastest', async () => {
      for (const strategy of ['min', 'max'] as const) {
        const { link, publisher } = publisherOn({ flow: { strategy } })
        publisher.send('imu', Imu, imu())
        const frame = link.take()[0]!.length
        link.deliver(status(0, frame, 1)) // slow: room for nothing more
        link.deliver(status(1, 10 * frame, 2)) // fast
        const sent = publisher.send('imu', Imu, imu())
        expect(sent === BACK_PRESSURED ? 'held' : 'sent').toBe(strategy === 'min' ? 'held' : 'sent')
      }
    })

    it('waits for a required group before anything goes out', async () => {
      const { link, publisher } = publisherOn({ flow: { groupSize: 2 } })
      expect(publisher.send('imu', Imu, imu())).toBe(BACK_PRESSURED)
      link.deliver(status(0, 1_000_000, 1))
      expect(publisher.send('imu', Imu, imu())).toBe(BACK_PRESSURED)
      link.deliver(status(0, 1_000_000, 2))
      expect(publisher.send('imu', Imu, imu())).toBe(0)
    })

    it('a forged STATUS claiming a huge window is clamped; a malformed one is counted, not taken', async () => {
      const { link, publisher } = publisherOn()
      publisher.send('imu', Imu, imu())
      link.deliver(status(0, 0xffff_ffff))
      // a STATUS whose body is 3 bytes (a valid frame, CRC and all)
      link.deliver(
        encodeControlFrame(
          FrameKind.STATUS,
          { sessionId: SESSION, sequence: 0, topic: '*' },
          new Uint8Array(3),
        ),
      )
      await settle()
      const stats = publisher.stats()
      expect(stats.flow).toMatchObject({ receivers: 1, clamped: 1 })
      expect(stats.flow!.limit).toBeLessThanOrEqual(64 * 1024 * 1024 + 1_000)
      expect(stats.drops).toEqual({ 'bad-status': 1 })
    })

    it('with flow: false a STATUS changes nothing', async () => {
      const { link, publisher } = publisherOn({ flow: false })
      link.deliver(status(0, 0))
      expect(publisher.send('imu', Imu, imu())).toBe(0)
      expect(publisher.stats().flow).toBeUndefined()
      expect(publisher.stats().outcomes).toMatchObject({ status: 1 })
    })
  })

  describe("a relay's output (forward with `about`): hop-by-hop repair", () => {
    const OTHER = 0xabc
    const frameOf = (sequence: number, index = 0, count = 1) => {
      const payload = new Uint8Array(200).fill(sequence)
      const frames = fragmentMessage(
        {
          kind: FrameKind.DATA,
          flags: Flag.REPAIRABLE,
          hops: 0,
          topic: 'imu',
          sessionId: OTHER,
          sequence,
          fingerprint: 1,
          extensionLength: 0,
        },
        encodeTopic('imu'),
        count === 1 ? payload : new Uint8Array(count * 600),
        count === 1 ? 1_472 : 700,
      )
      return frames[index]!
    }
    const about = (sequence: number) => ({ sessionId: OTHER, topic: 'imu', sequence })

    it('keeps forwarded frames, marks them REPAIRABLE, and answers NACK_FRAMES about their session', async () => {
      const { link, publisher } = publisherOn()
      for (let s = 0; s < 3; s++) await publisher.forward(frameOf(s), 1, false, about(s))
      const sent = link.take()
      expect(sent.every((d) => (decoded(d).header.flags & Flag.REPAIRABLE) !== 0)).toBe(true)
      link.deliver(
        encodeNackFrames({ sessionId: OTHER, topic: 'imu' }, { receiverSession: 3, ranges: [[1, 1]] }, 200),
      )
      await settle()
      expect(link.take().map((d) => Buffer.from(d))).toEqual([Buffer.from(sent[1]!)])
      expect(publisher.stats().repair.datagramsResent).toBe(1)
    })

    it('answers a NACK for fragments of a forwarded message it has; one for a session it never forwarded is foreign', async () => {
      const { link, publisher } = publisherOn()
      for (let i = 0; i < 4; i++) await publisher.forward(frameOf(7, i, 4), 1, false, about(7))
      const sent = link.take()
      link.deliver(
        encodeNack(
          { sessionId: OTHER, sequence: 7, topic: 'imu' },
          { receiverSession: 3, ranges: [[2, 1]] },
          200,
        ),
      )
      link.deliver(
        encodeNack(
          { sessionId: 0x999, sequence: 7, topic: 'imu' },
          { receiverSession: 3, ranges: [[2, 1]] },
          200,
        ),
      )
      await settle()
      expect(link.take().map((d) => decoded(d).header.fragmentIndex)).toEqual([2])
      expect(Buffer.from(sent[2]!)).toBeDefined()
      expect(publisher.stats().drops).toMatchObject({ 'foreign-session': 1 })
    })

    it('without `about`, or for a foreign frame, keeps nothing and clears REPAIRABLE', async () => {
      const { link, publisher } = publisherOn()
      await publisher.forward(frameOf(0), 1)
      await publisher.forward(frameOf(1), 1, true, about(1))
      expect(link.take().map((d) => decoded(d).header.flags & Flag.REPAIRABLE)).toEqual([0, 0])
    })
  })
})

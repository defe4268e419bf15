import {
  decodeFrame,
  encodeControlFrame,
  Flag,
  FrameKind,
  Offset,
  setHops,
  writeCrc,
} from '@shoal/transport/wire'
import { describe, expect, it } from 'vitest'
import {
  ack,
  datagram,
  FakeInput,
  FakeOutput,
  fakeClock,
  OUTSIDER,
  OWN,
  settle,
  setup,
  UPSTREAM,
} from '../test/forwarder-fakes.js'
import { ACK_ROUTE_IDLE_MS, AckRoutes, MAX_ACK_SESSIONS } from './ack-routes.js'
import { MAX_SEALED_CONTROL_BYTES } from './forwarder.js'

describe('Forwarder acks', () => {
  it('sends an ack back from the input its session came in on, to where it came from, one hop further', async () => {
    const a = new FakeInput('a')
    const b = new FakeInput('b')
    const { forwarder } = setup([a, b], [new FakeOutput('out')])
    forwarder.datagram(1, datagram('imu', { session: 5, flags: Flag.ACK_REQUEST }))
    forwarder.ack(ack(5, 1))
    await settle()
    expect(a.replies).toEqual([])
    expect(b.replies).toHaveLength(1)
    expect(b.replies[0]!.to).toMatchObject(UPSTREAM)
    const sent = decodeFrame(b.replies[0]!.data)
    expect(sent.ok && sent.header).toMatchObject({ kind: FrameKind.ACK, sessionId: 5, hops: 2 })
    expect(forwarder.counters().acks).toEqual({
      forwarded: 1,
      malformed: 0,
      unroutable: 0,
      'max-hops': 0,
      errors: 0,
    })
  })

  it('has no way back for sessions that never asked for acks, were dropped, or are unknown', () => {
    const { forwarder } = setup([new FakeInput('in')], [new FakeOutput('out', ['imu'])])
    forwarder.datagram(0, datagram('imu', { session: 1 })) // no ack request
    forwarder.datagram(0, datagram('gps', { session: 2, flags: Flag.ACK_REQUEST })) // filtered
    forwarder.datagram(0, datagram('imu', { session: 3, flags: Flag.ACK_REQUEST, from: OWN })) // loop
    for (const session of [1, 2, 3, 4]) forwarder.ack(ack(session))
    expect(forwarder.counters().acks).toMatchObject({ forwarded: 0, unroutable: 4 })
    expect(forwarder.ackSessions).toBe(0)
  })

  it('a duplicate by a second path does not change the way back', async () => {
    const first = new FakeInput('first')
    const second = new FakeInput('second')
    const { forwarder } = setup([first, second], [new FakeOutput('out')])
    forwarder.datagram(0, datagram('imu', { session: 5, flags: Flag.ACK_REQUEST }))
    forwarder.datagram(
      1,
      datagram('imu', { session: 5, flags: Flag.ACK_REQUEST, from: { address: '10.9.9.9', port: 1 } }),
    )
    forwarder.ack(ack(5))
    await settle()
    expect(first.replies).toHaveLength(1)
    expect(second.replies).toHaveLength(0)
  })

  it('drops acks that have crossed --max-hops relays', () => {
    const { forwarder } = setup([new FakeInput('in')], [new FakeOutput('out')], 3)
    forwarder.datagram(0, datagram('imu', { session: 5, flags: Flag.ACK_REQUEST }))
    forwarder.ack(ack(5, 3))
    expect(forwarder.counters().acks).toMatchObject({ forwarded: 0, 'max-hops': 1 })
  })

  it(`remembers at most ${MAX_ACK_SESSIONS} sessions; an idle one is forgotten for a new one, a live one is not`, async () => {
    const clock = fakeClock()
    const ackRoutes = new AckRoutes({ now: clock.now })
    const { forwarder } = setup([new FakeInput('in')], [new FakeOutput('out')], { ackRoutes })
    for (let session = 1; session <= MAX_ACK_SESSIONS + 1; session++)
      forwarder.datagram(0, datagram('imu', { session, flags: Flag.ACK_REQUEST }))
    // every route is in use: the last session gets none rather than push a live one out
    expect(forwarder.ackSessions).toBe(MAX_ACK_SESSIONS)
    expect(forwarder.counters().ackRoutes).toEqual({ conflicts: 0, moved: 0, refused: 1 })
    clock.ms += ACK_ROUTE_IDLE_MS
    forwarder.datagram(0, datagram('imu', { session: 2, sequence: 1, flags: Flag.ACK_REQUEST })) // 2 in use again
    forwarder.datagram(0, datagram('imu', { session: MAX_ACK_SESSIONS + 2, flags: Flag.ACK_REQUEST }))
    expect(forwarder.ackSessions).toBe(MAX_ACK_SESSIONS)
    expect(forwarder.counters().tables['ack-routes']).toEqual({ entries: MAX_ACK_SESSIONS, evicted: 1 })
    forwarder.ack(ack(1)) // the least recently seen, forgotten
    forwarder.ack(ack(2))
    forwarder.ack(ack(MAX_ACK_SESSIONS + 1)) // refused
    forwarder.ack(ack(MAX_ACK_SESSIONS + 2))
    await settle()
    expect(forwarder.counters().acks).toMatchObject({ forwarded: 2, unroutable: 2 })
  })
})

describe('Forwarder: the way back for acks cannot be taken', () => {
  const asking = { session: 5, flags: Flag.ACK_REQUEST }
  /** A forwarder with one input whose ack routes run on a clock the test moves. */
  const timedForwarder = () => {
    const clock = fakeClock()
    const input = new FakeInput('in')
    const { forwarder } = setup([input], [new FakeOutput('out')], {
      ackRoutes: new AckRoutes({ now: clock.now }),
    })
    return { clock, input, forwarder }
  }

  it('a frame with a known session id from another address does not move its way back', async () => {
    const input = new FakeInput('in')
    const out = new FakeOutput('out')
    const { forwarder } = setup([input], [out])
    forwarder.datagram(0, datagram('imu', { ...asking, sequence: 0 }))
    // the outsider read session 5 off the wire and sends frames of its own with it, ahead of the publisher
    for (let sequence = 1; sequence <= 10; sequence++)
      forwarder.datagram(0, datagram('imu', { ...asking, sequence, from: OUTSIDER }))
    for (let i = 0; i < 50; i++) forwarder.ack(ack(5))
    await settle()
    expect(input.replies).toHaveLength(50)
    expect(input.replies.every((r) => r.to.address === UPSTREAM.address && r.to.port === UPSTREAM.port)).toBe(
      true,
    )
    expect(forwarder.counters().ackRoutes).toEqual({ conflicts: 10, moved: 0, refused: 0 })
    // its frames are data like any other (no keys yet): forwarded, and not a drop
    expect(out.got).toHaveLength(11)
  })

  it('another port or another input is another place too', async () => {
    const a = new FakeInput('a')
    const b = new FakeInput('b')
    const { forwarder } = setup([a, b], [new FakeOutput('out')])
    forwarder.datagram(0, datagram('imu', { ...asking, sequence: 0 }))
    forwarder.datagram(0, datagram('imu', { ...asking, sequence: 1, from: { ...UPSTREAM, port: 1 } }))
    forwarder.datagram(1, datagram('imu', { ...asking, sequence: 2 }))
    forwarder.ack(ack(5))
    await settle()
    expect(a.replies.map((r) => r.to)).toEqual([{ input: 0, ...UPSTREAM }])
    expect(forwarder.counters().ackRoutes.conflicts).toBe(2)
  })

  it(`moves only after ${ACK_ROUTE_IDLE_MS / 1000} s without a frame from the pinned place (a publisher that moved)`, async () => {
    const { clock, input, forwarder } = timedForwarder()
    const moved = { address: '10.77.1.3', port: 50000 }
    forwarder.datagram(0, datagram('imu', { ...asking, sequence: 0 }))
    clock.ms += ACK_ROUTE_IDLE_MS - 1
    forwarder.datagram(0, datagram('imu', { ...asking, sequence: 1, from: moved })) // too soon
    clock.ms += 1
    forwarder.datagram(0, datagram('imu', { ...asking, sequence: 2, from: moved }))
    forwarder.ack(ack(5))
    await settle()
    expect(input.replies.map((r) => r.to.address)).toEqual([moved.address])
    expect(forwarder.counters().ackRoutes).toEqual({ conflicts: 1, moved: 1, refused: 0 })
  })

  it('the publisher’s own copies keep its way back in use when forged frames beat them to the relay', async () => {
    const { clock, input, forwarder } = timedForwarder()
    forwarder.datagram(0, datagram('imu', { ...asking, sequence: 0 }))
    // from then on the outsider sends each next sequence number first: the publisher's frames are duplicates
    for (let sequence = 1; sequence <= 4; sequence++) {
      clock.ms += ACK_ROUTE_IDLE_MS / 2
      forwarder.datagram(0, datagram('imu', { ...asking, sequence, from: OUTSIDER }))
      forwarder.datagram(0, datagram('imu', { ...asking, sequence }))
    }
    forwarder.ack(ack(5))
    await settle()
    expect(input.replies.map((r) => r.to.address)).toEqual([UPSTREAM.address])
    expect(forwarder.counters()).toMatchObject({
      dropped: { duplicate: 4 },
      ackRoutes: { conflicts: 4, moved: 0 },
    })
  })

  it('acks do not keep a way back in use: only the session’s frames do', async () => {
    const { clock, forwarder } = timedForwarder()
    forwarder.datagram(0, datagram('imu', { ...asking, sequence: 0 }))
    for (let i = 0; i < 4; i++) {
      clock.ms += ACK_ROUTE_IDLE_MS / 2
      forwarder.ack(ack(5))
    }
    forwarder.datagram(0, datagram('imu', { ...asking, sequence: 1, from: OUTSIDER }))
    expect(forwarder.counters().ackRoutes.moved).toBe(1)
  })
})

describe('Forwarder: what goes back upstream is an ack', () => {
  /** A control frame about session 5 (or `session`), `hops` relays from its receiver. */
  const control = (
    payload: Uint8Array,
    { kind = FrameKind.ACK as FrameKind, hops = 0, session = 5 } = {},
  ) => {
    const data = encodeControlFrame(kind, { sessionId: session, sequence: 0, topic: 'imu' }, payload)
    setHops(data, 0, hops)
    writeCrc(data, 0, data.length)
    const decoded = decodeFrame(data)
    if (!decoded.ok) throw new Error(decoded.reason)
    return { header: decoded.header, data, from: { address: '10.77.2.9', port: 7400 } }
  }
  /** A receiver session and a name of `nameBytes` bytes. */
  const receiverBody = (nameBytes: number) => new Uint8Array(4 + nameBytes).fill(0x61, 4)

  it('drops and counts acks that are not what a receiver writes; each ack ends under one result', async () => {
    const input = new FakeInput('in')
    const { forwarder } = setup([input], [new FakeOutput('out')], 3)
    forwarder.datagram(0, datagram('imu', { session: 5, flags: Flag.ACK_REQUEST }))
    const acks = [
      control(receiverBody(2)), // forwarded
      control(receiverBody(200)), // the longest name: forwarded
      control(new Uint8Array(3)), // too short for a receiver session
      control(receiverBody(201)), // a name longer than receivers write
      control(new Uint8Array(64_000)), // someone using the relay to send bulk upstream
      control(receiverBody(2), { kind: FrameKind.NACK }), // not an ack at all
      control(receiverBody(2), { hops: 3 }), // max-hops
      control(receiverBody(2), { session: 6 }), // unroutable
    ]
    for (const a of acks) forwarder.ack(a)
    await settle()
    expect(input.replies).toHaveLength(2)
    const { acks: counted } = forwarder.counters()
    expect(counted).toEqual({ forwarded: 2, malformed: 4, unroutable: 1, 'max-hops': 1, errors: 0 })
    expect(Object.values(counted).reduce((a, b) => a + b)).toBe(acks.length)
  })

  it('sealed acks and repair requests go back whole (a keyless relay cannot read them), up to a size real ones have', async () => {
    const input = new FakeInput('in')
    const { forwarder } = setup([input], [new FakeOutput('out')], 3)
    forwarder.datagram(0, datagram('imu', { session: 5, flags: Flag.ACK_REQUEST }))
    const sealed = (kind: FrameKind, bytes: number) => {
      const a = control(new Uint8Array(bytes), { kind })
      a.data[Offset.FLAGS + 1]! |= Flag.AUTHENTICATED | Flag.ENCRYPTED
      a.header.flags |= Flag.AUTHENTICATED | Flag.ENCRYPTED
      writeCrc(a.data, 0, a.data.length)
      return a
    }
    const frames = [
      sealed(FrameKind.ACK, 40), // forwarded
      sealed(FrameKind.NACK, 4_000), // a padded NACK: forwarded
      sealed(FrameKind.NACK_FRAMES, 200), // forwarded
      sealed(FrameKind.STATUS, 40), // flow control does not cross a relay
      sealed(FrameKind.NACK, MAX_SEALED_CONTROL_BYTES), // bulk, whatever it claims to be
    ]
    for (const a of frames) forwarder.ack(a)
    await settle()
    expect(input.replies).toHaveLength(3)
    expect(forwarder.counters().acks).toMatchObject({ forwarded: 3, malformed: 2 })
  })

  it('a sealed ack a keyed output has opened (its header says plain) goes back whole, as it came', async () => {
    const input = new FakeInput('in')
    const { forwarder } = setup([input], [new FakeOutput('out')])
    forwarder.datagram(0, datagram('imu', { session: 5, flags: Flag.ACK_REQUEST }))
    // The datagram sealed (its body, ciphertext, no receiver would write); the header opened: seal
    // flags off and the plaintext's length, as the output's control inbox leaves it.
    const ack = control(new Uint8Array(60).fill(0xee))
    ack.data[Offset.FLAGS + 1]! |= Flag.AUTHENTICATED | Flag.ENCRYPTED
    writeCrc(ack.data, 0, ack.data.length)
    ack.header.payloadLength = 24
    forwarder.ack(ack)
    await settle()
    expect(input.replies.map((r) => r.data.subarray(Offset.TOPIC))).toEqual([ack.data.subarray(Offset.TOPIC)])
    expect(forwarder.counters().acks).toMatchObject({ forwarded: 1, malformed: 0 })
  })

  it('an ack whose send fails is counted as an error, not as forwarded', async () => {
    const input = new FakeInput('in')
    input.fail = true
    const { forwarder, errors } = setup([input], [new FakeOutput('out')])
    forwarder.datagram(0, datagram('imu', { session: 5, flags: Flag.ACK_REQUEST }))
    forwarder.ack(control(receiverBody(2)))
    await settle()
    expect(forwarder.counters().acks).toMatchObject({ forwarded: 0, errors: 1 })
    expect(errors).toEqual(['in'])
  })
})

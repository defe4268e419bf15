import { compileTopicFilter } from '@shoal/transport'
import {
  decodeFrame,
  encodeAck,
  encodeTopic,
  encodeWholeFrame,
  Flag,
  FrameKind,
  setHops,
  writeCrc,
} from '@shoal/transport/wire'
import { describe, expect, it } from 'vitest'
import { MAX_ACK_SESSIONS } from './ack-routes.js'
import { Forwarder, type ForwarderInput, type ForwarderOutput, totalDropped } from './forwarder.js'
import { LoopGuard, type SocketAddress } from './loop-guard.js'

const UPSTREAM = { address: '10.77.1.2', port: 50000 }
const OWN = { address: '10.77.2.3', port: 41000 }

interface Options {
  session?: number
  sequence?: number
  hops?: number
  flags?: number
  from?: SocketAddress
}

function datagram(
  topic: string,
  { session = 1, sequence = 0, hops = 0, flags = 0, from = UPSTREAM }: Options = {},
) {
  const data = encodeWholeFrame(
    flags,
    hops,
    session,
    sequence,
    0x1234,
    encodeTopic(topic),
    new Uint8Array([1, 2, 3]),
  )
  const decoded = decodeFrame(data)
  if (!decoded.ok) throw new Error(decoded.reason)
  return { header: decoded.header, data, from }
}

class FakeOutput implements ForwarderOutput {
  readonly accepts
  readonly got: { topic: string; hops: number; sequence: number }[] = []
  fail = false
  constructor(
    readonly spec: string,
    topics: string[] = [],
    readonly budget = 1_472,
  ) {
    this.accepts = compileTopicFilter(topics)
  }
  async forward(frame: Uint8Array, hops: number) {
    if (this.fail) throw new Error('EHOSTUNREACH')
    const decoded = decodeFrame(frame)
    if (!decoded.ok) throw new Error(decoded.reason)
    this.got.push({ topic: decoded.header.topic, hops, sequence: decoded.header.sequence })
  }
}

class FakeInput implements ForwarderInput {
  readonly accepts
  readonly replies: { data: Uint8Array; to: SocketAddress }[] = []
  constructor(
    readonly spec: string,
    topics: string[] = [],
  ) {
    this.accepts = compileTopicFilter(topics)
  }
  async reply(data: Uint8Array, to: SocketAddress) {
    this.replies.push({ data: data.slice(), to })
  }
}

function setup(inputs: FakeInput[], outputs: FakeOutput[], maxHops = 8) {
  const guard = new LoopGuard({ maxHops, localAddresses: [OWN.address] })
  guard.addOutput(OWN)
  const errors: string[] = []
  const oversize: [string, number, number][] = []
  const forwarder = new Forwarder(inputs, outputs, guard, {
    onSendError: (where) => errors.push(where),
    onFirstOversize: (...args) => oversize.push(args),
  })
  return { forwarder, errors, oversize }
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('Forwarder', () => {
  it('forwards to every output whose topic filter matches, hop count + 1', async () => {
    const all = new FakeOutput('all')
    const imu = new FakeOutput('imu', ['imu'])
    const sensors = new FakeOutput('sensors', ['sensors/*'])
    const { forwarder } = setup([new FakeInput('in')], [all, imu, sensors])
    forwarder.datagram(0, datagram('imu', { hops: 2 }))
    forwarder.datagram(0, datagram('sensors/gps', { sequence: 1 }))
    forwarder.datagram(0, datagram('camera', { sequence: 2 }))
    await settle()
    expect(all.got.map((g) => g.topic)).toEqual(['imu', 'sensors/gps', 'camera'])
    expect(imu.got).toEqual([{ topic: 'imu', hops: 3, sequence: 0 }])
    expect(sensors.got).toEqual([{ topic: 'sensors/gps', hops: 1, sequence: 1 }])
    expect(forwarder.counters()).toMatchObject({
      received: 3,
      forwarded: 3,
      outputs: [
        { route: 'all', sent: 3, errors: 0 },
        { route: 'imu', sent: 1, errors: 0 },
        { route: 'sensors', sent: 1, errors: 0 },
      ],
    })
  })

  it('drops what no output wants, and what the input route or --topic filters out, as filtered', () => {
    const { forwarder } = setup(
      [new FakeInput('all'), new FakeInput('gps only', ['gps'])],
      [new FakeOutput('imu', ['imu']), new FakeOutput('gps', ['gps'])],
    )
    forwarder.datagram(0, datagram('camera'))
    forwarder.datagram(1, datagram('imu'))
    forwarder.datagram(1, datagram('gps'))
    expect(forwarder.counters()).toMatchObject({ received: 3, forwarded: 1, dropped: { filtered: 2 } })
  })

  it('checks in order: own output (loop), filters, hop limit, duplicate; received = forwarded + drops', () => {
    const { forwarder } = setup([new FakeInput('in')], [new FakeOutput('out', ['imu'])], 2)
    const cases = [
      datagram('imu', { from: OWN, hops: 9 }), // loop, though also over the hop limit
      datagram('gps', { hops: 9 }), // filtered, though also over the hop limit
      datagram('imu', { hops: 2 }), // max-hops
      datagram('imu', { hops: 1 }), // forwarded
      datagram('imu', { hops: 0, from: { address: '10.77.3.4', port: 7 } }), // the same again by another path
      datagram('imu', { sequence: 1, hops: 1 }), // forwarded
    ]
    for (const d of cases) forwarder.datagram(0, d)
    const counters = forwarder.counters()
    expect(counters).toMatchObject({
      received: 6,
      forwarded: 2,
      dropped: { loop: 1, filtered: 1, 'max-hops': 1, duplicate: 1 },
    })
    expect(counters.forwarded + totalDropped(counters)).toBe(counters.received)
  })

  it('counts a failed send against its output and reports it', async () => {
    const broken = new FakeOutput('broken')
    broken.fail = true
    const fine = new FakeOutput('fine')
    const { forwarder, errors } = setup([new FakeInput('in')], [broken, fine])
    forwarder.datagram(0, datagram('imu'))
    await settle()
    expect(fine.got).toHaveLength(1)
    expect(forwarder.counters().outputs).toEqual([
      { route: 'broken', sent: 1, errors: 1, oversize: 0 },
      { route: 'fine', sent: 1, errors: 0, oversize: 0 },
    ])
    expect(errors).toEqual(['broken'])
  })

  it('counts datagrams larger than an output’s budget, and reports the first one', () => {
    // 36-byte header + topic + 3-byte payload + 4-byte CRC: 46 bytes for imu and gps, 47 for abcd
    const small = new FakeOutput('small', [], 45)
    const large = new FakeOutput('large', [], 46)
    const { forwarder, oversize } = setup([new FakeInput('in')], [small, large])
    for (const topic of ['imu', 'gps', 'abcd']) forwarder.datagram(0, datagram(topic))
    expect(forwarder.counters().outputs.map((o) => [o.route, o.sent, o.oversize])).toEqual([
      ['small', 3, 3],
      ['large', 3, 1],
    ])
    expect(oversize).toEqual([
      ['small', 46, 45],
      ['large', 47, 46],
    ])
  })
})

describe('Forwarder acks', () => {
  /** An ACK frame for `session` as a receiver beyond `hops` relays would send it. */
  const ack = (session: number, hops = 0) => {
    const data = encodeAck(
      { sessionId: session, sequence: 0, topic: 'imu' },
      { receiverSession: 9, receiver: 'rx' },
    )
    setHops(data, 0, hops)
    writeCrc(data, 0, data.length)
    const decoded = decodeFrame(data)
    if (!decoded.ok) throw new Error(decoded.reason)
    return { header: decoded.header, data, from: { address: '10.77.2.9', port: 7400 } }
  }

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
    expect(forwarder.counters().acks).toEqual({ forwarded: 1, unroutable: 0, 'max-hops': 0, errors: 0 })
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

  it(`remembers at most ${MAX_ACK_SESSIONS} sessions, forgetting the least recently seen`, () => {
    const { forwarder } = setup([new FakeInput('in')], [new FakeOutput('out')])
    for (let session = 1; session <= MAX_ACK_SESSIONS + 1; session++)
      forwarder.datagram(0, datagram('imu', { session, flags: Flag.ACK_REQUEST }))
    expect(forwarder.ackSessions).toBe(MAX_ACK_SESSIONS)
    forwarder.ack(ack(1))
    forwarder.ack(ack(2))
    expect(forwarder.counters().acks).toMatchObject({ forwarded: 1, unroutable: 1 })
  })
})

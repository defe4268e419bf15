import { compileTopicFilter } from '@shoal/transport'
import {
  decodeFrame,
  encodeSchemaAnnounce,
  encodeSchemaRequest,
  FrameKind,
  setHops,
  writeCrc,
} from '@shoal/transport/wire'
import { describe, expect, it } from 'vitest'
import { Forwarder, type ForwarderInput, type ForwarderOutput } from './forwarder.js'
import { LoopGuard, type SocketAddress } from './loop-guard.js'

const UPSTREAM = { address: '10.77.1.2', port: 50000 }
const RECEIVER = { address: '10.77.2.9', port: 7400 }

class Input implements ForwarderInput {
  readonly accepts = compileTopicFilter([])
  readonly replies: { data: Uint8Array; to: SocketAddress }[] = []
  constructor(
    readonly spec: string,
    readonly streams: Record<string, SocketAddress> = {},
  ) {}
  async reply(data: Uint8Array, to: SocketAddress) {
    this.replies.push({ data: data.slice(), to })
  }
  senderOf(sessionId: number, topic: string) {
    return this.streams[`${sessionId}/${topic}`]
  }
}

class Output implements ForwarderOutput {
  readonly accepts
  readonly budget = 1472
  readonly got: { kind: number; topic: string }[] = []
  constructor(
    readonly spec: string,
    topics: string[],
  ) {
    this.accepts = compileTopicFilter(topics)
  }
  async forward(frame: Uint8Array) {
    const decoded = decodeFrame(frame)
    if (decoded.ok) this.got.push({ kind: decoded.header.kind, topic: decoded.header.topic })
  }
}

function setup(inputs: Input[], outputs: Output[]) {
  const guard = new LoopGuard({ maxHops: 8, localAddresses: [] })
  return new Forwarder(inputs, outputs, guard)
}

function request(session: number, topic: string, hops = 0, fragmentCount = 1) {
  const data = encodeSchemaRequest({
    sessionId: session,
    topic,
    sequence: 0,
    fingerprint: 77,
    receiverSession: 1,
  })
  setHops(data, 0, hops)
  writeCrc(data, 0, data.length)
  const decoded = decodeFrame(data)
  if (!decoded.ok) throw new Error(decoded.reason)
  return { header: { ...decoded.header, fragmentCount }, data, from: RECEIVER }
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('Forwarder: in-band schemas', () => {
  it('passes announces to every output whatever its topic filter, once, counted', () => {
    const camOnly = new Output('cam', ['camera'])
    const all = new Output('all', [])
    const forwarder = setup([new Input('in')], [camOnly, all])
    const [parts] = encodeSchemaAnnounce(
      {
        sessionId: 5,
        sequence: 0,
        typeName: 'acme.v1.Wind',
        fingerprint: 77,
        descriptorSet: new Uint8Array(40),
      },
      1472,
    )
    const data = new Uint8Array(Buffer.concat(parts!))
    const decoded = decodeFrame(data)
    if (!decoded.ok) throw new Error(decoded.reason)
    forwarder.datagram(0, { header: decoded.header, data, from: UPSTREAM })
    forwarder.datagram(0, { header: decoded.header, data: data.slice(), from: UPSTREAM })
    expect(camOnly.got).toEqual([{ kind: FrameKind.SCHEMA, topic: 'acme.v1.Wind' }])
    expect(all.got).toHaveLength(1)
    expect(forwarder.counters().schemas.announces).toBe(1)
    expect(forwarder.counters().dropped.duplicate).toBe(1)
  })

  it('sends a request upstream from the input that hears the stream, to its sender, one hop further', async () => {
    const a = new Input('a')
    const b = new Input('b', { '5/wind': UPSTREAM })
    const forwarder = setup([a, b], [new Output('out', [])])
    forwarder.ack(request(5, 'wind', 1))
    await settle()
    expect(a.replies).toEqual([])
    expect(b.replies).toHaveLength(1)
    expect(b.replies[0]!.to).toEqual(UPSTREAM)
    const sent = decodeFrame(b.replies[0]!.data)
    expect(sent.ok && sent.header).toMatchObject({
      kind: FrameKind.SCHEMA_REQUEST,
      sessionId: 5,
      hops: 2,
      fingerprint: 77,
    })
    expect(forwarder.counters().schemas).toMatchObject({ forwarded: 1, unroutable: 0 })
    expect(forwarder.counters().acks.forwarded).toBe(0)
  })

  it('counts requests for streams no input hears, past --max-hops, or not what a receiver writes', async () => {
    const b = new Input('b', { '5/wind': UPSTREAM })
    const forwarder = setup([b], [new Output('out', [])])
    forwarder.ack(request(6, 'wind'))
    forwarder.ack(request(5, 'gps'))
    forwarder.ack(request(5, 'wind', 8))
    forwarder.ack(request(5, 'wind', 0, 2))
    await settle()
    expect(b.replies).toEqual([])
    expect(forwarder.counters().schemas).toEqual({
      announces: 0,
      forwarded: 0,
      unroutable: 2,
      'max-hops': 1,
      malformed: 1,
      errors: 0,
    })
  })
})

/** The Forwarder's fakes for its unit tests: inputs and outputs that record, frames, a setup. */
import { compileTopicFilter } from '@shoal/transport'
import {
  decodeFrame,
  encodeAck,
  encodeTopic,
  encodeWholeFrame,
  setHops,
  writeCrc,
} from '@shoal/transport/wire'
import type { AckRoutes } from '../src/ack-routes.js'
import { AllowList } from '../src/allow-list.js'
import { Forwarder, type ForwarderInput, type ForwarderOutput } from '../src/forwarder.js'
import { LoopGuard, type SocketAddress } from '../src/loop-guard.js'

export const UPSTREAM = { address: '10.77.1.2', port: 50000 }
export const OWN = { address: '10.77.2.3', port: 41000 }
/** Someone else on the input's segment, with a plain UDP socket. */
export const OUTSIDER = { address: '10.77.1.66', port: 50000 }

interface Options {
  session?: number
  sequence?: number
  hops?: number
  flags?: number
  from?: SocketAddress
}

export function datagram(
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

export class FakeOutput implements ForwarderOutput {
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

export class FakeInput implements ForwarderInput {
  readonly accepts
  readonly replies: { data: Uint8Array; to: SocketAddress }[] = []
  readonly allows?: (address: string) => boolean
  fail = false
  constructor(
    readonly spec: string,
    topics: string[] = [],
    allow?: string[],
  ) {
    this.accepts = compileTopicFilter(topics)
    if (allow !== undefined) {
      const list = AllowList.of(allow)
      this.allows = (address) => list.allows(address)
    }
  }
  async reply(data: Uint8Array, to: SocketAddress) {
    if (this.fail) throw new Error('EHOSTUNREACH')
    this.replies.push({ data: data.slice(), to })
  }
}

interface SetupOptions {
  maxHops?: number
  dedupEntries?: number
  ackRoutes?: AckRoutes
}

export function setup(inputs: FakeInput[], outputs: FakeOutput[], options: SetupOptions | number = {}) {
  const {
    maxHops = 8,
    dedupEntries,
    ackRoutes,
  } = typeof options === 'number' ? { maxHops: options } : options
  const guard = new LoopGuard({
    maxHops,
    localAddresses: [OWN.address],
    ...(dedupEntries === undefined ? {} : { dedupEntries }),
  })
  guard.addOutput(OWN)
  const errors: string[] = []
  const oversize: [string, number, number][] = []
  const forwarder = new Forwarder(
    inputs,
    outputs,
    guard,
    {
      onSendError: (where) => errors.push(where),
      onFirstOversize: (...args) => oversize.push(args),
    },
    ackRoutes,
  )
  return { forwarder, errors, oversize }
}

/** A clock the test moves by hand, ms. */
export function fakeClock() {
  const clock = { ms: 0, now: () => clock.ms }
  return clock
}

export const settle = () => new Promise((resolve) => setImmediate(resolve))

/** An ACK frame for `session` as a receiver beyond `hops` relays would send it. */
export function ack(session: number, hops = 0) {
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

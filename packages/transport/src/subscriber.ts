/**
 * Subscriber: joins a group (or listens for broadcast/unicast), checks and reassembles frames,
 * decodes messages, accounts for loss per (source, topic), and answers ack requests.
 * A bad datagram never throws: it is counted by reason and reported as a `'warning'` event.
 */
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:dgram'
import { EventEmitter, on } from 'node:events'
import { hostname } from 'node:os'
import { registry as schemaRegistry } from '@shoal/schema'
import { transportError } from './errors.js'
import type { CodecRegistry, TopicTypes } from './message-codec.js'
import { checkTtl } from './net/address.js'
import { type EndpointOptions, type ResolvedEndpoint, resolveEndpoint, WILDCARD } from './net/endpoint.js'
import {
  closeSocket,
  DEFAULT_RECV_BUFFER_BYTES,
  openSocket,
  type RecvBufferInfo,
  sizeRecvBuffer,
} from './net/socket.js'
import { countDrop, emptyRepairStats, type Origin, type StatsSnapshot, Stream, sessionHex } from './stats.js'
import { compileTopicFilter, type TopicFilter } from './topic-filter.js'
import { encodeAck } from './wire/ack.js'
import { forEachInnerFrame, sealInner } from './wire/batch.js'
import { Flag, FrameKind, Limits } from './wire/constants.js'
import {
  type AbandonedMessage,
  Reassembler,
  type ReassemblerOptions,
  type RepairTarget,
  type RepairTiming,
} from './wire/fragment.js'
import { type DropReason, decodeFrame } from './wire/frame.js'
import type { FrameHeader } from './wire/header.js'
import { encodeNack, type FragmentRange, WHOLE_MESSAGE } from './wire/nack.js'

export interface SubscriberOptions extends EndpointOptions {
  /** Topic filters (see topic-filter.ts); default: every topic. */
  topics?: readonly string[]
  /** Types to decode, by fingerprint. Default: every @shoal/schema type. */
  registry?: CodecRegistry
  /** Expected type per topic; a frame of another type is dropped as `fingerprint-mismatch`. */
  topicTypes?: TopicTypes
  /** Decode payloads into messages. Default true; false delivers payload bytes only. */
  decode?: boolean
  /** Answer frames that ask for acknowledgement. Default false. */
  ack?: boolean
  /** This receiver's name in acks. Default `hostname:pid`. */
  name?: string
  /** Deliver every datagram as it came (`'raw'` events), with no Shoal framing. */
  raw?: boolean
  /** Deliver each checked DATA datagram (`'datagram'` events) without reassembly, for relays. */
  forward?: boolean
  /** Share the port with other sockets on this host. Default true. */
  reuseAddr?: boolean
  /** Receive buffer asked of the kernel, bytes. Default 8 MiB. */
  recvBufferBytes?: number
  /** TTL (IPv6 hop limit) of the unicast datagrams this subscriber sends (acks, replies). 1–255; default: the kernel's. */
  ttl?: number
  /** Reassembly limits: message size, partial messages, memory, timeout. */
  reassembly?: ReassemblerOptions
  /**
   * Ask publishers for fragments missing from messages they hold (frames marked `REPAIRABLE`);
   * `false` never asks. Default on, with {@link DEFAULT_REPAIR_TIMING}.
   */
  repair?: Partial<RepairTiming> | boolean
  /** Frames buffered for a slow async iterator before new ones are dropped (`queue-overflow`). Default 65,536. */
  queueLimit?: number
}

/** Where a frame came from; shared (frozen) by the frames of a stream from the same place. */
export type FrameSource = Origin

export interface ReceivedFrame<T = unknown> {
  topic: string
  /** Full protobuf type name, when the fingerprint is known. */
  typeName: string | undefined
  fingerprint: number
  /** The decoded message; undefined when decoding is off. */
  message: T | undefined
  /** The encoded message. */
  payload: Uint8Array
  source: FrameSource
  sequence: number
  hops: number
  ackRequested: boolean
  /** Date.now() when the last datagram of the frame arrived. */
  receivedAt: number
}

export interface ForwardDatagram {
  header: FrameHeader
  /** The whole datagram, as received; the receiver may modify it. */
  data: Uint8Array
  from: { address: string; port: number }
}

export interface RawDatagram {
  data: Buffer
  from: { address: string; port: number }
  receivedAt: number
}

export interface TransportWarning {
  reason: DropReason | 'socket-error' | 'recv-buffer-clamped'
  address?: string
  port?: number
  topic?: string
  detail?: string
}

export interface SubscriberInfo {
  mode: ResolvedEndpoint['mode']
  family: ResolvedEndpoint['family']
  groups: string[]
  source: string | undefined
  port: number
  interface: string | undefined
  interfaceAddress: string | undefined
  bound: { address: string; port: number }
  recvBuffer: RecvBufferInfo
  name: string
}

/** How often partial messages are checked for expiry, ms. */
export const SWEEP_INTERVAL_MS = 250

/**
 * When a subscriber asks for missing fragments (WIRE.md “Repair”). Holes (a fragment arrived and
 * some before it did not) and a message overtaken by the next one are asked for at once; a
 * message's missing tail after 10 ms without news; what is still missing again every 20 ms after,
 * at most 8 times per message.
 */
export const DEFAULT_REPAIR_TIMING: RepairTiming = { idleMs: 10, retryMs: 20, maxRetries: 8 }
/** While repairable messages are partial, idle tails and retries are checked this often, ms. */
export const REPAIR_TICK_MS = 5
/**
 * Whole messages asked for when a stream's sequence jumps past repairable messages never seen,
 * at most (the newest ones): more than this were lost together, and the publisher's window
 * would not hold the older ones anyway.
 */
export const MAX_WHOLE_MESSAGE_NACKS = 16
/** Whole messages a subscriber is waiting for at once (see MAX_WHOLE_MESSAGE_NACKS), at most. */
export const MAX_WANTED_MESSAGES = 256
export const DEFAULT_QUEUE_LIMIT = 65_536

export class Subscriber extends EventEmitter {
  readonly info: SubscriberInfo
  readonly #socket: Socket
  readonly #filter: TopicFilter
  readonly #registry: CodecRegistry
  readonly #topicTypes: TopicTypes | undefined
  readonly #decode: boolean
  readonly #ack: boolean
  readonly #raw: boolean
  readonly #forward: boolean
  readonly #reassembler: Reassembler
  // session id → topic → stream: found per frame without building a key string
  readonly #streams = new Map<number, Map<string, Stream>>()
  readonly #drops: Partial<Record<DropReason, number>> = {}
  readonly #sweeper: NodeJS.Timeout
  readonly #maxMessageBytes: number
  readonly #queueLimit: number
  /** When to ask for repairs; undefined when this subscriber never asks. */
  readonly #repairTiming: RepairTiming | undefined
  readonly #repairStats = emptyRepairStats()
  /**
   * Whole messages asked for, by reassembly key: asked again every `retryMs` (at most `maxRetries`
   * times) until they start arriving. At most {@link MAX_WANTED_MESSAGES}; the oldest goes.
   */
  readonly #wanted = new Map<
    string,
    { target: RepairTarget; stream: Stream; askedAt: number; retries: number }
  >()
  #repairTicker: NodeJS.Timeout | undefined
  #repairCheck: NodeJS.Immediate | undefined
  #iterating = 0
  #queued = 0
  #datagramsIn = 0
  #bytesIn = 0
  #closed = false

  private constructor(socket: Socket, options: SubscriberOptions, info: SubscriberInfo) {
    super()
    this.#socket = socket
    this.info = info
    this.#filter = compileTopicFilter(options.topics)
    this.#registry = options.registry ?? schemaRegistry
    this.#topicTypes = options.topicTypes
    this.#decode = options.decode ?? true
    this.#ack = options.ack ?? false
    this.#raw = options.raw ?? false
    this.#forward = options.forward ?? false
    this.#queueLimit = options.queueLimit ?? DEFAULT_QUEUE_LIMIT
    this.#maxMessageBytes = options.reassembly?.maxMessageBytes ?? Limits.MAX_MESSAGE_BYTES
    this.#reassembler = new Reassembler(options.reassembly)
    this.#reassembler.onAbandon = (abandoned) => this.#onAbandon(abandoned)
    const repair = options.repair ?? true
    this.#repairTiming =
      repair === false || this.#raw || this.#forward
        ? undefined
        : { ...DEFAULT_REPAIR_TIMING, ...(repair === true ? {} : repair) }
    this.#sweeper = setInterval(() => this.#reassembler.sweep(), SWEEP_INTERVAL_MS)
    this.#sweeper.unref()
    socket.on('message', (data, rinfo) => this.#onMessage(data, rinfo.address, rinfo.port))
    socket.on('error', (error) => this.#warn({ reason: 'socket-error', detail: error.message }))
  }

  static async create(options: SubscriberOptions): Promise<Subscriber> {
    const endpoint = resolveEndpoint(options, 'subscriber')
    if (typeof options.repair === 'object') checkRepairTiming(options.repair)
    const ttl = options.ttl === undefined ? undefined : checkTtl(options.ttl)
    const { family, mode, iface } = endpoint
    // One group: bind the group address, so this socket sees only that group's traffic.
    // Several groups (or IPv6, whose link-scope groups need a zone to bind): the wildcard.
    const bindAddress =
      mode === 'multicast'
        ? family === 4 && endpoint.groups.length === 1
          ? endpoint.groups[0]!
          : WILDCARD[family]
        : mode === 'unicast' && iface !== undefined
          ? iface.address
          : WILDCARD[family]
    const socket = await openSocket({
      family,
      address: bindAddress,
      port: endpoint.port,
      reuseAddr: options.reuseAddr ?? true,
    })
    const recvBuffer = sizeRecvBuffer(socket, options.recvBufferBytes ?? DEFAULT_RECV_BUFFER_BYTES)
    const joined: Array<() => void> = []
    try {
      if (mode === 'multicast') {
        for (const group of endpoint.groups) {
          if (endpoint.source !== undefined) {
            socket.addSourceSpecificMembership(endpoint.source, group, iface!.multicastInterface)
            joined.push(() =>
              socket.dropSourceSpecificMembership(endpoint.source!, group, iface!.multicastInterface),
            )
          } else {
            socket.addMembership(group, iface!.multicastInterface)
            joined.push(() => socket.dropMembership(group, iface!.multicastInterface))
          }
        }
        // Acks leave by the same interface the group was joined on.
        socket.setMulticastInterface(iface!.multicastInterface)
      } else if (mode === 'broadcast') {
        socket.setBroadcast(true)
      }
      if (ttl !== undefined) socket.setTTL(Math.max(1, ttl))
    } catch (error) {
      await closeSocket(socket)
      throw transportError(
        'SHOAL_SOCKET',
        `cannot join ${endpoint.groups.join(', ')} on ${iface?.name}: ${(error as Error).message}`,
        error,
      )
    }
    const bound = socket.address()
    const info: SubscriberInfo = {
      mode,
      family,
      groups: endpoint.groups,
      source: endpoint.source,
      port: endpoint.port,
      interface: iface?.name,
      interfaceAddress: iface?.address,
      bound: { address: bound.address, port: bound.port },
      recvBuffer,
      name: options.name ?? `${hostname()}:${process.pid}`,
    }
    const subscriber = new Subscriber(socket, options, info)
    subscriber.#leave = joined
    return subscriber
  }

  #leave: Array<() => void> = []
  /** Random per subscriber start; sent in acks so a restarted receiver is told apart. */
  readonly #sessionId = randomBytes(4).readUInt32BE(0)

  /** Frames as they arrive. Ends when the subscriber closes. */
  async *[Symbol.asyncIterator](): AsyncIterator<ReceivedFrame> {
    this.#iterating++
    const ac = new AbortController()
    const onClose = () => ac.abort()
    this.once('close', onClose)
    try {
      for await (const [frame] of on(this, 'frame', { signal: ac.signal })) {
        this.#queued--
        yield frame as ReceivedFrame
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error
    } finally {
      this.off('close', onClose)
      this.#iterating--
    }
  }

  stats(): StatsSnapshot {
    return {
      sent: [],
      received: [...this.#streams.values()].flatMap((topics) =>
        [...topics.values()].map((s) => s.snapshot('received')),
      ),
      drops: { ...this.#drops },
      repair: { ...this.#repairStats, fragmentsRepaired: this.#reassembler.stats().repairedFragments },
      datagramsIn: this.#datagramsIn,
      datagramsOut: 0,
      bytesIn: this.#bytesIn,
      bytesOut: 0,
    }
  }

  /** Reassembly state: partial messages and bytes held, completions, expiries, evictions. */
  reassemblyStats() {
    return this.#reassembler.stats()
  }

  /** Sends a raw datagram from this socket (unicast replies in raw mode). */
  reply(data: Uint8Array, to: { address: string; port: number }): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#socket.send(data, to.port, to.address, (error) => (error ? reject(error) : resolve())),
    )
  }

  /** Leaves the groups and releases the socket. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#sweeper)
    clearInterval(this.#repairTicker)
    this.#wanted.clear()
    if (this.#repairCheck !== undefined) clearImmediate(this.#repairCheck)
    for (const leave of this.#leave) {
      try {
        leave()
      } catch {
        // Membership already gone (interface removed): nothing to leave.
      }
    }
    this.#reassembler.giveUpAll()
    await closeSocket(this.#socket)
    this.emit('close')
  }

  #onMessage(received: Buffer, address: string, port: number): void {
    this.#datagramsIn++
    this.#bytesIn += received.length
    const receivedAt = Date.now()
    if (this.#raw) {
      this.emit('raw', { data: received, from: { address, port }, receivedAt } satisfies RawDatagram)
      return
    }
    // A plain Uint8Array view from here on: its subarrays are cheaper than Buffer's (one per frame).
    const data = new Uint8Array(received.buffer, received.byteOffset, received.length)
    const frame = decodeFrame(data, 0, data.length, { maxMessageBytes: this.#maxMessageBytes })
    if (!frame.ok) {
      this.#drop(frame.reason, undefined, address, port)
      return
    }
    const { header, payload } = frame
    if (header.kind === FrameKind.DATA) this.#onData(header, payload, data, address, port, receivedAt)
    else if (header.kind === FrameKind.BATCH) {
      const whole = forEachInnerFrame(payload, (inner, innerPayload, start, length) => {
        const innerFrame = this.#forward ? sealInner(payload.subarray(start, start + length)) : data
        this.#onData(inner, innerPayload, innerFrame, address, port, receivedAt)
      })
      if (!whole) this.#drop('bad-batch', undefined, address, port)
    }
    // ACKs and the reserved control frames are not for subscribers.
  }

  /** One DATA frame; `data` is the whole frame (forward mode) or its datagram. */
  #onData(
    header: FrameHeader,
    payload: Uint8Array,
    data: Uint8Array,
    address: string,
    port: number,
    receivedAt: number,
  ): void {
    if (!this.#filter(header.topic)) return
    const stream = this.#stream(header.sessionId, header.topic, address, port)
    stream.datagrams++
    if (this.#forward) {
      // Relays account per frame on its first fragment and pass every datagram on; dedup is theirs.
      if (header.fragmentIndex === 0) stream.tracker.observe(header.sequence)
      stream.bytes += payload.length
      this.emit('datagram', { header, data, from: { address, port } } satisfies ForwardDatagram)
      return
    }
    let message = payload
    if (header.fragmentCount > 1) {
      // The stream starts at the first fragment seen, so that a frame that never completes counts.
      stream.tracker.prime(header.sequence)
      const key = reassemblyKey(header)
      const repair =
        this.#repairTiming !== undefined && header.flags & Flag.REPAIRABLE
          ? this.#repairable(header, stream, address, port)
          : undefined
      const result = this.#reassembler.accept(key, header, payload, repair, this.#wanted.has(key))
      if (this.#reassembler.repairDue) this.#scheduleRepair()
      if (result.status === 'dropped') {
        this.#drop(result.reason, stream, address, port)
        return
      }
      if (result.status !== 'complete') return
      message = result.message
    }
    stream.from(address, port)
    if (stream.tracker.observe(header.sequence) === 'duplicate') return
    stream.bytes += message.length
    if (header.flags & Flag.ACK_REQUEST && this.#ack) this.#sendAck(header, address, port)
    this.#deliver(header, message, stream, address, port, receivedAt)
  }

  #deliver(
    header: FrameHeader,
    message: Uint8Array,
    stream: Stream,
    address: string,
    port: number,
    receivedAt: number,
  ): void {
    const type = this.#registry.byFingerprint(header.fingerprint)
    const expected = this.#topicTypes?.typeFor(header.topic)
    if (expected !== undefined && expected.fingerprint !== header.fingerprint) {
      this.#drop('fingerprint-mismatch', stream, address, port, `expected ${expected.typeName}`)
      return
    }
    let decoded: unknown
    if (this.#decode) {
      if (type === undefined) {
        this.#drop('unknown-type', stream, address, port, `fingerprint ${header.fingerprint.toString(16)}`)
        return
      }
      try {
        decoded = type.decode(message)
      } catch (error) {
        this.#drop('decode-failed', stream, address, port, (error as Error).message)
        return
      }
    }
    if (this.#iterating > 0 && this.#queued >= this.#queueLimit) {
      this.#drop('queue-overflow', stream, address, port)
      return
    }
    if (this.#iterating > 0) this.#queued++
    const frame: ReceivedFrame = {
      topic: header.topic,
      typeName: type?.typeName,
      fingerprint: header.fingerprint,
      message: decoded,
      payload: message,
      source: stream.origin(header.sessionId),
      sequence: header.sequence,
      hops: header.hops,
      ackRequested: (header.flags & Flag.ACK_REQUEST) !== 0,
      receivedAt,
    }
    this.emit('frame', frame)
  }

  /**
   * A fragment of a message its publisher holds: who to ask for what is missing. Asks at once for
   * the whole of any repairable messages of the stream it jumped past without seeing, and makes
   * sure idle tails and retries are checked while the message is partial.
   */
  #repairable(header: FrameHeader, stream: Stream, address: string, port: number): RepairTarget {
    const { sessionId, topic, sequence } = header
    const newest = stream.newestRepairable
    const ahead = newest === undefined ? 1 : (sequence - newest) | 0
    if (ahead > 0) {
      stream.newestRepairable = sequence
      for (let back = Math.min(ahead - 1, MAX_WHOLE_MESSAGE_NACKS); back >= 1; back--) {
        const missing = (sequence - back) >>> 0
        const key = messageKey(sessionId, missing, topic)
        if (stream.tracker.has(missing) || this.#reassembler.isPartial(key) || this.#wanted.has(key)) continue
        const target = { sessionId, topic, sequence: missing, address, port }
        this.#sendNack(target, [WHOLE_MESSAGE])
        if (this.#wanted.size >= MAX_WANTED_MESSAGES) this.#wanted.delete(this.#wanted.keys().next().value!)
        this.#wanted.set(key, { target, stream, askedAt: performance.now(), retries: 0 })
      }
    }
    this.#watchRepairs()
    return { sessionId, topic, sequence, address, port }
  }

  /** Runs the repair tick while there is anything to watch. */
  #watchRepairs(): void {
    if (this.#repairTicker === undefined) {
      this.#repairTicker = setInterval(this.#repairTick, REPAIR_TICK_MS)
      this.#repairTicker.unref()
    }
  }

  #scheduleRepair(): void {
    this.#repairCheck ??= setImmediate(this.#repairNow)
  }

  readonly #repairNow = () => {
    this.#repairCheck = undefined
    for (const { target, ranges } of this.#reassembler.repairRequests(this.#repairTiming!))
      this.#sendNack(target, ranges)
  }

  readonly #repairTick = () => {
    this.#repairNow()
    this.#askAgain()
    if (!this.#reassembler.hasRepairable() && this.#wanted.size === 0) {
      clearInterval(this.#repairTicker)
      this.#repairTicker = undefined
    }
  }

  /** Whole messages still wanted: forgotten once they arrive or start to; asked for again. */
  #askAgain(): void {
    const { retryMs, maxRetries } = this.#repairTiming!
    const now = performance.now()
    for (const [key, wanted] of this.#wanted) {
      if (wanted.stream.tracker.has(wanted.target.sequence) || this.#reassembler.isPartial(key)) {
        this.#wanted.delete(key)
        continue
      }
      if (now - wanted.askedAt < retryMs) continue
      if (wanted.retries >= maxRetries) {
        this.#wanted.delete(key)
        continue
      }
      wanted.retries++
      wanted.askedAt = now
      this.#sendNack(wanted.target, [WHOLE_MESSAGE])
    }
  }

  #sendNack(target: RepairTarget, ranges: FragmentRange[]): void {
    this.#repairStats.nacksSent++
    const nack = encodeNack(target, { receiverSession: this.#sessionId, ranges })
    this.#socket.send(nack, target.port, target.address, (error) => {
      if (error)
        this.#warn({
          reason: 'socket-error',
          address: target.address,
          port: target.port,
          detail: `nack: ${error.message}`,
        })
    })
  }

  #sendAck(header: FrameHeader, address: string, port: number): void {
    const ack = encodeAck(header, { receiverSession: this.#sessionId, receiver: this.info.name })
    this.#socket.send(ack, port, address, (error) => {
      if (error) this.#warn({ reason: 'socket-error', address, port, detail: `ack: ${error.message}` })
    })
  }

  #stream(sessionId: number, topic: string, address: string, port: number): Stream {
    let topics = this.#streams.get(sessionId)
    if (topics === undefined) {
      topics = new Map()
      this.#streams.set(sessionId, topics)
    }
    let stream = topics.get(topic)
    if (stream === undefined) {
      stream = new Stream(sessionHex(sessionId), address, port, topic)
      topics.set(topic, stream)
    }
    return stream
  }

  #onAbandon({ key, reason }: AbandonedMessage): void {
    const [session, topic] = parseReassemblyKey(key)
    this.#drop(reason, this.#streams.get(session)?.get(topic), undefined, undefined)
  }

  #drop(
    reason: DropReason,
    stream: Stream | undefined,
    address?: string,
    port?: number,
    detail?: string,
  ): void {
    countDrop(this.#drops, reason)
    stream?.drop(reason)
    const warning: TransportWarning = { reason }
    if (address !== undefined) warning.address = address
    if (port !== undefined) warning.port = port
    if (stream !== undefined) warning.topic = stream.topic
    if (detail !== undefined) warning.detail = detail
    this.#warn(warning)
  }

  #warn(warning: TransportWarning): void {
    if (this.listenerCount('warning') > 0) this.emit('warning', warning)
  }
}

/** Repair timings are times of 0 ms or more, and a whole number of retries. */
function checkRepairTiming(timing: Partial<RepairTiming>): void {
  for (const [name, value] of Object.entries(timing)) {
    const valid =
      name === 'maxRetries' ? Number.isInteger(value) && value >= 0 : Number.isFinite(value) && value >= 0
    if (!valid)
      throw transportError(
        'SHOAL_BAD_OPTION',
        `repair.${name} ${value} is not ${name === 'maxRetries' ? 'a whole number' : 'a time'} of 0 or more`,
      )
  }
}

/** Reassembly key of a fragmented message: `session:sequence:topic`. */
function reassemblyKey(header: FrameHeader): string {
  return messageKey(header.sessionId, header.sequence, header.topic)
}

function messageKey(sessionId: number, sequence: number, topic: string): string {
  return `${sessionId}:${sequence}:${topic}`
}

function parseReassemblyKey(key: string): [number, string] {
  const first = key.indexOf(':')
  const second = key.indexOf(':', first + 1)
  return [Number(key.slice(0, first)), key.slice(second + 1)]
}

export function createSubscriber(options: SubscriberOptions): Promise<Subscriber> {
  return Subscriber.create(options)
}

/**
 * Subscriber: joins a group (or listens for broadcast/unicast), checks and reassembles frames,
 * decodes messages, accounts for loss per (source, topic), and answers ack requests.
 * A bad datagram never throws: it is counted by reason and reported as a `'warning'` event. Every
 * datagram read ends in exactly one outcome (`stats().outcomes`), and every table a stranger's
 * datagrams can grow is bounded (WIRE.md “Security”).
 */
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:dgram'
import { EventEmitter, on } from 'node:events'
import { hostname } from 'node:os'
import { registry as schemaRegistry } from '@shoal/schema'
import { transportError } from './errors.js'
import type { CodecRegistry, TopicTypes } from './message-codec.js'
import { checkTtl } from './net/address.js'
import { type EndpointOptions, type ResolvedEndpoint, resolveEndpoint } from './net/endpoint.js'
import { budgetForMtu } from './net/interface.js'
import { readKernelDrops, socketInode } from './net/kernel-drops.js'
import { openMembership } from './net/membership.js'
import { closeSocket, DEFAULT_RECV_BUFFER_BYTES, type RecvBufferInfo } from './net/socket.js'
import { FrameRepair } from './receive/frame-repair.js'
import { NackCredit } from './receive/nack-credit.js'
import {
  type AbandonedMessage,
  Reassembler,
  type ReassemblerOptions,
  type RepairTiming,
} from './receive/reassembler.js'
import { DEFAULT_REPAIR_TIMING, messageKey, RepairRequester } from './receive/repair-requester.js'
import { SOURCE_GONE_MS, SourceTable } from './receive/sources.js'
import { STATUS_WINDOW_FRACTION, StatusSender } from './receive/status-sender.js'
import { type StreamLimits, StreamTable } from './receive/stream-table.js'
import { REAL_CLOCK } from './send/heartbeat.js'
import {
  countDrop,
  type DatagramOutcome,
  emptyRepairStats,
  type Origin,
  type RepairStats,
  type StatsSnapshot,
  type Stream,
} from './stats.js'
import { compileTopicFilter, type TopicFilter } from './topic-filter.js'
import { encodeAck } from './wire/ack.js'
import { forEachInnerFrame, sealInner } from './wire/batch.js'
import { CRC_LENGTH, FIXED_HEADER_LENGTH, Flag, FrameKind, Limits } from './wire/constants.js'
import { crc32 } from './wire/crc.js'
import { impliedFragmentSize } from './wire/fragment.js'
import { type DropReason, decodeFrame } from './wire/frame.js'
import type { FrameHeader } from './wire/header.js'
import { decodeHeartbeatBody } from './wire/heartbeat.js'
import type { SequenceVerdict } from './wire/sequence.js'

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
  /** Reassembly limits: message size, partial messages, memory (in all and per sender address), timeout. */
  reassembly?: ReassemblerOptions
  /** How many streams (session × topic) are tracked, in all and per sender address, and for how long idle. */
  streams?: StreamLimits
  /**
   * Ask publishers for frames and fragments they hold (frames marked `REPAIRABLE`) that did not
   * arrive; `false` never asks. Default on, with {@link DEFAULT_REPAIR_TIMING} for fragments and
   * `FRAME_REPAIR_RETRY_MS` for whole frames.
   */
  repair?: Partial<RepairTiming> | boolean
  /** Frames buffered for a slow async iterator before new ones are dropped (`queue-overflow`). Default 65,536. */
  queueLimit?: number
  /**
   * Which sender addresses this subscriber takes datagrams from: checked first, before any other
   * work; a datagram from any other is dropped as `not-allowed`. Default: every address.
   */
  allow?: (address: string) => boolean
  /**
   * A publisher (session) not heard for this long, no frame and no heartbeat, is gone: a `'source'`
   * event says so (and another if it is heard again), ms. Default {@link SOURCE_GONE_MS}: three
   * heartbeats missed at their slowest.
   */
  sourceGoneMs?: number
  /**
   * Tell each publisher heard how far this subscriber consumed its streams and how much more it can
   * take (STATUS frames, unicast to the publisher), so that it never runs further ahead (flow
   * control). `false` sends none: publishers then do not wait for this subscriber. Default on.
   */
  status?: boolean
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
  /**
   * From another sender than its stream's own (or marked `FOREIGN` by a relay before): a relay
   * forwards it marked, so that receivers let it move nothing (WIRE.md “Relays”).
   */
  foreign: boolean
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
  /** Largest datagram this subscriber sends (its NACKs): the interface's datagram budget. */
  budget: number
}

/** How often partial messages are checked for expiry, and idle streams let go, ms. */
export const SWEEP_INTERVAL_MS = 250
export const DEFAULT_QUEUE_LIMIT = 65_536
/** The kernel's drop count is read again at most this often, ms. */
export const KERNEL_DROPS_INTERVAL_MS = 250

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
  readonly #allow: ((address: string) => boolean) | undefined
  readonly #reassembler: Reassembler
  readonly #streams: StreamTable
  /** The publishers heard, alive or gone. */
  readonly #sources: SourceTable
  #heartbeatsReceived = 0
  readonly #drops: Partial<Record<DropReason, number>> = {}
  readonly #outcomes: Partial<Record<DatagramOutcome, number>> = {}
  readonly #sweeper: NodeJS.Timeout
  readonly #maxMessageBytes: number
  readonly #queueLimit: number
  /** Asks publishers for what is missing; undefined when this subscriber never asks. */
  readonly #repair: RepairRequester | undefined
  /** Asks for whole frames lost (NACK_FRAMES); undefined when repair is off. */
  readonly #frameRepair: FrameRepair | undefined
  /** NACK bytes each sender address earned, shared by both kinds of repair. */
  readonly #credit: NackCredit
  /** Flow-control STATUS to the publishers heard; undefined when off (raw, forward, `status: false`). */
  readonly #status: StatusSender | undefined
  /** Bytes of frames waiting in the async iterator's queue (they shrink the window offered). */
  #queuedBytes = 0
  /** The socket's inode, for its kernel drop counter; undefined where there is none. */
  readonly #inode: string | undefined
  #kernelDrops: number | undefined
  #kernelDropsAt = Number.NEGATIVE_INFINITY
  #iterating = 0
  #queued = 0
  #datagramsIn = 0
  #bytesIn = 0
  #closed = false
  #leave: Array<() => void> = []
  /** Random per subscriber start; sent in acks so a restarted receiver is told apart. */
  readonly #sessionId = randomBytes(4).readUInt32BE(0)

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
    this.#allow = options.allow
    this.#queueLimit = options.queueLimit ?? DEFAULT_QUEUE_LIMIT
    this.#maxMessageBytes = options.reassembly?.maxMessageBytes ?? Limits.MAX_MESSAGE_BYTES
    this.#reassembler = new Reassembler(options.reassembly)
    this.#reassembler.onAbandon = (abandoned) => this.#onAbandon(abandoned)
    this.#streams = new StreamTable(options.streams)
    this.#sources = new SourceTable(options.sourceGoneMs)
    const repair = options.repair ?? true
    const repairing = repair !== false && !this.#raw && !this.#forward
    const credit = new NackCredit()
    const sendNack = (nack: Uint8Array, to: { address: string; port: number }) =>
      this.#sendControl(nack, to, 'nack')
    this.#repair = repairing
      ? new RepairRequester({
          timing: { ...DEFAULT_REPAIR_TIMING, ...(repair === true ? {} : repair) },
          reassembler: this.#reassembler,
          receiverSession: this.#sessionId,
          budget: info.budget,
          credit,
          send: sendNack,
        })
      : undefined
    this.#frameRepair = repairing
      ? new FrameRepair({
          credit,
          receiverSession: this.#sessionId,
          budget: info.budget,
          clock: REAL_CLOCK,
          soon: (ask) => setImmediate(ask),
          send: sendNack,
        })
      : undefined
    this.#credit = credit
    const status = options.status ?? true
    this.#status =
      status && !this.#raw && !this.#forward
        ? new StatusSender({
            receiverSession: this.#sessionId,
            budget: info.budget,
            windowBytes: () => info.recvBuffer.granted * STATUS_WINDOW_FRACTION - this.#queuedBytes,
            partialBytes: (sessionId, sequence, topic) =>
              this.#reassembler.partialBytes(messageKey(sessionId, sequence, topic)),
            clock: REAL_CLOCK,
            send: (datagram, to) => this.#sendControl(datagram, to, 'status'),
          })
        : undefined
    this.#inode = socketInode(socket)
    this.#sweeper = setInterval(() => {
      const now = performance.now()
      this.#reassembler.sweep()
      this.#streams.sweep(now)
      for (const event of this.#sources.sweep(now, this.#streams.streams())) this.emit('source', event)
    }, SWEEP_INTERVAL_MS)
    this.#sweeper.unref()
    socket.on('message', (data, rinfo) => this.#onMessage(data, rinfo.address, rinfo.port))
    socket.on('error', (error) => this.#warn({ reason: 'socket-error', detail: error.message }))
  }

  static async create(options: SubscriberOptions): Promise<Subscriber> {
    const endpoint = resolveEndpoint(options, 'subscriber')
    if (typeof options.repair === 'object') checkRepairTiming(options.repair)
    checkLimits(options)
    const ttl = options.ttl === undefined ? undefined : checkTtl(options.ttl)
    const { family, mode, iface } = endpoint
    const { socket, recvBuffer, leave } = await openMembership(endpoint, {
      reuseAddr: options.reuseAddr ?? true,
      recvBufferBytes: options.recvBufferBytes ?? DEFAULT_RECV_BUFFER_BYTES,
      ttl,
    })
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
      budget: budgetForMtu(iface?.mtu, family),
    }
    const subscriber = new Subscriber(socket, options, info)
    subscriber.#leave = leave
    return subscriber
  }

  /** Frames as they arrive. Ends when the subscriber closes. */
  async *[Symbol.asyncIterator](): AsyncIterator<ReceivedFrame> {
    this.#iterating++
    const ac = new AbortController()
    const onClose = () => ac.abort()
    this.once('close', onClose)
    try {
      for await (const [frame] of on(this, 'frame', { signal: ac.signal })) {
        this.#queued--
        this.#queuedBytes -= (frame as ReceivedFrame).payload.length
        yield frame as ReceivedFrame
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error
    } finally {
      this.off('close', onClose)
      this.#iterating--
    }
  }

  /**
   * Counters now. `received` lists the streams tracked; `streams.retired` adds up those let go.
   * `outcomes` says where every datagram read went (they add up to `datagramsIn`); `kernelDrops` is
   * what the kernel dropped before this subscriber could read it (Linux).
   */
  stats(): StatsSnapshot {
    const received = []
    for (const stream of this.#streams.streams()) received.push(stream.snapshot('received'))
    const snapshot: StatsSnapshot = {
      sent: [],
      received,
      drops: { ...this.#drops },
      repair: this.#repairStats(),
      streams: this.#streams.stats(),
      sources: this.#sources.stats(),
      heartbeats: { sent: 0, received: this.#heartbeatsReceived },
      outcomes: { ...this.#outcomes },
      datagramsIn: this.#datagramsIn,
      datagramsOut: 0,
      bytesIn: this.#bytesIn,
      bytesOut: 0,
    }
    const kernelDrops = this.kernelDrops()
    if (kernelDrops !== undefined) snapshot.kernelDrops = kernelDrops
    return snapshot
  }

  #repairStats(): RepairStats {
    const frames = this.#frameRepair?.stats()
    return {
      ...emptyRepairStats(),
      nacksSent: (this.#repair?.nacksSent ?? 0) + (frames?.nacksSent ?? 0),
      nacksSuppressed: (this.#repair?.nacksSuppressed ?? 0) + (frames?.nacksSuppressed ?? 0),
      fragmentsRepaired: this.#reassembler.stats().repairedFragments,
      framesAsked: frames?.framesAsked ?? 0,
      framesGivenUp: frames?.framesGivenUp ?? 0,
      framesNotAsked: frames?.framesNotAsked ?? 0,
    }
  }

  /**
   * Datagrams the kernel dropped for this subscriber's socket because its receive buffer was full
   * (`/proc/net/udp` drops); undefined where the system does not say.
   */
  kernelDrops(): number | undefined {
    // Once closed, the socket's line in /proc is gone: the count read as it closed stays.
    if (this.#closed) return this.#kernelDrops
    // Reading /proc/net/udp costs in proportion to the host's UDP sockets: at most once per interval.
    const now = performance.now()
    if (now - this.#kernelDropsAt >= KERNEL_DROPS_INTERVAL_MS) {
      this.#kernelDrops = readKernelDrops(this.#inode)
      this.#kernelDropsAt = now
    }
    return this.#kernelDrops
  }

  /** What became of the datagrams read so far, by outcome (as in `stats().outcomes`, for less). */
  outcomes(): Partial<Record<DatagramOutcome, number>> {
    return { ...this.#outcomes }
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
    this.#kernelDropsAt = Number.NEGATIVE_INFINITY
    this.kernelDrops()
    this.#closed = true
    clearInterval(this.#sweeper)
    this.#repair?.close()
    this.#frameRepair?.close()
    this.#status?.close()
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
    if (this.#allow !== undefined && !this.#allow(address)) {
      this.#drop('not-allowed', undefined, address, port)
      this.#outcome('not-allowed')
      return
    }
    // Wall-clock time for the frame; intervals (stream state, expiry) use the monotonic clock.
    const receivedAt = Date.now()
    const now = performance.now()
    if (this.#raw) {
      this.#outcome('delivered')
      this.emit('raw', { data: received, from: { address, port }, receivedAt } satisfies RawDatagram)
      return
    }
    // A plain Uint8Array view from here on: its subarrays are cheaper than Buffer's (one per frame).
    const data = new Uint8Array(received.buffer, received.byteOffset, received.length)
    const frame = decodeFrame(data, 0, data.length, { maxMessageBytes: this.#maxMessageBytes })
    if (!frame.ok) {
      this.#drop(frame.reason, undefined, address, port)
      this.#outcome(frame.reason)
      return
    }
    const { header, payload } = frame
    if (header.kind === FrameKind.DATA) {
      this.#outcome(this.#onData(header, payload, data, address, port, receivedAt, now))
      return
    }
    if (header.kind === FrameKind.BATCH) {
      const whole = forEachInnerFrame(payload, (inner, innerPayload, start, length) => {
        const innerFrame = this.#forward ? sealInner(payload.subarray(start, start + length)) : data
        // Each inner frame is counted by its own outcome in `drops` and its stream; the datagram once.
        this.#onData(inner, innerPayload, innerFrame, address, port, receivedAt, now)
      })
      if (whole) this.#outcome('batch')
      else {
        this.#drop('bad-batch', undefined, address, port)
        this.#outcome('bad-batch')
      }
      return
    }
    if (header.kind === FrameKind.HEARTBEAT) {
      this.#outcome(this.#onHeartbeat(header, payload, data, address, port, now))
      return
    }
    // ACK and NACK frames are for publishers: here they are someone's mistake, or a probe.
    this.#drop('unexpected-kind', undefined, address, port, `kind ${header.kind}`)
    this.#outcome('unexpected-kind')
  }

  /**
   * One DATA frame; `data` is the whole frame (forward mode) or its datagram. Returns what became
   * of its datagram. `receivedAt` is the wall clock (for the frame), `now` the monotonic one (ms).
   */
  #onData(
    header: FrameHeader,
    payload: Uint8Array,
    data: Uint8Array,
    address: string,
    port: number,
    receivedAt: number,
    now: number,
  ): DatagramOutcome {
    if (!this.#filter(header.topic)) return 'filtered'
    const fragmented = header.fragmentCount > 1
    if (fragmented && impliedFragmentSize(header) === 0) {
      // Geometry no real publisher cuts: nothing of it is kept, or forwarded.
      this.#drop('fragment-mismatch', undefined, address, port)
      return 'fragment-mismatch'
    }
    const stream = this.#streams.get(header.sessionId, header.topic, address, port, now)
    if (stream === undefined) {
      // A new stream from an address full of established ones: not tracked, not delivered.
      this.#drop('streams-full', undefined, address, port)
      return 'streams-full'
    }
    stream.datagrams++
    // From another sender than the stream's own (or so marked by a relay): delivered, but it
    // moves nothing, counts in no gap and is never repaired.
    const foreign = stream.isForeign(address, port, now, (header.flags & Flag.FOREIGN) !== 0)
    // The publisher hears how far this receiver got (flow control): its own frames only.
    if (!foreign)
      this.#status?.heard(
        stream,
        header.sessionId,
        address,
        port,
        payload.length + header.topic.length + FIXED_HEADER_LENGTH + CRC_LENGTH,
        now,
      )
    if (this.#forward) {
      // Relays account per frame on its first fragment and pass every datagram on; dedup is theirs.
      if (header.fragmentIndex === 0) {
        const tracker = stream.tracker
        tracker.observe(header.sequence, now, foreign, foreign || tracker.hasForeign ? crc32(payload) : 0)
      }
      stream.bytes += payload.length
      this.emit('datagram', { header, data, from: { address, port }, foreign } satisfies ForwardDatagram)
      return 'forwarded'
    }
    let message = payload
    if (fragmented) {
      const tracker = stream.tracker
      // The stream starts at the first fragment seen, so that a frame that never completes counts.
      tracker.prime(header.sequence, now)
      // A foreign copy is reassembled apart: it cannot corrupt the real message, nor complete it.
      const key = `${foreign ? 'f' : ''}${messageKey(header.sessionId, header.sequence, header.topic)}`
      const repair = this.#repair
      // Repairs are asked for only for the stream's own sender, at a position the stream has
      // confirmed: a stranger's fragment makes no NACK.
      const target =
        repair !== undefined && header.flags & Flag.REPAIRABLE && !foreign && !tracker.isFar(header.sequence)
          ? repair.target(header, stream, address, port, data.length)
          : undefined
      const result = this.#reassembler.accept(key, header, payload, {
        repair: target,
        askedWhole: repair?.isWanted(key),
        source: address,
        datagramBytes: data.length,
      })
      repair?.afterFragment()
      if (result.status === 'dropped') {
        this.#drop(result.reason, stream, address, port)
        return result.reason
      }
      if (result.status === 'duplicate') return 'duplicate'
      if (result.status !== 'complete') return 'fragment'
      message = result.message
    }
    stream.from(address, port)
    const tracker = stream.tracker
    // A message digest only where copies by a second path must be told from forgeries.
    const digest = foreign || tracker.hasForeign ? crc32(message) : 0
    const gapsBefore = tracker.gaps
    const verdict = tracker.observe(header.sequence, now, foreign, digest)
    if (header.flags & Flag.REPAIRABLE && !foreign && !fragmented)
      this.#repairable(stream, header, verdict, tracker.gaps - gapsBefore, message.length, address, port)
    if (verdict === 'duplicate') return fragmented ? 'fragment' : 'duplicate'
    stream.bytes += message.length
    if (header.flags & Flag.ACK_REQUEST && this.#ack) this.#sendAck(header, address, port)
    const outcome = this.#deliver(header, message, stream, address, port, receivedAt)
    return fragmented ? 'fragment' : outcome
  }

  /**
   * A publisher's heartbeat: for each of its streams this subscriber tracks, the frames up to the
   * last one sent that have not arrived are gaps now (and repairable ones are asked for); the
   * publisher is heard. Only from a stream's own sender: a stranger's heartbeat moves nothing.
   * Relays pass heartbeats on.
   */
  #onHeartbeat(
    header: FrameHeader,
    payload: Uint8Array,
    data: Uint8Array,
    address: string,
    port: number,
    now: number,
  ): DatagramOutcome {
    const entries = decodeHeartbeatBody(payload)
    if (entries === undefined) {
      this.#drop('bad-heartbeat', undefined, address, port)
      return 'bad-heartbeat'
    }
    this.#heartbeatsReceived++
    const { sessionId } = header
    const flagged = (header.flags & Flag.FOREIGN) !== 0
    if (this.#forward) {
      // Passed on marked foreign unless it comes from the sender of a stream of its session here:
      // receivers beyond then let a stranger's heartbeat move nothing.
      let foreign = true
      for (const { topic } of entries) {
        const stream = this.#streams.find(sessionId, topic)
        if (stream === undefined) continue
        foreign = stream.isForeign(address, port, now, flagged)
        break
      }
      this.emit('datagram', { header, data, from: { address, port }, foreign } satisfies ForwardDatagram)
      return 'forwarded'
    }
    let own = false
    for (const { topic, sequence } of entries) {
      const stream = this.#streams.find(sessionId, topic)
      if (stream === undefined || stream.isForeign(address, port, now, flagged)) continue
      own = true
      const missing = stream.tracker.tail(sequence, now)
      if (missing === 0) continue
      this.#repair?.tail(sessionId, topic, stream, sequence, address, port)
      if (stream.repairableFrames)
        this.#frameRepair?.gap(
          stream,
          sessionId,
          topic,
          (sequence - missing + 1) >>> 0,
          missing,
          address,
          port,
        )
    }
    if (own) this.#sources.heartbeat(sessionId, now)
    return 'heartbeat'
  }

  /**
   * A whole frame its publisher keeps in its sent log (REPAIRABLE), from the stream's own sender:
   * it earns NACK credit with that address, and the sequences a gap skipped are asked for.
   */
  #repairable(
    stream: Stream,
    header: FrameHeader,
    verdict: SequenceVerdict,
    skipped: number,
    length: number,
    address: string,
    port: number,
  ): void {
    const frameRepair = this.#frameRepair
    if (frameRepair === undefined) return
    stream.repairableFrames = true
    this.#credit.earn(address, length + FIXED_HEADER_LENGTH + header.topic.length + CRC_LENGTH)
    if (verdict === 'gap' && skipped > 0)
      frameRepair.gap(
        stream,
        header.sessionId,
        header.topic,
        (header.sequence - skipped) >>> 0,
        skipped,
        address,
        port,
      )
  }

  /** Decodes and emits one whole message; returns `delivered` or why it was dropped. */
  #deliver(
    header: FrameHeader,
    message: Uint8Array,
    stream: Stream,
    address: string,
    port: number,
    receivedAt: number,
  ): DatagramOutcome {
    const type = this.#registry.byFingerprint(header.fingerprint)
    const expected = this.#topicTypes?.typeFor(header.topic)
    if (expected !== undefined && expected.fingerprint !== header.fingerprint) {
      this.#drop('fingerprint-mismatch', stream, address, port, `expected ${expected.typeName}`)
      return 'fingerprint-mismatch'
    }
    let decoded: unknown
    if (this.#decode) {
      if (type === undefined) {
        this.#drop('unknown-type', stream, address, port, `fingerprint ${header.fingerprint.toString(16)}`)
        return 'unknown-type'
      }
      try {
        decoded = type.decode(message)
      } catch (error) {
        this.#drop('decode-failed', stream, address, port, (error as Error).message)
        return 'decode-failed'
      }
    }
    if (this.#iterating > 0 && this.#queued >= this.#queueLimit) {
      this.#drop('queue-overflow', stream, address, port)
      return 'queue-overflow'
    }
    if (this.#iterating > 0) {
      this.#queued++
      this.#queuedBytes += message.length
    }
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
    return 'delivered'
  }

  #sendAck(header: FrameHeader, address: string, port: number): void {
    const ack = encodeAck(header, { receiverSession: this.#sessionId, receiver: this.info.name })
    this.#sendControl(ack, { address, port }, 'ack')
  }

  #sendControl(datagram: Uint8Array, to: { address: string; port: number }, what: string): void {
    this.#socket.send(datagram, to.port, to.address, (error) => {
      if (error)
        this.#warn({
          reason: 'socket-error',
          address: to.address,
          port: to.port,
          detail: `${what}: ${error.message}`,
        })
    })
  }

  #onAbandon({ key, reason }: AbandonedMessage): void {
    const [session, topic] = parseMessageKey(key)
    this.#drop(reason, this.#streams.find(session, topic), undefined, undefined)
  }

  #outcome(outcome: DatagramOutcome): void {
    this.#outcomes[outcome] = (this.#outcomes[outcome] ?? 0) + 1
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
    if (this.listenerCount('warning') === 0) return
    const warning: TransportWarning = { reason }
    if (address !== undefined) warning.address = address
    if (port !== undefined) warning.port = port
    if (stream !== undefined) warning.topic = stream.topic
    if (detail !== undefined) warning.detail = detail
    this.emit('warning', warning)
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

/** Table and reassembly limits are positive whole numbers (times: positive numbers). */
function checkLimits(options: SubscriberOptions): void {
  const limits: Array<[string, unknown]> = [
    ...Object.entries(options.streams ?? {}).map(([k, v]): [string, unknown] => [`streams.${k}`, v]),
    ...Object.entries(options.reassembly ?? {})
      .filter(([k]) => k !== 'now')
      .map(([k, v]): [string, unknown] => [`reassembly.${k}`, v]),
    ...(options.sourceGoneMs === undefined
      ? []
      : [['sourceGoneMs', options.sourceGoneMs] as [string, unknown]]),
  ]
  for (const [name, value] of limits) {
    const time = name.endsWith('Ms')
    const valid =
      typeof value === 'number' && value > 0 && (time ? Number.isFinite(value) : Number.isInteger(value))
    if (!valid)
      throw transportError(
        'SHOAL_BAD_OPTION',
        `${name} ${String(value)} is not ${time ? 'a time above 0' : 'a whole number above 0'}`,
      )
  }
}

function parseMessageKey(key: string): [number, string] {
  const first = key.indexOf(':')
  const second = key.indexOf(':', first + 1)
  return [Number(key.slice(0, first)), key.slice(second + 1)]
}

export function createSubscriber(options: SubscriberOptions): Promise<Subscriber> {
  return Subscriber.create(options)
}

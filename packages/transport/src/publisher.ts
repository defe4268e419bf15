/**
 * Publisher: encodes messages into frames and sends them to a multicast group, a broadcast
 * address or a unicast peer; collects acknowledgements.
 */
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:dgram'
import { EventEmitter } from 'node:events'
import { transportError } from './errors.js'
import type { MessageCodec } from './message-codec.js'
import { checkLocalPort, checkTtl, type Family } from './net/address.js'
import { type EndpointOptions, type ResolvedEndpoint, resolveEndpoint, WILDCARD } from './net/endpoint.js'
import { budgetForMtu, checkBudget } from './net/interface.js'
import { readKernelDrops, socketInode } from './net/kernel-drops.js'
import {
  closeSocket,
  connectSocket,
  DEFAULT_RECV_BUFFER_BYTES,
  type Mode,
  openSocket,
  sizeRecvBuffer,
} from './net/socket.js'
import { type Held, RepairWindow } from './repair-window.js'
import { AckBook, type AckReport, ackKey, type WaitForAcksOptions } from './send/ack-book.js'
import {
  HEARTBEAT_MAX_MS,
  HEARTBEAT_MIN_MS,
  HeartbeatScheduler,
  type HeartbeatTiming,
} from './send/heartbeat.js'
import { ResendBudget, type ResendLimits } from './send/resend-budget.js'
import {
  countDrop,
  type DatagramOutcome,
  emptyRepairStats,
  type StatsSnapshot,
  Stream,
  sessionHex,
} from './stats.js'
import { PACING_SLACK_MS, PACING_TICK_MS, TokenBucket } from './token-bucket.js'
import { decodeAckBody } from './wire/ack.js'
import { BATCH_LENGTH_PREFIX, BatchBuilder, batchCapacity, batchEntryLength } from './wire/batch.js'
import { CRC_LENGTH, FIXED_HEADER_LENGTH, Flag, FrameKind, Limits, Offset } from './wire/constants.js'
import { type FragmentParts, fragmentParts } from './wire/fragment.js'
import { type DropReason, decodeFrame, writeCrc } from './wire/frame.js'
import { clearFlags, encodeTopic, type FrameHeader, setFlags, setHops } from './wire/header.js'
import { encodeHeartbeats, type HeartbeatTopic } from './wire/heartbeat.js'
import { decodeNackBody } from './wire/nack.js'
import { FrameSlab } from './wire/slab.js'

export interface PublisherOptions extends Omit<EndpointOptions, 'source'> {
  /** Multicast TTL / hop limit, or unicast TTL. 0–255, default 1 (one subnet). */
  ttl?: number
  /** Deliver multicast to listeners on the sending host too. Default true. */
  loopback?: boolean
  /** Largest datagram sent, bytes. Default: from the interface MTU (1,472 on Ethernet, 65,507 on lo). */
  budget?: number
  /** Local port to bind (acks and unicast replies come back to it). Default 0: any free port. */
  localPort?: number
  /** Fixed session id; random by default (tests only). */
  sessionId?: number
  /** How fast fragments of large messages go out (see {@link Pacing}). */
  pacing?: Pacing
  /**
   * Pack small frames into one datagram (see {@link BatchOptions}); `true` for the defaults.
   * Default off: every frame is its own datagram, sent at once.
   */
  batch?: BatchOptions | boolean
  /**
   * Hold fragmented messages so that receivers missing fragments can ask for them again (see
   * {@link RepairOptions}); `false` to hold nothing. Default on, with the default window.
   */
  repair?: RepairOptions | boolean
  /**
   * Send HEARTBEAT frames (each topic's last sequence) when quiet, so receivers see loss after a
   * stream's last frame and tell a quiet publisher from a gone one (see {@link HeartbeatTiming});
   * `false` sends none (relays: they forward their publishers' heartbeats). Default on.
   */
  heartbeat?: Partial<HeartbeatTiming> | boolean
}

/**
 * Repair of fragmented messages (WIRE.md “Repair”). The publisher keeps a reference to each
 * fragmented message it sends (no copy: the frames it already built) for a window of bytes and
 * time, and marks its fragments `REPAIRABLE`. A receiver that finds fragments missing sends a NACK;
 * the publisher sends those fragments again, to the same destination, through the same pacing.
 * Whole frames (small, batched) are not held: they are never repaired.
 */
/**
 * On `close()`, a publisher that sent or resent a held message lately waits until its receivers have
 * been quiet (no NACK) for this long, so that the fragments they lost of its last messages can still
 * be repaired. A receiver asks for a lost tail within 15 ms and again every 20 ms.
 */
export const CLOSE_REPAIR_QUIET_MS = 40
/** The longest `close()` waits for repairs (see {@link CLOSE_REPAIR_QUIET_MS}), ms. */
export const CLOSE_REPAIR_MAX_MS = 500

export interface RepairOptions extends ResendLimits {
  /** Bytes of messages held, at most; the oldest go first. Default `REPAIR_WINDOW_BYTES` (64 MiB). */
  windowBytes?: number
  /** A message older than this is no longer held, ms. Default `REPAIR_WINDOW_MS` (1,000). */
  windowMs?: number
}

/**
 * Batching: frames that fit whole in a datagram are packed together, up to the datagram budget.
 * A batch goes out as soon as one of these holds:
 * - the next frame would not fit the budget;
 * - its first frame is `lingerMs` old (checked at the end of every event-loop turn);
 * - a turn of the event loop ended with no frame added to it: the producer has gone quiet, and
 *   waiting longer would add latency and no company;
 * - `flush()` is called.
 * So a busy producer fills datagrams (about 600 45-byte frames per loopback datagram at 1.2 M
 * frames/s), and a slow one (a 200 Hz IMU) pays about one event-loop turn. Sequence and loss
 * accounting stay per frame.
 */
export interface BatchOptions {
  /**
   * Longest a frame waits for company, ms: 0 to {@link MAX_LINGER_MS}. 0 sends every frame at
   * once in its own datagram, as without batching. Default {@link DEFAULT_LINGER_MS}.
   */
  lingerMs?: number
}

export const DEFAULT_LINGER_MS = 0.5

/**
 * Multicast and broadcast publishers on Linux send from a second socket, bound to the same address
 * and port and connected to the destination: the kernel then skips its per-datagram route lookup,
 * and node:dgram its per-send address check. Measured with a receiver on loopback: 8 % more
 * datagrams per second than an unconnected socket (222 k → 240 k; both with a send callback). A
 * connected UDP socket only receives from its peer, so the first socket stays unconnected and
 * receives acks and replies (Linux gives a unicast datagram to the socket that matches it best: the
 * connected one never matches a receiver). Unicast publishers do not connect: a connected socket
 * would turn a peer that is not listening yet (ICMP port unreachable) into failed sends.
 */
const CONNECTED_SENDS = process.platform === 'linux'
export const MAX_LINGER_MS = 1

/**
 * Pacing of fragmented (large) messages, so that a receiver with an ordinary buffer keeps up
 * with multi-MiB frames.
 *
 * Without `bytesPerSecond`: at most `burstBytes` (plus the datagram that crosses it) go out back
 * to back, then the publisher waits for the kernel to take them and yields to the event loop.
 *
 * With `bytesPerSecond`: a token bucket across publishes ({@link TokenBucket}). Tokens (bytes)
 * accrue at `bytesPerSecond`; the bucket starts with `burstBytes` and holds at most `burstBytes`
 * plus {@link PACING_SLACK_MS} (2 ms) of the rate. A message goes out in bursts: each waits until
 * the bucket holds the rest of the message or `burstBytes`, whichever is less, then sends
 * datagrams back to back while the bucket is not empty (the last one may overdraw it by less than
 * its own length; the next burst repays that first). So a message of up to `burstBytes` (a 1 MiB
 * image with its headers, by default) goes out whole, and a larger one in bursts of about
 * `burstBytes`. Waits are timers of at least {@link PACING_TICK_MS} (1 ms), never a spin; the
 * slack absorbs a timer that fires late. `bytesPerSecond` is an average: over any t seconds at most
 * `burstBytes + one datagram + bytesPerSecond × t` bytes go out, so a run never exceeds it.
 */
export interface Pacing {
  /**
   * Bytes sent back to back: the burst before yielding, or with `bytesPerSecond` the burst the
   * bucket waits for and its size. Default {@link DEFAULT_BURST_BYTES} (2 MiB).
   */
  burstBytes?: number
  /** Average send rate cap for fragmented messages, bytes/s. Default: none. */
  bytesPerSecond?: number
}

/** Default `pacing.burstBytes`: a 1 MiB image and its fragment headers, with room to spare. */
export const DEFAULT_BURST_BYTES = 2 * 1024 * 1024

export interface PublishOptions {
  /** Ask every receiver to acknowledge this frame. */
  ack?: boolean
}

export interface PublishResult {
  topic: string
  sequence: number
  datagrams: number
  bytes: number
}

export interface PublisherInfo {
  mode: Mode
  family: Family
  destination: string
  port: number
  interface: string | undefined
  interfaceAddress: string | undefined
  mtu: number | undefined
  budget: number
  ttl: number
  loopback: boolean
  sessionId: number
  local: { address: string; port: number }
}

/**
 * An ACK frame for another session, arriving on this publisher's socket: the receiver acked a frame
 * this publisher forwarded (`forward()`). Emitted as `'foreign-ack'` when someone listens (relays
 * pass it back towards that session's publisher); otherwise it is an `unexpected-frame` warning.
 */
export interface ForeignAck {
  header: FrameHeader
  /** The whole ACK datagram, as received. */
  data: Uint8Array
  from: { address: string; port: number }
}

interface TopicState {
  bytes: Uint8Array
  sequence: number
  stream: Stream
  /** The topic's last message was fragmented: encode the next into a recycled buffer first. */
  large: boolean
  /** Fragmented messages of the topic still being sent: heartbeats leave the topic out meanwhile. */
  inFlight: number
}

export class Publisher extends EventEmitter {
  readonly sessionId: number
  readonly info: PublisherInfo
  /** Receives acks and replies; sends too, unless there is a connected {@link #sender}. */
  readonly #socket: Socket
  readonly #sender: Socket
  /** The destination port for `send()`; undefined when #sender is connected to the destination. */
  readonly #port: number | undefined
  readonly #endpoint: ResolvedEndpoint
  readonly #destination: string
  readonly #topics = new Map<string, TopicState>()
  readonly #acks = new AckBook()
  /** What NACKs may make this publisher resend (credit per NACK, rates). */
  readonly #resend: ResendBudget
  /** When to send HEARTBEAT frames; undefined when this publisher sends none. */
  readonly #heartbeat: HeartbeatScheduler | undefined
  /** HEARTBEAT frames sent so far (their sequence numbers), and those the kernel refused. */
  #heartbeatsSent = 0
  #heartbeatErrors = 0
  /** What became of every datagram this publisher's socket read. */
  readonly #outcomes: Partial<Record<DatagramOutcome, number>> = {}
  readonly #drops: Partial<Record<DropReason, number>> = {}
  /** The control socket's inode, for its kernel drop counter (acks and NACKs lost on this host). */
  readonly #inode: string | undefined
  /** The kernel's drop count read as the socket closed (its /proc line goes with it). */
  #kernelDropsAtClose: number | undefined
  readonly #burstBytes: number
  /** Bytes sent since the event loop last had a turn (see #sendAll). */
  #burst = 0
  readonly #batch: BatchBuilder | undefined
  readonly #lingerMs: number
  #batchSequence = 0
  /** The end-of-turn check of the pending batch, while there is one. */
  #batchCheck: NodeJS.Immediate | undefined
  /** When the pending batch got its first frame (performance.now()). */
  #batchStartedAt = 0
  /** Frames in the pending batch at the last end-of-turn check. */
  #batchCountAtCheck = 0
  /** Whole frames of unbatched sends, cut from shared slabs. */
  readonly #slab = new FrameSlab()
  #batchWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> | undefined
  /** The rate cap (`pacing.bytesPerSecond`), when there is one. */
  readonly #bucket: TokenBucket | undefined
  /** Fragmented messages held for repair; undefined when repair is off. */
  readonly #window: RepairWindow | undefined
  readonly #repairStats = emptyRepairStats()
  /** When a held message was last sent or a NACK last came (performance.now()). */
  #repairActivityAt = Number.NEGATIVE_INFINITY
  /** The send of the last fragmented message: the next one starts after it. */
  #fragmented: Promise<void> = Promise.resolve()
  /** Sends nobody awaits (large messages from send(), repairs): flush() and close() wait for them. */
  readonly #sending = new Set<Promise<void>>()
  #datagramsIn = 0
  #bytesIn = 0
  /** Bytes sent again for NACKs (part of #bytesOut). */
  #resentBytes = 0
  #datagramsOut = 0
  #sendErrors = 0
  #bytesOut = 0
  #closed = false

  private constructor(
    socket: Socket,
    sender: Socket | undefined,
    endpoint: ResolvedEndpoint,
    info: PublisherInfo,
    pacing: Pacing,
    options: PublisherOptions,
  ) {
    super()
    this.#burstBytes = pacing.burstBytes ?? DEFAULT_BURST_BYTES
    this.#bucket =
      pacing.bytesPerSecond === undefined
        ? undefined
        : new TokenBucket(pacing.bytesPerSecond, this.#burstBytes)
    const batch = options.batch === true ? {} : options.batch === false ? undefined : options.batch
    // A linger of 0 is no batching: every frame at once, in its own datagram.
    this.#batch = batch === undefined || batch.lingerMs === 0 ? undefined : new BatchBuilder(info.budget)
    this.#lingerMs = batch?.lingerMs ?? DEFAULT_LINGER_MS
    const repair =
      options.repair === false ? undefined : options.repair === true ? {} : (options.repair ?? {})
    // A window of 0 bytes or 0 ms holds nothing: no repair.
    this.#window =
      repair === undefined || repair.windowBytes === 0 || repair.windowMs === 0
        ? undefined
        : new RepairWindow(repair.windowBytes, repair.windowMs)
    // Resends are capped relative to what this publisher sent first (its bytes out, less resends).
    this.#resend = new ResendBudget(repair ?? {}, () => this.#bytesOut - this.#resentBytes)
    this.#acks.onAck = (topic, sequence, entry) => this.emit('ack', { topic, sequence, ...entry })
    const heartbeat = options.heartbeat ?? true
    this.#heartbeat =
      heartbeat === false
        ? undefined
        : new HeartbeatScheduler(
            {
              minMs: HEARTBEAT_MIN_MS,
              maxMs: HEARTBEAT_MAX_MS,
              ...(heartbeat === true ? {} : heartbeat),
            },
            () => this.#beat(),
          )
    this.#socket = socket
    this.#inode = socketInode(socket)
    this.#sender = sender ?? socket
    this.#port = sender === undefined ? endpoint.port : undefined
    this.#endpoint = endpoint
    this.#destination = info.destination
    this.sessionId = info.sessionId
    this.info = info
    socket.on('message', (data, rinfo) => this.#onMessage(data, rinfo.address, rinfo.port))
    socket.on('error', (error) => this.emit('warning', { reason: 'socket-error', error }))
    if (sender !== undefined)
      sender.on('error', (error) => this.emit('warning', { reason: 'socket-error', error }))
  }

  static async create(options: PublisherOptions): Promise<Publisher> {
    const endpoint = resolveEndpoint(options, 'publisher')
    const ttl = checkTtl(options.ttl ?? 1)
    const linger = typeof options.batch === 'object' ? options.batch.lingerMs : undefined
    if (linger !== undefined && !(linger >= 0 && linger <= MAX_LINGER_MS))
      throw transportError('SHOAL_BAD_OPTION', `batch linger ${linger} ms is outside 0-${MAX_LINGER_MS}`)
    const { bytesPerSecond, burstBytes } = options.pacing ?? {}
    if (bytesPerSecond !== undefined && !(bytesPerSecond > 0 && Number.isFinite(bytesPerSecond)))
      throw transportError(
        'SHOAL_BAD_OPTION',
        `pacing.bytesPerSecond ${bytesPerSecond} is not a rate above 0`,
      )
    if (burstBytes !== undefined && !(burstBytes >= 0 && Number.isFinite(burstBytes)))
      throw transportError(
        'SHOAL_BAD_OPTION',
        `pacing.burstBytes ${burstBytes} is not a byte count of 0 or more`,
      )
    if (typeof options.repair === 'object') {
      const { windowBytes, windowMs } = options.repair
      if (windowBytes !== undefined && !(windowBytes >= 0 && Number.isFinite(windowBytes)))
        throw transportError(
          'SHOAL_BAD_OPTION',
          `repair.windowBytes ${windowBytes} is not a byte count of 0 or more`,
        )
      if (windowMs !== undefined && !(windowMs >= 0 && Number.isFinite(windowMs)))
        throw transportError('SHOAL_BAD_OPTION', `repair.windowMs ${windowMs} is not a time of 0 ms or more`)
      for (const name of ['bytesPerSecond', 'bytesPerSecondPerRequester'] as const) {
        const rate = options.repair[name]
        if (rate !== undefined && !(rate > 0 && Number.isFinite(rate)))
          throw transportError('SHOAL_BAD_OPTION', `repair.${name} ${rate} is not a rate above 0`)
      }
    }
    if (typeof options.heartbeat === 'object') {
      const { minMs = HEARTBEAT_MIN_MS, maxMs = HEARTBEAT_MAX_MS } = options.heartbeat
      if (!(minMs >= 1 && Number.isFinite(minMs)))
        throw transportError('SHOAL_BAD_OPTION', `heartbeat.minMs ${minMs} is not a time of 1 ms or more`)
      if (!(maxMs >= minMs && Number.isFinite(maxMs)))
        throw transportError(
          'SHOAL_BAD_OPTION',
          `heartbeat.maxMs ${maxMs} is not a time of heartbeat.minMs or more`,
        )
    }
    const localPort = checkLocalPort(options.localPort ?? 0)
    const budget = checkBudget(
      options.budget ?? budgetForMtu(endpoint.iface?.mtu, endpoint.family),
      endpoint.family,
    )
    const bindAddress =
      endpoint.family === 4 && endpoint.iface !== undefined
        ? endpoint.iface.address
        : WILDCARD[endpoint.family]
    const socket = await openSocket({
      family: endpoint.family,
      address: bindAddress,
      port: localPort,
      reuseAddr: true,
    })
    // ACKs and NACKs come back to this socket while the publisher is busy sending: room for bursts.
    sizeRecvBuffer(socket, DEFAULT_RECV_BUFFER_BYTES)
    const loopback = options.loopback ?? true
    const configure = (s: Socket) => {
      if (endpoint.mode === 'multicast') {
        s.setMulticastInterface(endpoint.iface!.multicastInterface)
        s.setMulticastTTL(ttl)
        s.setMulticastLoopback(loopback)
      } else {
        if (endpoint.mode === 'broadcast') s.setBroadcast(true)
        s.setTTL(Math.max(ttl, 1))
      }
    }
    const destination = endpoint.mode === 'multicast' ? endpoint.groups[0]! : endpoint.address!
    let sender: Socket | undefined
    try {
      configure(socket)
      if (CONNECTED_SENDS && endpoint.mode !== 'unicast') {
        // See CONNECTED_SENDS: a second socket on the same address and port, connected to the
        // destination, sends; the first one keeps receiving acks and replies from anyone.
        sender = await openSocket({
          family: endpoint.family,
          address: bindAddress,
          port: socket.address().port,
          reuseAddr: true,
        })
        configure(sender)
        try {
          await connectSocket(sender, endpoint.port, destination)
        } catch {
          // No route to the destination yet (e.g. the interface is down): send unconnected, so
          // that sends fail and are counted one by one, and succeed once the route is there.
          await closeSocket(sender)
          sender = undefined
        }
      }
    } catch (error) {
      await closeSocket(socket)
      if (sender !== undefined) await closeSocket(sender)
      throw transportError('SHOAL_SOCKET', `cannot configure the socket: ${(error as Error).message}`, error)
    }
    const local = socket.address()
    const info: PublisherInfo = {
      mode: endpoint.mode,
      family: endpoint.family,
      destination,
      port: endpoint.port,
      interface: endpoint.iface?.name,
      interfaceAddress: endpoint.iface?.address,
      mtu: endpoint.iface?.mtu,
      budget,
      ttl,
      loopback,
      sessionId: options.sessionId ?? randomBytes(4).readUInt32BE(0),
      local: { address: local.address, port: local.port },
    }
    return new Publisher(socket, sender, endpoint, info, options.pacing ?? {}, options)
  }

  /**
   * Encodes `message` as `type` and sends it on `topic`; resolves when the kernel has every
   * datagram of it (batched: when its batch went out).
   */
  publish<T>(
    topic: string,
    type: MessageCodec<T>,
    message: T,
    options: PublishOptions = {},
  ): Promise<PublishResult> {
    try {
      return this.#publishNow(topic, type, message, options)
    } catch (error) {
      // A bad topic or a message the codec cannot encode: a rejection, like every other failure.
      return Promise.reject(error)
    }
  }

  #publishNow<T>(
    topic: string,
    type: MessageCodec<T>,
    message: T,
    options: PublishOptions,
  ): Promise<PublishResult> {
    if (this.#closed) return this.publishEncoded(topic, type.fingerprint, type.encode(message), options)
    const state = this.#topic(topic)
    const recycled = this.#encodeRecycled(state, type, message)
    if (recycled !== undefined)
      return this.#publishPayload(state, topic, type.fingerprint, recycled, options, ownedBuffer(recycled))
    if (this.#batch !== undefined) {
      const payload = type.encode(message)
      return this.#publishPayload(state, topic, type.fingerprint, payload, options, ownedBuffer(payload))
    }
    // Unbatched: a message that fits one datagram is framed in place and sent with one callback,
    // no further promises (this path is the latency of a request/response exchange).
    const flags = options.ack ? Flag.ACK_REQUEST : 0
    const frame = this.#slab.encodeFrame(
      type,
      message,
      flags,
      0,
      this.sessionId,
      state.sequence,
      state.bytes,
      this.info.budget,
    )
    if (!(frame instanceof Uint8Array))
      return this.#publishPayload(
        state,
        topic,
        type.fingerprint,
        frame.payload,
        options,
        ownedBuffer(frame.payload),
      )
    const sequence = this.#sendWhole(state, frame)
    if (options.ack) this.#acks.expect(topic, sequence)
    return new Promise((resolve, reject) =>
      this.#transmit(frame, (error) => {
        if (error === null) resolve({ topic, sequence, datagrams: 1, bytes: frame.length })
        else reject(this.#sendError(error))
      }),
    )
  }

  /**
   * Sends an already-encoded message (replay, relays, pre-serialised data). A fragmented `payload`
   * is held by reference for repair (see {@link RepairOptions}): leave it unchanged for the
   * window's time (1 s by default), or its repairs carry the wrong bytes and receivers drop them
   * (`bad-crc`, the CRCs are those of the first send).
   */
  publishEncoded(
    topic: string,
    fingerprint: number,
    payload: Uint8Array,
    options: PublishOptions = {},
  ): Promise<PublishResult> {
    try {
      this.#checkOpen()
      return this.#publishPayload(this.#topic(topic), topic, fingerprint, payload, options, undefined)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** `owned`: the whole buffer `payload` was encoded into by this publisher, free to recycle. */
  async #publishPayload(
    state: TopicState,
    topic: string,
    fingerprint: number,
    payload: Uint8Array,
    options: PublishOptions,
    owned: Buffer | undefined,
  ): Promise<PublishResult> {
    this.#checkOpen()
    const entry = batchEntryLength(state.bytes.length, payload.length)
    if (this.#batch !== undefined && entry <= batchCapacity(this.info.budget)) {
      const sequence = this.#enqueue(state, fingerprint, payload, options.ack ? Flag.ACK_REQUEST : 0, 0)
      if (options.ack) this.#acks.expect(topic, sequence)
      this.#batchWaiters ??= []
      await new Promise<void>((resolve, reject) => this.#batchWaiters!.push({ resolve, reject }))
      return { topic, sequence, datagrams: 1, bytes: entry }
    }
    this.#flushBatch()
    const sequence = state.sequence
    state.sequence = (state.sequence + 1) >>> 0
    let flags = options.ack ? Flag.ACK_REQUEST : 0
    if (options.ack) this.#acks.expect(topic, sequence)
    if (FIXED_HEADER_LENGTH + state.bytes.length + payload.length + CRC_LENGTH <= this.info.budget) {
      const frame = this.#slab.copyFrame(
        flags,
        0,
        this.sessionId,
        sequence,
        fingerprint,
        state.bytes,
        payload,
      )
      await this.#sendAll([frame])
      state.stream.sent(payload.length, 1)
      this.#heartbeat?.activity()
      return { topic, sequence, datagrams: 1, bytes: frame.length }
    }
    // Fragmented: held for repair when the window can hold it at all.
    state.large = true
    const window = this.#window
    const repairable = window?.fits(payload.length) === true
    if (repairable) flags |= Flag.REPAIRABLE
    const frames = fragmentParts(
      {
        kind: FrameKind.DATA,
        flags,
        hops: 0,
        topic,
        sessionId: this.sessionId,
        sequence,
        fingerprint,
        extensionLength: 0,
      },
      state.bytes,
      payload,
      this.info.budget,
    )
    let bytes = 0
    for (const frame of frames) bytes += datagramLength(frame)
    const held = repairable ? window!.hold(ackKey(topic, sequence), frames, payload.length, owned) : undefined
    // One fragmented message at a time, in the order they were published: interleaved, a later
    // one would make receivers take the earlier one's unsent tail for lost.
    state.inFlight++
    this.#heartbeat?.activity()
    const sending = this.#fragmented.then(() =>
      held === undefined ? this.#sendAll(frames) : this.#sendHeld(frames, held, true),
    )
    this.#fragmented = sending.catch(() => {})
    try {
      await sending
    } finally {
      state.inFlight--
      this.#heartbeat?.activity()
    }
    if (held !== undefined) this.#repairActivityAt = performance.now()
    state.stream.sent(payload.length, frames.length)
    return { topic, sequence, datagrams: frames.length, bytes }
  }

  /**
   * Encodes and queues `message` without waiting (the fast path): batched when batching is on,
   * otherwise sent at once. Returns the frame's sequence. A send failure is a `'warning'` event.
   */
  send<T>(topic: string, type: MessageCodec<T>, message: T): number {
    this.#checkOpen()
    const state = this.#topic(topic)
    const sequence = state.sequence
    let payload: Uint8Array
    const recycled = this.#encodeRecycled(state, type, message)
    const batch = this.#batch
    if (recycled !== undefined) payload = recycled
    else if (batch !== undefined) {
      // Straight into the batch when the codec can encode in place and the frame fits.
      const appended = batch.appendMessage(type, message, 0, 0, this.sessionId, sequence, state.bytes)
      if (typeof appended === 'number') {
        state.sequence = (sequence + 1) >>> 0
        this.#appended(state, appended)
        return sequence
      }
      payload = appended
      if (batchEntryLength(state.bytes.length, payload.length) <= batchCapacity(this.info.budget))
        return this.#enqueue(state, type.fingerprint, payload, 0, 0)
    } else {
      const frame = this.#slab.encodeFrame(
        type,
        message,
        0,
        0,
        this.sessionId,
        sequence,
        state.bytes,
        this.info.budget,
      )
      if (frame instanceof Uint8Array) {
        // Whole frame, no batching: one datagram, no promise; a failure is counted by #afterSend.
        this.#sendWhole(state, frame)
        this.#transmit(frame, this.#afterSend)
        return sequence
      }
      payload = frame.payload
    }
    // Large: its sequence is taken now; it goes out after the large messages before it.
    this.#background(this.#publishPayload(state, topic, type.fingerprint, payload, {}, ownedBuffer(payload)))
    return sequence
  }

  /**
   * A message of a topic whose last message was large, encoded into a recycled buffer (see
   * RECYCLED_BUFFERS_MAX), or into the one the codec grew when it did not fit. Undefined when there
   * is no recycled buffer, or the message turned out small (the small-message path encodes it
   * again).
   */
  #encodeRecycled<T>(state: TopicState, type: MessageCodec<T>, message: T): Uint8Array | undefined {
    const encodeInto = type.encodeInto
    const buffer = state.large && encodeInto !== undefined ? this.#window?.takeRecycled() : undefined
    if (buffer === undefined) return undefined
    const end = encodeInto!.call(type, message, buffer, 0)
    if (typeof end !== 'number') return end
    if (FIXED_HEADER_LENGTH + state.bytes.length + end + CRC_LENGTH > this.info.budget)
      return buffer.subarray(0, end)
    this.#window!.recycle(buffer)
    state.large = false
    return undefined
  }

  /** Until receivers have not asked for repairs for CLOSE_REPAIR_QUIET_MS, at most CLOSE_REPAIR_MAX_MS. */
  async #awaitLastRepairs(): Promise<void> {
    if (this.#window === undefined || this.#window.size === 0) return
    const deadline = performance.now() + CLOSE_REPAIR_MAX_MS
    for (;;) {
      const now = performance.now()
      const quietFor = now - this.#repairActivityAt
      if (quietFor >= CLOSE_REPAIR_QUIET_MS || now >= deadline) break
      await sleep(Math.min(CLOSE_REPAIR_QUIET_MS - quietFor, deadline - now))
      await this.flush().catch(() => {})
    }
  }

  /** Runs a send nobody awaits: a failure is a `'warning'`; flush() and close() wait for it. */
  #background(sending: Promise<unknown>): void {
    const done: Promise<void> = sending.then(
      () => {},
      (error: unknown) => {
        this.emit('warning', { reason: 'send-failed', error })
      },
    )
    this.#sending.add(done)
    done.finally(() => this.#sending.delete(done))
  }

  /**
   * Sends the pending batch now; resolves when the kernel has it and every send started by `send()`
   * (a large message goes out over several event-loop turns).
   */
  async flush(): Promise<void> {
    if (this.#batch !== undefined && this.#batch.count > 0) {
      const done = new Promise<void>((resolve, reject) => {
        this.#batchWaiters ??= []
        this.#batchWaiters.push({ resolve, reject })
      })
      this.#flushBatch()
      await done
    }
    while (this.#sending.size > 0) await Promise.all(this.#sending)
  }

  /**
   * Sends an encoded frame received elsewhere (relays): same session and sequence, hop count set
   * to `hops`, `REPAIRABLE` cleared, `FOREIGN` set when `foreign` (it came from another sender than
   * its stream's), CRC recomputed. `frame` is modified in place. Batched when batching is on.
   */
  async forward(frame: Uint8Array, hops: number, foreign = false): Promise<void> {
    this.#checkOpen()
    setHops(frame, 0, hops)
    if (foreign) setFlags(frame, 0, Flag.FOREIGN)
    // This publisher does not hold the message: its receivers must not ask it for repairs.
    clearFlags(frame, 0, Flag.REPAIRABLE)
    const batch = this.#batch
    // Only whole DATA frames go into a batch (WIRE.md, BATCH): a fragment or a HEARTBEAT goes out
    // on its own.
    if (
      batch !== undefined &&
      frame[Offset.KIND] === FrameKind.DATA &&
      frame.length - CRC_LENGTH + BATCH_LENGTH_PREFIX <= batchCapacity(this.info.budget) &&
      fragmentCountOf(frame) === 1
    ) {
      if (!batch.fits(frame.length - CRC_LENGTH + BATCH_LENGTH_PREFIX)) this.#flushBatch()
      batch.appendFrame(frame)
      this.#scheduleFlush()
      return
    }
    this.#flushBatch()
    writeCrc(frame, 0, frame.length)
    await this.#sendAll([frame])
  }

  /**
   * Sends bytes as one plain UDP datagram with no Shoal framing (for plain-socket programs).
   * Their plain replies to this socket arrive as `'reply'` events (`{ data, from, receivedAt }`).
   */
  async sendRaw(data: Uint8Array): Promise<void> {
    this.#checkOpen()
    await this.#sendAll([data])
  }

  /**
   * Waits for acks of a frame published with `{ ack: true }`. An ACK counts only from where its
   * receiver is known to answer from (see `send/ack-book.ts`): `expected` may pin a receiver to an
   * address as `name@address`.
   */
  waitForAcks(
    result: Pick<PublishResult, 'topic' | 'sequence'>,
    options: WaitForAcksOptions,
  ): Promise<AckReport> {
    return this.#acks.wait(result, options)
  }

  /** Receivers known to this publisher (those whose acks it counted), at most `MAX_ACK_RECEIVERS`. */
  knownReceivers(): string[] {
    return this.#acks.receivers()
  }

  stats(): StatsSnapshot {
    const kernelDrops = this.#closed ? this.#kernelDropsAtClose : readKernelDrops(this.#inode)
    return {
      ...(kernelDrops === undefined ? {} : { kernelDrops }),
      sent: [...this.#topics.values()].map((t) => t.stream.snapshot('sent')),
      received: [],
      drops: this.#sendErrors > 0 ? { ...this.#drops, 'send-failed': this.#sendErrors } : { ...this.#drops },
      repair: { ...this.#repairStats, ...limitedNacks(this.#resend) },
      outcomes: { ...this.#outcomes },
      heartbeats: { sent: this.#heartbeatsSent, received: 0, failed: this.#heartbeatErrors },
      datagramsIn: this.#datagramsIn,
      datagramsOut: this.#datagramsOut,
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
    }
  }

  /**
   * Sends what is pending, waits for the last repairs (see {@link CLOSE_REPAIR_QUIET_MS}), then
   * releases the sockets.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    await this.flush().catch(() => {})
    await this.#awaitLastRepairs()
    if (this.#heartbeat !== undefined) {
      // A last heartbeat: receivers see at once what they lost of the last frames.
      this.#heartbeat.close()
      await this.#sendAll(this.#heartbeats()).catch(() => {})
    }
    this.#kernelDropsAtClose = readKernelDrops(this.#inode)
    this.#closed = true
    this.#acks.clear()
    this.#window?.clear()
    await closeSocket(this.#socket)
    if (this.#sender !== this.#socket) await closeSocket(this.#sender)
  }

  #topic(topic: string): TopicState {
    let state = this.#topics.get(topic)
    if (state === undefined) {
      const stream = new Stream(sessionHex(this.sessionId), this.#destination, this.#endpoint.port, topic)
      state = { bytes: encodeTopic(topic), sequence: 0, stream, large: false, inFlight: 0 }
      this.#topics.set(topic, state)
    }
    return state
  }

  /**
   * Sends datagrams of a held message: all of them the first time (`first`, counting them out in
   * `held.sent` for repairs), or some again. Its buffer is not recycled while this runs.
   */
  async #sendHeld(datagrams: ReadonlyArray<FragmentParts>, held: Held, first: boolean): Promise<void> {
    const window = this.#window!
    if (!first) window.begin(held) // the first send was counted when the message was held
    try {
      await this.#sendAll(datagrams, first ? held : undefined)
    } finally {
      window.end(held)
    }
  }

  /**
   * Sends datagrams, each whole or gathered from parts (fragments: no copy of the message);
   * `counted.sent` counts them out.
   */
  async #sendAll(datagrams: ReadonlyArray<Uint8Array | FragmentParts>, counted?: Held): Promise<void> {
    const sends: Promise<void>[] = []
    const bucket = this.#bucket
    // Rate-capped: bytes of this message not sent yet, and whether the current burst goes on.
    let unsent = 0
    if (bucket !== undefined) for (const datagram of datagrams) unsent += datagramLength(datagram)
    let continuing = false
    try {
      for (const datagram of datagrams) {
        const length = datagramLength(datagram)
        if (bucket !== undefined) {
          // The token bucket (see Pacing): sleep, never spin, until it admits the datagram.
          for (let wait = bucket.admit(length, unsent, continuing); wait > 0; ) {
            await Promise.all(sends.splice(0))
            await sleep(Math.max(wait, PACING_TICK_MS))
            wait = bucket.admit(length, unsent, false)
            this.#burst = 0
          }
          continuing = true
          unsent -= length
        }
        if (this.#burst >= this.#burstBytes) {
          // Sends that complete at once call back on the next tick, so back-to-back messages never
          // let the event loop read sockets (acks, NACKs) or run timers: yield to it after each
          // burst, counted across messages.
          this.#burst = 0
          await Promise.all(sends.splice(0))
          await yieldToLoop()
        }
        sends.push(
          new Promise((resolve, reject) => this.#transmit(datagram, (e) => (e ? reject(e) : resolve()))),
        )
        this.#datagramsOut++
        this.#bytesOut += length
        this.#burst += length
        if (counted !== undefined) counted.sent++
      }
      await Promise.all(sends)
    } catch (error) {
      throw this.#sendError(error as Error)
    }
  }

  /** Appends one whole frame to the batch, flushing first if it does not fit; returns its sequence. */
  #enqueue(state: TopicState, fingerprint: number, payload: Uint8Array, flags: number, hops: number): number {
    const batch = this.#batch!
    if (!batch.fits(batchEntryLength(state.bytes.length, payload.length))) this.#flushBatch()
    const sequence = state.sequence
    state.sequence = (sequence + 1) >>> 0
    batch.append(flags, hops, this.sessionId, sequence, fingerprint, state.bytes, payload)
    this.#appended(state, payload.length)
    return sequence
  }

  /** Bookkeeping of a frame just added to the batch. */
  #appended(state: TopicState, payloadLength: number): void {
    state.stream.sent(payloadLength, 0) // its datagram is the batch's, counted at flush
    this.#heartbeat?.activity()
    this.#scheduleFlush()
  }

  /** Takes the next sequence of `state` for a whole frame about to be sent; counts it. */
  #sendWhole(state: TopicState, frame: Uint8Array): number {
    const sequence = state.sequence
    state.sequence = (sequence + 1) >>> 0
    this.#heartbeat?.activity()
    state.stream.sent(frame.length - FIXED_HEADER_LENGTH - state.bytes.length - CRC_LENGTH, 1)
    this.#datagramsOut++
    this.#bytesOut += frame.length
    return sequence
  }

  /**
   * The heartbeat datagrams for now: each topic's last sequence, but for topics with a fragmented
   * message still going out (listing it would show its receivers a loss that is only late).
   */
  #heartbeats(): Uint8Array[] {
    const topics: HeartbeatTopic[] = []
    for (const state of this.#topics.values())
      if (state.stream.framesSent > 0 && state.inFlight === 0)
        topics.push({ topicBytes: state.bytes, sequence: (state.sequence - 1) >>> 0 })
    const datagrams = encodeHeartbeats(this.sessionId, this.#heartbeatsSent, topics, this.info.budget)
    this.#heartbeatsSent = (this.#heartbeatsSent + datagrams.length) >>> 0
    return datagrams
  }

  /** Sends a heartbeat now (the scheduler's beat), after the pending batch. */
  #beat(): void {
    if (this.#closed) return
    this.#flushBatch()
    for (const datagram of this.#heartbeats()) {
      this.#datagramsOut++
      this.#bytesOut += datagram.length
      this.#transmit(datagram, this.#afterHeartbeat)
    }
  }

  #sendError(error: Error): Error {
    return transportError(
      'SHOAL_SOCKET',
      `send to ${this.#destination}:${this.#endpoint.port} failed: ${error.message}`,
      error,
    )
  }

  /** Sends one datagram, whole or gathered from parts (one sendmsg; the parts are not copied together). */
  #transmit(data: Uint8Array | readonly Uint8Array[], callback: (error: Error | null) => void): void {
    if (this.#port === undefined) this.#sender.send(data, callback)
    else this.#sender.send(data, this.#port, this.#destination, callback)
  }

  /**
   * Completion of a send nobody awaits (send(), batches). node:dgram drops a send error silently
   * when no callback is given, so there is always one: a failure is counted and reported.
   */
  /** A heartbeat the kernel refused: counted apart (no frame was lost), no warning of its own. */
  readonly #afterHeartbeat = (error: Error | null) => {
    if (error !== null) this.#heartbeatErrors++
  }

  readonly #afterSend = (error: Error | null) => {
    if (error === null) return
    this.#sendErrors++
    this.emit('warning', { reason: 'send-failed', error })
  }

  #scheduleFlush(): void {
    if (this.#batchCheck !== undefined) return
    this.#batchStartedAt = performance.now()
    this.#batchCountAtCheck = 0
    this.#batchCheck = setImmediate(this.#onTurnEnd)
  }

  /** End of an event-loop turn with a batch pending: send it if it is old enough or nothing came. */
  readonly #onTurnEnd = () => {
    this.#batchCheck = undefined
    const count = this.#batch!.count
    if (count === 0) return
    if (count === this.#batchCountAtCheck || performance.now() - this.#batchStartedAt >= this.#lingerMs) {
      this.#flushBatch()
      return
    }
    this.#batchCountAtCheck = count
    this.#batchCheck = setImmediate(this.#onTurnEnd)
  }

  /** Seals and sends the pending batch, if any; its waiters resolve when the kernel has it. */
  #flushBatch(): void {
    const batch = this.#batch
    if (batch === undefined || batch.count === 0) return
    if (this.#batchCheck !== undefined) {
      clearImmediate(this.#batchCheck)
      this.#batchCheck = undefined
    }
    const datagram = batch.finish(this.sessionId, this.#batchSequence)
    this.#batchSequence = (this.#batchSequence + 1) >>> 0
    this.#datagramsOut++
    this.#bytesOut += datagram.length
    const waiters = this.#batchWaiters
    this.#batchWaiters = undefined
    if (waiters === undefined) {
      this.#transmit(datagram, this.#afterSend)
      return
    }
    this.#transmit(datagram, (error) => {
      for (const w of waiters) {
        if (error) w.reject(this.#sendError(error))
        else w.resolve()
      }
    })
  }

  /** A datagram on this publisher's socket: an ACK, a NACK, a plain reply (raw mode), or a drop. */
  #onMessage(data: Buffer, address: string, port: number): void {
    this.#datagramsIn++
    this.#bytesIn += data.length
    this.#outcome(this.#handle(data, address, port))
  }

  #handle(data: Buffer, address: string, port: number): DatagramOutcome {
    const frame = decodeFrame(data, 0, data.length, { maxMessageBytes: Limits.MAX_MESSAGE_BYTES })
    if (!frame.ok && (frame.reason === 'bad-magic' || frame.reason === 'truncated')) {
      // Not Shoal at all: a plain reply from a bare-socket program (raw mode's duplex).
      this.emit('reply', { data, from: { address, port }, receivedAt: Date.now() })
      return 'reply'
    }
    if (!frame.ok) return this.#refuse(frame.reason, address, port)
    const { header, payload } = frame
    if (header.kind === FrameKind.ACK) {
      const body = decodeAckBody(payload)
      if (body === undefined) return this.#refuse('bad-ack', address, port)
      if (header.sessionId !== this.sessionId) {
        if (this.listenerCount('foreign-ack') === 0) return this.#refuse('foreign-session', address, port)
        // An ack for frames this publisher forwarded (a relay): the relay passes it on.
        this.emit('foreign-ack', { header, data, from: { address, port } } satisfies ForeignAck)
        return 'foreign-ack'
      }
      const outcome = this.#acks.receive(header, body, address, port)
      return outcome === 'ack' ? 'ack' : this.#refuse(outcome, address, port)
    }
    if (header.kind === FrameKind.NACK) {
      if (header.sessionId !== this.sessionId) return this.#refuse('foreign-session', address, port)
      return this.#onNack(header, payload, data.length, address, port)
    }
    return this.#refuse('unexpected-kind', address, port)
  }

  /** A datagram this publisher does not take: counted by reason, and a warning. */
  #refuse(reason: DropReason, address: string, port: number): DropReason {
    countDrop(this.#drops, reason)
    if (this.listenerCount('warning') > 0) this.emit('warning', { reason, address, port })
    return reason
  }

  #outcome(outcome: DatagramOutcome): void {
    this.#outcomes[outcome] = (this.#outcomes[outcome] ?? 0) + 1
  }

  /**
   * A receiver asks for fragments again: resend those held, each at most once per holdoff, as far
   * as the NACK's credit and the resend rates allow.
   */
  #onNack(
    header: FrameHeader,
    payload: Uint8Array,
    length: number,
    address: string,
    port: number,
  ): DatagramOutcome {
    const body = decodeNackBody(payload)
    if (body === undefined) return this.#refuse('bad-nack', address, port)
    const stats = this.#repairStats
    stats.nacksReceived++
    this.#repairActivityAt = performance.now()
    const found = this.#window?.resend(
      ackKey(header.topic, header.sequence),
      body.ranges,
      this.#resend.grant(address, length),
    )
    if (found === undefined) {
      stats.unavailable++
      return 'nack'
    }
    const { held, parts: again } = found
    if (again.length === 0) return 'nack'
    stats.fragmentsResent += again.length
    for (const [head, body, crc] of again) this.#resentBytes += head.length + body.length + crc.length
    this.#background(this.#sendHeld(again, held, false))
    return 'nack'
  }

  #checkOpen(): void {
    if (this.#closed) throw transportError('SHOAL_CLOSED', 'the publisher is closed')
  }
}

/**
 * The memory `payload` was encoded into, as a buffer to recycle. Only memory larger than Node's
 * shared allocation pool (`Buffer.poolSize`): a smaller ArrayBuffer may be that pool, shared with
 * unrelated buffers. (A codec's encoding belongs to its caller: see MessageCodec.)
 */
function ownedBuffer(payload: Uint8Array): Buffer | undefined {
  const memory = payload.buffer
  return memory instanceof ArrayBuffer && memory.byteLength > Buffer.poolSize
    ? Buffer.from(memory)
    : undefined
}

function datagramLength(datagram: Uint8Array | FragmentParts): number {
  return datagram instanceof Uint8Array
    ? datagram.length
    : datagram[0].length + datagram[1].length + datagram[2].length
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve))
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** The fragment count of an encoded frame: big-endian u16 at `Offset.FRAGMENT_COUNT`. */
function fragmentCountOf(frame: Uint8Array): number {
  return (frame[Offset.FRAGMENT_COUNT]! << 8) | frame[Offset.FRAGMENT_COUNT + 1]!
}

/** The repair counters of the resend budget: NACKs whose answer a limit cut short. */
function limitedNacks(budget: ResendBudget): { creditLimited: number; rateLimited: number } {
  const { creditLimited, rateLimited } = budget.stats()
  return { creditLimited, rateLimited }
}

export function createPublisher(options: PublisherOptions): Promise<Publisher> {
  return Publisher.create(options)
}

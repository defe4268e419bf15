import { EventEmitter } from 'node:events'
import { transportError } from './errors.js'
import type { MessageCodec } from './message-codec.js'
import { readKernelDrops } from './net/kernel-drops.js'
import type { DatagramLink } from './net/link.js'
import type { Keyring } from './seal/keyring.js'
import { Opener } from './seal/opener.js'
import { sealStats } from './seal/seal-stats.js'
import { Sealer, type SealMode } from './seal/sealer.js'
import { AckBook, type AckReport, type WaitForAcksOptions } from './send/ack-book.js'
import { Batcher } from './send/batcher.js'
import { ControlInbox } from './send/control-inbox.js'
import { FlowControl } from './send/flow-control.js'
import { FlowGate } from './send/flow-gate.js'
import { Framer } from './send/framer.js'
import { HEARTBEAT_MAX_MS, HEARTBEAT_MIN_MS, HeartbeatScheduler, REAL_CLOCK } from './send/heartbeat.js'
import { Ledger } from './send/ledger.js'
import { openPublisherLink } from './send/open.js'
import {
  checkPublisherOptions,
  checkRelayed,
  DEFAULT_LINGER_MS,
  type EngineOptions,
  type ForeignAck,
  type PublisherInfo,
  type PublisherOptions,
  type PublishOptions,
  type PublishResult,
  type RelayedMessage,
} from './send/options.js'
import { Outbox } from './send/outbox.js'
import { Retransmitter } from './send/retransmitter.js'
import { createSchemaAnnouncer, type SchemaAnnouncer } from './send/schema-announcer.js'
import { SENT_LOG_BYTES, SENT_LOG_MS, SentLog } from './send/sent-log.js'
import { emptySchemaStats, type StatsSnapshot } from './stats.js'
import { encodeTopic, type FrameHeader } from './wire/header.js'
import { encodeHeartbeats } from './wire/heartbeat.js'
import { SEAL_OVERHEAD } from './wire/seal.js'

export class Publisher extends EventEmitter {
  readonly sessionId: number
  readonly info: PublisherInfo
  readonly #link: DatagramLink
  readonly #ledger: Ledger
  readonly #acks = new AckBook()
  /** The one path out: every datagram, first send, resend, batch or heartbeat. */
  readonly #outbox: Outbox
  readonly #batcher: Batcher | undefined
  readonly #retransmitter: Retransmitter
  readonly #inbox: ControlInbox
  /** When to send HEARTBEAT frames; undefined when this publisher sends none. */
  readonly #heartbeat: HeartbeatScheduler | undefined
  /** HEARTBEAT frames sent so far (their sequence numbers). */
  #heartbeatsSent = 0
  /** The kernel's drop count read as the socket closed (its /proc line goes with it). */
  #kernelDropsAtClose: number | undefined
  readonly #framer: Framer
  /** Announces the schemas of the types sent (WIRE.md “Schemas”); undefined with `schemas: false`. */
  readonly #schemas: SchemaAnnouncer | undefined
  /** Opens sealed control frames (and refuses unsealed ones when keyed). */
  readonly #opener: Opener
  /** The datagram budget less the seal, when sealed: what frames are cut to. */
  readonly #frameBudget: number
  /** Sends nobody awaits (large messages from send(), repairs): flush() and close() wait for them. */
  readonly #sending = new Set<Promise<void>>()
  #closed = false

  /** A publisher over `link` (tests drive one over a fake link); `createPublisher` opens a UDP one. */
  constructor(link: DatagramLink, info: PublisherInfo, options: EngineOptions) {
    super()
    checkPublisherOptions(options)
    this.#link = link
    this.sessionId = info.sessionId
    this.info = info
    const repair =
      options.repair === false ? undefined : options.repair === true ? {} : (options.repair ?? {})
    // Every first send is kept for repairs within the repair window (a window of 0 keeps nothing).
    const log =
      repair === undefined || repair.windowBytes === 0 || repair.windowMs === 0
        ? undefined
        : new SentLog({
            maxBytes: repair.windowBytes ?? SENT_LOG_BYTES,
            maxAgeMs: repair.windowMs ?? SENT_LOG_MS,
          })
    this.#ledger = new Ledger(info.sessionId, info.destination, info.port, log)
    this.#outbox = new Outbox(
      link,
      options.pacing ?? {},
      (error) => this.emit('warning', { reason: 'send-failed', error }),
      log,
    )
    // Sealed: every datagram grows by the seal, so frames are cut to the budget less it.
    const seal = options.seal
    if (seal !== undefined) this.#outbox.sealer = new Sealer(seal.keyring, seal.mode ?? 'encrypt')
    this.#opener = new Opener(seal?.keyring)
    const budget = seal === undefined ? info.budget : info.budget - SEAL_OVERHEAD
    this.#frameBudget = budget
    const batch = options.batch === true ? {} : options.batch === false ? undefined : options.batch
    // A linger of 0 is no batching: every frame at once, in its own datagram.
    this.#batcher =
      batch === undefined || batch.lingerMs === 0
        ? undefined
        : new Batcher(this.#outbox, info.sessionId, budget, batch.lingerMs ?? DEFAULT_LINGER_MS)
    const flow = options.flow ?? {}
    if (log !== undefined && flow !== false)
      this.#outbox.gate = new FlowGate(
        new FlowControl({
          ...(flow.strategy === undefined ? {} : { strategy: flow.strategy }),
          ...(flow.groupSize === undefined ? {} : { groupSize: flow.groupSize }),
          ...(flow.receiverTimeoutMs === undefined ? {} : { receiverTimeoutMs: flow.receiverTimeoutMs }),
        }),
        log,
        REAL_CLOCK,
        // Held back: heartbeats go (an announcement before any frame), so receivers report in.
        () => this.#heartbeat?.activity(),
      )
    this.#retransmitter = new Retransmitter(
      repair,
      this.#outbox,
      this.#ledger,
      (sending) => this.#background(sending),
      info.sessionId,
    )
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
    this.#schemas = createSchemaAnnouncer(options.schemas, info.sessionId, budget, (datagrams) =>
      this.#background(this.#outbox.sendAll(datagrams, 'control')),
    )
    this.#inbox = new ControlInbox({
      sessionId: info.sessionId,
      opener: this.#opener,
      acks: this.#acks,
      nack: (header, body, length, address) => this.#retransmitter.onNack(header, body, length, address),
      nackFrames: (header, body, length, address) =>
        this.#retransmitter.onNackFrames(header, body, length, address),
      schemaRequest: (fingerprint) => this.#schemas?.requested(fingerprint),
      status: (body, address, port, leaving) =>
        this.#outbox.gate?.statusFrom(body, address, port, this.#ledger, leaving),
      forwards: (sessionId, topic) => this.#ledger.findForwarded(sessionId, topic) !== undefined,
      reply: (data, address, port) =>
        this.emit('reply', { data, from: { address, port }, receivedAt: Date.now() }),
      foreignAck: (header, data, address, port) => {
        // An ack for frames this publisher forwarded (a relay): the relay passes it on.
        if (this.listenerCount('foreign-ack') === 0) return false
        this.emit('foreign-ack', { header, data, from: { address, port } } satisfies ForeignAck)
        return true
      },
      refused: (reason, address, port) => {
        if (this.listenerCount('warning') > 0) this.emit('warning', { reason, address, port })
      },
    })
    this.#framer = new Framer({
      sessionId: info.sessionId,
      budget,
      ledger: this.#ledger,
      outbox: this.#outbox,
      batcher: this.#batcher,
      retransmitter: this.#retransmitter,
      acks: this.#acks,
      activity: () => this.#heartbeat?.activity(),
      background: (sending) => this.#background(sending),
      checkOpen: () => this.#checkOpen(),
    })
    link.onDatagram((data, address, port) => this.#inbox.receive(data, address, port))
    link.onError((error) => this.emit('warning', { reason: 'socket-error', error }))
  }

  static async create(options: PublisherOptions): Promise<Publisher> {
    const { link, info } = await openPublisherLink(options)
    return new Publisher(link, info, options)
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
      this.#schemas?.sending(type.fingerprint, type)
      return this.#framer.message(topic, type, message, options)
    } catch (error) {
      // A bad topic or a message the codec cannot encode: a rejection, like every other failure.
      return Promise.reject(error)
    }
  }

  /**
   * Encodes and queues `message` without waiting (the fast path): batched when batching is on,
   * otherwise sent at once. Returns the frame's sequence, or {@link BACK_PRESSURED} when flow
   * control holds the publisher back (nothing was sent or numbered: try again after `ready()`).
   * A send failure is a `'warning'` event.
   */
  send<T>(topic: string, type: MessageCodec<T>, message: T): number {
    this.#schemas?.sending(type.fingerprint, type)
    return this.#framer.queue(topic, type, message)
  }

  /** Resolves when the receivers' flow-control window lets a first send go (at once without flow control). */
  ready(): Promise<void> {
    return this.#outbox.gate?.ready() ?? Promise.resolve()
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
      this.#schemas?.sending(fingerprint)
      return this.#framer.payload(this.#ledger.topic(topic), fingerprint, payload, options, undefined)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Sends a whole message that crossed another medium (a NATS bridge) as its publisher first sent
   * it: its original session, sequence and hop count, so that receivers count its stream's loss
   * exactly. Small messages are batched when batching is on; large ones are fragmented to this
   * publisher's budget. Nothing is kept for repair (`REPAIRABLE` clear) and no heartbeat speaks for
   * the stream: receivers see a lost tail only when the stream's next message arrives. Rejects
   * with `SHOAL_BAD_OPTION` for a session or sequence that is no u32 or hops outside 0-255, and
   * `SHOAL_BAD_TOPIC` for a topic of no or too many bytes.
   */
  forwardMessage(message: RelayedMessage): Promise<PublishResult> {
    try {
      this.#checkOpen()
      checkRelayed(message)
      return this.#framer.relayed(message, encodeTopic(message.topic))
    } catch (error) {
      return Promise.reject(error)
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
    const batcher = this.#batcher
    if (batcher !== undefined && batcher.count > 0) {
      const done = batcher.sent()
      batcher.flush()
      await done
    }
    while (this.#sending.size > 0) await Promise.all(this.#sending)
  }

  /**
   * Sends an encoded frame received elsewhere (relays): same session and sequence, hop count set
   * to `hops`, `FOREIGN` set when `foreign` (it came from another sender than its stream's), CRC
   * recomputed. `frame` is modified in place. Batched when batching is on. With `about` (the
   * frame's session, topic and sequence) and repair on, a DATA frame of the stream's own sender is
   * kept in this publisher's sent log and marked `REPAIRABLE`: its receivers ask this relay for
   * what they lose of it (hop-by-hop repair, WIRE.md “Relays”). Otherwise `REPAIRABLE` is cleared.
   */
  async forward(
    frame: Uint8Array,
    hops: number,
    foreign = false,
    about?: Pick<FrameHeader, 'sessionId' | 'topic' | 'sequence'>,
  ): Promise<void> {
    this.#checkOpen()
    await this.#framer.forward(frame, hops, foreign, about)
  }

  /**
   * Sends bytes as one plain UDP datagram with no Shoal framing (for plain-socket programs).
   * Their plain replies to this socket arrive as `'reply'` events (`{ data, from, receivedAt }`).
   */
  async sendRaw(data: Uint8Array): Promise<void> {
    this.#checkOpen()
    await this.#outbox.sendAll([data], 'first')
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

  /**
   * Seals from now on with the keyring's highest id, and opens with every id in it (a key file
   * re-read: rotation without loss). Only for a publisher created with `seal`.
   */
  setKeyring(keyring: Keyring): void {
    const sealer = this.#outbox.sealer
    if (sealer === undefined)
      throw transportError('SHOAL_BAD_OPTION', 'setKeyring: this publisher was created without seal')
    sealer.setKeyring(keyring)
    this.#opener.setKeyring(keyring)
  }

  /** How this publisher seals: mode and key id; undefined when it does not. */
  get sealing(): { mode: SealMode; keyId: number | undefined } | undefined {
    const sealer = this.#outbox.sealer
    return sealer === undefined ? undefined : { mode: sealer.mode, keyId: sealer.keyId }
  }

  stats(): StatsSnapshot {
    const kernelDrops = this.#closed ? this.#kernelDropsAtClose : readKernelDrops(this.#link.inode)
    const out = this.#outbox.counters
    const inbox = this.#inbox
    return {
      ...(kernelDrops === undefined ? {} : { kernelDrops }),
      sent: [...this.#ledger.states()].map((t) => t.stream.snapshot('sent')),
      received: [],
      drops: out.sendErrors > 0 ? { ...inbox.drops, 'send-failed': out.sendErrors } : { ...inbox.drops },
      repair: { ...this.#retransmitter.stats(), forwardedEvicted: this.#ledger.forwardedEvicted },
      outcomes: { ...inbox.outcomes },
      heartbeats: { sent: this.#heartbeatsSent, received: 0, failed: out.controlErrors },
      ...(this.#outbox.gate === undefined ? {} : { flow: this.#outbox.gate.stats() }),
      ...(this.#outbox.sealer === undefined ? {} : { seal: sealStats(this.#outbox.sealer, this.#opener) }),
      schemas: this.#schemas?.stats() ?? emptySchemaStats(),
      datagramsIn: inbox.datagramsIn,
      datagramsOut: out.datagramsOut,
      bytesIn: inbox.bytesIn,
      bytesOut: out.bytesOut,
    }
  }

  /**
   * Sends what is pending, waits for the last repairs (see {@link CLOSE_REPAIR_QUIET_MS}), then
   * releases the sockets.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    // What is pending goes out: flow control waits for no one from here on.
    this.#outbox.gate?.close()
    await this.flush().catch(() => {})
    if (this.#heartbeat !== undefined) {
      // A last heartbeat: receivers see at once what they lost of the last frames, and ask.
      this.#heartbeat.close()
      await this.#outbox.sendAll(this.#heartbeats(), 'control').catch(() => {})
      this.#retransmitter.touch()
    }
    await this.#retransmitter.awaitLastRepairs(
      () => this.flush(),
      this.#heartbeat === undefined ? undefined : () => this.#outbox.sendAll(this.#heartbeats(), 'control'),
    )
    this.#kernelDropsAtClose = readKernelDrops(this.#link.inode)
    this.#closed = true
    this.#acks.clear()
    this.#retransmitter.clear()
    await this.#link.close()
  }

  /** The heartbeat datagrams for now (see `Ledger.heartbeatTopics`). */
  #heartbeats(): Uint8Array[] {
    const topics = this.#ledger.heartbeatTopics()
    // A heartbeat with no topics only announces a publisher waiting for its group to report in.
    if (topics.length === 0 && this.#outbox.gate?.short !== true) return []
    const datagrams = encodeHeartbeats(this.sessionId, this.#heartbeatsSent, topics, this.#frameBudget)
    this.#heartbeatsSent = (this.#heartbeatsSent + datagrams.length) >>> 0
    return datagrams
  }

  /** Sends a heartbeat now (the scheduler's beat), after the pending batch. */
  #beat(): void {
    if (this.#closed) return
    this.#batcher?.flush()
    for (const datagram of this.#heartbeats()) this.#outbox.put(datagram, 'control')
  }

  #checkOpen(): void {
    if (this.#closed) throw transportError('SHOAL_CLOSED', 'the publisher is closed')
  }
}

export function createPublisher(options: PublisherOptions): Promise<Publisher> {
  return Publisher.create(options)
}

/**
 * The receive engine: what becomes of every datagram a subscriber reads. A DATA frame is checked
 * against its stream (sequence, sender), reassembled when fragmented, decoded and delivered; a
 * BATCH unpacked; a HEARTBEAT shows lost tails and keeps its publisher alive; anything else is
 * counted by reason. It drives the repair requesters (fragments, whole frames), the ack responder
 * and the status sender (flow control), and never touches the socket: the subscriber (its host)
 * sends and emits for it.
 */
import { transportError } from '../errors.js'
import type { Keyring } from '../seal/keyring.js'
import type { DatagramOutcome, RepairStats, StatsSnapshot } from '../stats.js'
import { compileTopicFilter, type TopicFilter } from '../topic-filter.js'
import { encodeAck } from '../wire/ack.js'
import { forEachInnerFrame, sealInner } from '../wire/batch.js'
import { CRC_LENGTH, FIXED_HEADER_LENGTH, Flag, FrameKind } from '../wire/constants.js'
import { crc32 } from '../wire/crc.js'
import { impliedFragmentSize } from '../wire/fragment.js'
import { decodeFrame } from '../wire/frame.js'
import type { FrameHeader } from '../wire/header.js'
import type { Delivery } from './delivery.js'
import { onHeartbeat } from './heartbeat-in.js'
import type {
  ForwardDatagram,
  RawDatagram,
  SubscriberInfo,
  SubscriberOptions,
  TransportWarning,
} from './options.js'
import { type EngineHost, type PathCounters, ReceiveParts } from './parts.js'
import type { AbandonedMessage, Reassembler } from './reassembler.js'
import { messageKey } from './repair-requester.js'
import type { Repairs } from './repairs.js'
import type { SchemaLearner } from './schema-learner.js'
import type { SealGate } from './seal-gate.js'
import type { SourceEvent } from './sources.js'
import type { StatusSender } from './status-sender.js'
import type { StreamTable } from './stream-table.js'
import type { Tally } from './tally.js'

export { type EngineHost, INITIAL_AVERAGE_DATAGRAM_BYTES, LEAVE_WAIT_MS } from './parts.js'

export class ReceiveEngine {
  readonly #host: EngineHost
  readonly #info: SubscriberInfo
  readonly #sessionId: number
  readonly #filter: TopicFilter
  readonly #ack: boolean
  readonly #raw: boolean
  readonly #forward: boolean
  readonly #allow: ((address: string) => boolean) | undefined
  /** Everything below, built, swept, counted and closed in one place (parts.ts). */
  readonly #parts: ReceiveParts
  readonly #reassembler: Reassembler
  readonly #streams: StreamTable
  /** Outcomes, drops by reason and warnings. */
  readonly #tally: Tally
  readonly #maxMessageBytes: number
  /** Asks publishers for what did not arrive; undefined when this subscriber never asks. */
  readonly #repairs: Repairs | undefined
  /** Opens what arrives and seals what goes out, keyed (WIRE.md “Sealing”). */
  readonly #seal: SealGate
  /** Flow-control STATUS to the publishers heard; undefined when off (raw, forward, `status: false`). */
  readonly #status: StatusSender | undefined
  /** Learns types in-band (WIRE.md “Schemas”); undefined when off (`schemas: false`, no decoding, raw, forward). */
  readonly #schemas: SchemaLearner | undefined
  /** Decoding and handing frames to the application (and its queue, which shrinks the window offered). */
  readonly delivery: Delivery
  /**
   * Datagrams and bytes read, heartbeats taken, and the average length of the datagrams read lately
   * (see `receiveBufferHolds`). The average starts small: until it has seen datagrams, a receiver
   * offers the window small ones would fill (a large first guess let a publisher of 70-byte frames
   * overflow a slow receiver's buffer at the start).
   */
  readonly #counters: PathCounters

  /** `sessionId`: this subscriber's, sent in acks and NACKs so a restarted receiver is told apart. */
  constructor(options: SubscriberOptions, info: SubscriberInfo, sessionId: number, host: EngineHost) {
    this.#host = host
    this.#info = info
    this.#sessionId = sessionId
    this.#filter = compileTopicFilter(options.topics)
    this.#ack = options.ack ?? false
    this.#raw = options.raw ?? false
    this.#forward = options.forward ?? false
    this.#allow = options.allow
    const parts = new ReceiveParts(options, info, sessionId, host)
    this.#parts = parts
    this.#tally = parts.tally
    this.delivery = parts.delivery
    this.#schemas = parts.schemas
    this.#maxMessageBytes = parts.maxMessageBytes
    this.#reassembler = parts.reassembler
    this.#reassembler.onAbandon = (abandoned) => this.#onAbandon(abandoned)
    this.#streams = parts.streams
    this.#seal = parts.seal
    this.#repairs = parts.repairs
    this.#status = parts.status
    this.#counters = parts.counters
  }

  /** Expires partial messages and idle streams; returns the sources whose state changed. */
  sweep(now: number): SourceEvent[] {
    return this.#parts.sweep(now)
  }

  /** The counters at this instant (the host adds the kernel's drops). */
  snapshot(): StatsSnapshot {
    return this.#parts.snapshot()
  }

  repairStats(): RepairStats {
    return this.#parts.repairStats()
  }

  /** What became of the datagrams read so far, by outcome. */
  get outcomes(): Partial<Record<DatagramOutcome, number>> {
    return this.#tally.outcomes
  }

  warn(warning: TransportWarning): void {
    this.#tally.warn(warning)
  }

  /** Reassembly state: partial messages and bytes held, completions, expiries, evictions. */
  reassemblyStats() {
    return this.#reassembler.stats()
  }

  /** A re-read keyring: seal with its highest id, open with every id (see `Subscriber.setKeyring`). */
  setKeyring(keyring: Keyring): void {
    if (!this.#seal.keyed)
      throw transportError('SHOAL_BAD_OPTION', 'setKeyring: this subscriber was created without seal')
    this.#seal.setKeyring(keyring)
  }

  /** The subscriber closes: publishers reported to are told (see `ReceiveParts.leave`). */
  leave(): Promise<void> {
    return this.#parts.leave()
  }

  /** Stops every timer and gives up every partial message. */
  close(): void {
    this.#parts.close()
  }

  /** One datagram read from the socket. */
  receive(received: Buffer, address: string, port: number): void {
    const counters = this.#counters
    counters.datagramsIn++
    counters.bytesIn += received.length
    // A moving average over about the last 64 datagrams: what the kernel buffer holds of them.
    counters.averageDatagram += (received.length - counters.averageDatagram) / 64
    if (this.#allow !== undefined && !this.#allow(address)) {
      this.#tally.drop('not-allowed', undefined, address, port)
      this.#tally.outcome('not-allowed')
      return
    }
    // Wall-clock time for the frame; intervals (stream state, expiry) use the monotonic clock.
    const receivedAt = Date.now()
    const now = performance.now()
    if (this.#raw) {
      this.#tally.outcome('delivered')
      this.#host.emit('raw', { data: received, from: { address, port }, receivedAt } satisfies RawDatagram)
      return
    }
    // A plain Uint8Array view from here on: its subarrays are cheaper than Buffer's (one per frame).
    const data = new Uint8Array(received.buffer, received.byteOffset, received.length)
    const frame = decodeFrame(data, 0, data.length, { maxMessageBytes: this.#maxMessageBytes })
    if (!frame.ok) {
      this.#tally.drop(frame.reason, undefined, address, port)
      this.#tally.outcome(frame.reason)
      return
    }
    const { header } = frame
    const admitted = this.#seal.admit(data, header, frame.payload)
    if (!admitted.ok) {
      this.#tally.drop(admitted.reason, undefined, address, port)
      this.#tally.outcome(admitted.reason)
      return
    }
    if (admitted.whole) {
      this.#tally.outcome(this.#forwarded(header, data, address, port, false))
      return
    }
    const payload = admitted.payload
    if (header.kind === FrameKind.DATA) {
      this.#tally.outcome(this.#onData(header, payload, admitted.data, address, port, receivedAt, now))
      return
    }
    if (header.kind === FrameKind.BATCH) {
      const whole = forEachInnerFrame(payload, (inner, innerPayload, start, length) => {
        const innerFrame = this.#forward ? sealInner(payload.subarray(start, start + length)) : admitted.data
        // Each inner frame is counted by its own outcome in `drops` and its stream; the datagram once.
        this.#onData(inner, innerPayload, innerFrame, address, port, receivedAt, now)
      })
      if (whole) this.#tally.outcome('batch')
      else {
        this.#tally.drop('bad-batch', undefined, address, port)
        this.#tally.outcome('bad-batch')
      }
      return
    }
    if (header.kind === FrameKind.HEARTBEAT) {
      const forward = this.#forward
        ? (foreign: boolean) => this.#forwarded(header, admitted.data, address, port, foreign)
        : undefined
      this.#tally.outcome(
        onHeartbeat(this.#parts, forward, header, payload, admitted.data, address, port, now),
      )
      return
    }
    if (header.kind === FrameKind.SCHEMA) {
      // Relays pass announces on, fragment by fragment, whatever their topic filters.
      if (this.#forward) this.#tally.outcome(this.#forwarded(header, admitted.data, address, port, false))
      else if (this.#schemas !== undefined)
        this.#tally.outcome(this.#schemas.announce(header, payload, address, port))
      else this.#tally.outcome('schema')
      return
    }
    // ACK and NACK frames are for publishers: here they are someone's mistake, or a probe.
    this.#tally.drop('unexpected-kind', undefined, address, port, `kind ${header.kind}`)
    this.#tally.outcome('unexpected-kind')
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
      this.#tally.drop('fragment-mismatch', undefined, address, port)
      return 'fragment-mismatch'
    }
    const stream = this.#streams.get(header.sessionId, header.topic, address, port, now)
    if (stream === undefined) {
      // A new stream from an address full of established ones: not tracked, not delivered.
      this.#tally.drop('streams-full', undefined, address, port)
      return 'streams-full'
    }
    stream.datagrams++
    // From another sender than the stream's own (or so marked by a relay): delivered, but it
    // moves nothing, counts in no gap and is never repaired.
    const foreign = stream.isForeign(address, port, now, (header.flags & Flag.FOREIGN) !== 0)
    // The publisher hears how far this receiver got (flow control): its own frames only, and only
    // those it sent here itself (a relay's sender would get a STATUS about another session).
    if (!foreign && header.hops === 0)
      this.#status?.heard(
        stream,
        header.sessionId,
        header.sequence,
        address,
        port,
        payload.length + header.topic.length + FIXED_HEADER_LENGTH + CRC_LENGTH,
        now,
      )
    if (this.#forward) {
      // Relays account per frame on its first fragment and pass every datagram on; dedup is theirs.
      const repairs = header.flags & Flag.REPAIRABLE && !foreign ? this.#repairs : undefined
      const tracker = stream.tracker
      const gapsBefore = tracker.gaps
      const verdict =
        header.fragmentIndex === 0
          ? tracker.observe(header.sequence, now, foreign, foreign || tracker.hasForeign ? crc32(payload) : 0)
          : undefined
      repairs?.relayed(
        stream,
        header,
        verdict,
        tracker.gaps - gapsBefore,
        payload,
        data.length,
        address,
        port,
      )
      stream.bytes += payload.length
      return this.#forwarded(header, data, address, port, foreign)
    }
    let message = payload
    if (fragmented) {
      const tracker = stream.tracker
      // The stream starts at the first fragment seen, so that a frame that never completes counts.
      tracker.prime(header.sequence, now)
      // A foreign copy is reassembled apart: it cannot corrupt the real message, nor complete it.
      const key = `${foreign ? 'f' : ''}${messageKey(header.sessionId, header.sequence, header.topic)}`
      const repair = this.#repairs?.fragments
      // Repairs are asked for only for the stream's own sender, at a position the stream has
      // confirmed: a stranger's fragment makes no NACK.
      const target =
        repair !== undefined && header.flags & Flag.REPAIRABLE && !foreign && !tracker.isFar(header.sequence)
          ? repair.target(header, stream, address, port, data.length)
          : undefined
      if (target !== undefined) stream.repairing = true
      const result = this.#reassembler.accept(key, header, payload, {
        repair: target,
        askedWhole: repair?.isWanted(key),
        source: address,
        datagramBytes: data.length,
      })
      repair?.afterFragment()
      if (result.status === 'dropped') {
        this.#tally.drop(result.reason, stream, address, port)
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
      this.#repairs?.repairable(
        stream,
        header,
        verdict,
        tracker.gaps - gapsBefore,
        message.length,
        data.length,
        address,
        port,
      )
    if (verdict === 'duplicate') return fragmented ? 'fragment' : 'duplicate'
    stream.bytes += message.length
    if (header.flags & Flag.ACK_REQUEST && this.#ack) this.#sendAck(header, address, port)
    const outcome = this.delivery.deliver(header, message, stream, address, port, receivedAt, verdict, now)
    return fragmented ? 'fragment' : outcome
  }

  /** Hands a datagram to the relay (forward mode). */
  #forwarded(
    header: FrameHeader,
    data: Uint8Array,
    address: string,
    port: number,
    foreign: boolean,
  ): 'forwarded' {
    this.#host.emit('datagram', { header, data, from: { address, port }, foreign } satisfies ForwardDatagram)
    return 'forwarded'
  }

  /**
   * The sender (address and port) of the stream (`sessionId`, `topic`), when it is tracked: where
   * a relay passes a receiver's SCHEMA_REQUEST about that stream upstream.
   */
  senderOf(sessionId: number, topic: string): { address: string; port: number } | undefined {
    return this.#streams.find(sessionId, topic)?.ownerAddress
  }

  #sendAck(header: FrameHeader, address: string, port: number): void {
    const ack = encodeAck(header, { receiverSession: this.#sessionId, receiver: this.#info.name })
    this.#parts.sendControl(ack, { address, port }, 'ack')
  }

  #onAbandon({ key, reason }: AbandonedMessage): void {
    const [session, topic] = parseMessageKey(key)
    this.#tally.drop(reason, this.#streams.find(session, topic), undefined, undefined)
  }
}

function parseMessageKey(key: string): [number, string] {
  const first = key.indexOf(':')
  const second = key.indexOf(':', first + 1)
  return [Number(key.slice(0, first)), key.slice(second + 1)]
}

/**
 * The relay's decision for every datagram that comes in: drop it (and say why) or forward it,
 * unchanged but for the hop count, to every output whose topic filter takes it. And the way back
 * for acks. No sockets here: inputs and outputs are whatever can `reply` and `forward`.
 */
import type { FrameHeader, TopicFilter } from '@shoal/transport'
import {
  CRC_LENGTH,
  crc32,
  decodeAckBody,
  FIXED_HEADER_LENGTH,
  Flag,
  FrameKind,
  isSealed,
  Offset,
  setHops,
  writeCrc,
} from '@shoal/transport/wire'
import { AckRoutes } from './ack-routes.js'
import type { AckCounters, OutputCounters, RelayCounters } from './counters.js'
import { HeartbeatRepeats } from './heartbeat-repeats.js'
import { type LoopGuard, RELAY_DROP_REASONS, type RelayDropReason, type SocketAddress } from './loop-guard.js'
import { SchemaRequests } from './schema-requests.js'

export interface ForwarderInput {
  /** As written, for counters and logs. */
  readonly spec: string
  /** Global `--topic` and this route's `?topic=`. */
  readonly accepts: TopicFilter
  /** False for a source address this input does not take (`?allow=`); absent: it takes every one. */
  allows?(address: string): boolean
  /** Sends a datagram from this input's socket (acks going back upstream). */
  reply(data: Uint8Array, to: SocketAddress): Promise<void>
  /** The sender of stream (`sessionId`, `topic`) as this input heard it (where schema requests go). */
  senderOf?(sessionId: number, topic: string): SocketAddress | undefined
}

export interface ForwarderOutput {
  readonly spec: string
  /** This route's `?topic=` (the global filter was applied on the way in). */
  readonly accepts: TopicFilter
  /** Largest datagram this output's interface carries whole (the publisher's budget). */
  readonly budget: number
  /**
   * Sends `frame` with its hop count set to `hops`, marked `FOREIGN` when `foreign`
   * (`publisher.forward`). `about`: the frame's session, topic and sequence (the output keeps it
   * for its receivers' repairs).
   */
  forward(frame: Uint8Array, hops: number, foreign: boolean, about?: FrameHeader): Promise<void>
}

/** One datagram as the transport's forward mode hands it over. */
export interface IncomingDatagram {
  readonly header: FrameHeader
  readonly data: Uint8Array
  readonly from: SocketAddress
  /**
   * From another sender than its stream's own (the transport's forward mode says): forwarded
   * marked `FOREIGN`, deduplicated apart from the stream's own frames, and never a way back for acks.
   */
  readonly foreign?: boolean
}

/** An ack arriving on an output socket for a session the relay forwards (`'foreign-ack'`). */
export type IncomingAck = IncomingDatagram

export interface ForwarderEvents {
  /** A send failed; counted already. */
  onSendError?(where: string, error: unknown): void
  /** The first datagram too large for an output's budget; later ones are only counted. */
  onFirstOversize?(output: string, bytes: number, budget: number): void
}

export class Forwarder {
  readonly #inputs: readonly ForwarderInput[]
  readonly #outputs: readonly ForwarderOutput[]
  readonly #guard: LoopGuard
  readonly #events: ForwarderEvents
  readonly #ackRoutes: AckRoutes
  readonly #dropped = Object.fromEntries(RELAY_DROP_REASONS.map((r) => [r, 0])) as Record<
    RelayDropReason,
    number
  >
  readonly #sent: OutputCounters[]
  readonly #acks: AckCounters = { forwarded: 0, malformed: 0, unroutable: 0, 'max-hops': 0, errors: 0 }
  /** Where receivers' SCHEMA_REQUESTs go upstream; counts announces forwarded too. */
  readonly #schemas: SchemaRequests
  #received = 0
  #forwarded = 0
  readonly #heartbeats = { received: 0, forwarded: 0, dropped: 0 }
  readonly #repeats: HeartbeatRepeats

  constructor(
    inputs: readonly ForwarderInput[],
    outputs: readonly ForwarderOutput[],
    guard: LoopGuard,
    events: ForwarderEvents = {},
    ackRoutes: AckRoutes = new AckRoutes(),
  ) {
    this.#inputs = inputs
    this.#outputs = outputs
    this.#guard = guard
    this.#events = events
    this.#ackRoutes = ackRoutes
    this.#schemas = new SchemaRequests(inputs, guard, events)
    this.#repeats = new HeartbeatRepeats(
      (data, hops) => this.#toOutputs(data, hops, false),
      outputs.reduce((least, output) => Math.min(least, output.budget), REPEAT_BUDGET),
    )
    this.#sent = outputs.map((output) => ({ route: output.spec, sent: 0, errors: 0, oversize: 0 }))
  }

  /**
   * Forwards or drops one datagram that came in on input number `input`. The transport has checked
   * it (magic, version, lengths, CRC, header); the relay checks where it came from, where it has
   * been and whether it came before.
   */
  datagram(input: number, { header, data, from, foreign = false }: IncomingDatagram): void {
    if (header.kind === FrameKind.HEARTBEAT) {
      this.#heartbeat(header, data, from, foreign)
      return
    }
    this.#received++
    const reason = this.#check(input, header, data, from, foreign)
    if (reason !== undefined) {
      this.#dropped[reason]++
      // The publisher's own copy, beaten to the relay by a forged one, still shows it is there.
      if (reason === 'duplicate' && header.flags & Flag.ACK_REQUEST)
        this.#ackRoutes.confirm(header.sessionId, { input, address: from.address, port: from.port })
      return
    }
    this.#forwarded++
    if (header.kind === FrameKind.SCHEMA) this.#schemas.counters.announces++
    // Its stream's last sequence, for the heartbeats that tell this relay's segment of a lost tail.
    else if (!foreign && header.kind === FrameKind.DATA && !isSealed(flagsOf(data)))
      this.#repeats.forwarded(header.sessionId, header.topic, header.sequence)
    if (header.flags & Flag.ACK_REQUEST && !foreign)
      this.#ackRoutes.remember(header.sessionId, { input, address: from.address, port: from.port })
    const hops = header.hops + 1
    const outputs = this.#outputs
    for (let i = 0; i < outputs.length; i++) {
      const output = outputs[i]!
      if (!passes(output, header)) continue
      const counters = this.#sent[i]!
      counters.sent++
      if (data.length > output.budget && counters.oversize++ === 0)
        this.#events.onFirstOversize?.(output.spec, data.length, output.budget)
      // Every output writes the same hop count and CRC into `data`, so sharing it is safe.
      output.forward(data, hops, foreign, header).catch((error: unknown) => {
        counters.errors++
        this.#events.onSendError?.(output.spec, error)
      })
    }
  }

  /** Why a datagram is not forwarded, or undefined when it is; the order is the documented one. */
  #check(
    input: number,
    header: FrameHeader,
    data: Uint8Array,
    from: SocketAddress,
    foreign: boolean,
  ): RelayDropReason | undefined {
    const route = this.#inputs[input]
    if (route?.allows?.(from.address) === false) return 'not-allowed'
    const guard = this.#guard
    if (guard.isOwnOutput(from)) return 'loop'
    if (route === undefined || !passes(route, header)) return 'filtered'
    if (!this.#outputs.some((output) => passes(output, header))) return 'filtered'
    if (guard.hopsExceeded(header.hops)) return 'max-hops'
    if (!guard.firstTime(header, foreign, () => payloadDigest(data))) return 'duplicate'
    return undefined
  }

  /**
   * Sends an ack back the way its session's frames came, one hop further. The transport has checked
   * the frame (lengths, CRC) and that it is an ACK for a session other than the output's own; the
   * relay passes on only what a receiver writes, and counts each ack under one result.
   */
  ack({ header, data }: IncomingAck): void {
    if (header.kind === FrameKind.SCHEMA_REQUEST) {
      this.#schemas.route(header, data)
      return
    }
    if (!isReceiverAck(header, data)) {
      this.#acks.malformed++
      return
    }
    const route = this.#ackRoutes.lookup(header.sessionId)
    const input = route === undefined ? undefined : this.#inputs[route.input]
    if (route === undefined || input === undefined) {
      this.#acks.unroutable++
      return
    }
    if (this.#guard.hopsExceeded(header.hops)) {
      this.#acks['max-hops']++
      return
    }
    setHops(data, 0, header.hops + 1)
    writeCrc(data, 0, data.length)
    input.reply(data, route).then(
      () => {
        this.#acks.forwarded++
      },
      (error: unknown) => {
        this.#acks.errors++
        this.#events.onSendError?.(input.spec, error)
      },
    )
  }

  /**
   * A publisher's HEARTBEAT: passed on to every output (its entries name every topic, and
   * receivers read only those of streams they have), once, within the hop limit; counted apart
   * from frames.
   */
  #heartbeat(header: FrameHeader, data: Uint8Array, from: SocketAddress, foreign: boolean): void {
    const beats = this.#heartbeats
    beats.received++
    const guard = this.#guard
    if (
      guard.isOwnOutput(from) ||
      guard.hopsExceeded(header.hops) ||
      !guard.firstTime(header, foreign, () => payloadDigest(data))
    ) {
      beats.dropped++
      return
    }
    beats.forwarded++
    const hops = header.hops + 1
    // Its own sender's, and one this relay may send again: unsealed, or sealed again by the outputs.
    if (!foreign && !isSealed(flagsOf(data))) this.#repeats.remember(header.sessionId, data, hops)
    this.#toOutputs(data, hops, foreign)
  }

  #toOutputs(data: Uint8Array, hops: number, foreign: boolean): void {
    for (const output of this.#outputs)
      output
        .forward(data, hops, foreign)
        .catch((error: unknown) => this.#events.onSendError?.(output.spec, error))
  }

  /** Stops repeating heartbeats (the outputs are closing). */
  close(): void {
    this.#repeats.close()
  }

  counters(): RelayCounters {
    const { conflicts, moved, refused, evicted } = this.#ackRoutes.counters()
    return {
      heartbeats: {
        ...this.#heartbeats,
        repeated: this.#repeats.counters.repeated,
        repeatLimited: this.#repeats.counters.limited,
      },
      received: this.#received,
      forwarded: this.#forwarded,
      dropped: { ...this.#dropped },
      outputs: this.#sent.map((counters) => ({ ...counters })),
      acks: { ...this.#acks },
      schemas: { ...this.#schemas.counters },
      ackRoutes: { conflicts, moved, refused },
      tables: {
        dedup: { entries: this.#guard.remembered, evicted: this.#guard.forgotten },
        'ack-routes': { entries: this.#ackRoutes.size, evicted },
      },
    }
  }

  /** Publisher sessions the relay knows the way back to, for acks. */
  get ackSessions(): number {
    return this.#ackRoutes.size
  }
}

/**
 * Largest sealed control frame passed back upstream, bytes: an ACK with the longest name, or a
 * NACK padded to earn the resend of a 64 KiB datagram (a sixteenth of it) with 64 ranges.
 */
export const MAX_SEALED_CONTROL_BYTES = 8 * 1024

/**
 * True for an ACK as receivers write it (WIRE.md, “ACK”): one fragment, a receiver session and name
 * of at most `MAX_RECEIVER_NAME_BYTES`. So what a relay sends back upstream is an ack, and small.
 */
export function isReceiverAck(header: FrameHeader, data: Uint8Array): boolean {
  if (header.fragmentCount !== 1) return false
  // Sealed (WIRE.md “Sealing”), it cannot be read without the key: an ACK or a repair request
  // goes back whole, and the publisher, which holds the key, opens it. Up to a size real ones
  // have, so that the relay carries no bulk upstream for a stranger. The datagram's own flags say
  // so: a keyed output has opened it already, and its header says plain.
  if (isSealed(flagsOf(data)))
    return (
      data.length <= MAX_SEALED_CONTROL_BYTES &&
      (header.kind === FrameKind.ACK ||
        header.kind === FrameKind.NACK ||
        header.kind === FrameKind.NACK_FRAMES)
    )
  if (header.kind !== FrameKind.ACK) return false
  const end = data.length - CRC_LENGTH
  const start = end - header.payloadLength
  return start >= 0 && decodeAckBody(data.subarray(start, end)) !== undefined
}

/** The FLAGS field of the frame in `data` (its length checked by the transport already). */
function flagsOf(data: Uint8Array): number {
  return data.length < FIXED_HEADER_LENGTH ? 0 : (data[Offset.FLAGS]! << 8) | data[Offset.FLAGS + 1]!
}

/** Largest heartbeat a relay writes of its own when no output is smaller (an Ethernet datagram). */
const REPEAT_BUDGET = 1_472

/**
 * A checksum of a frame's payload (between its header, whose length is at `Offset.HEADER_LENGTH`,
 * and its CRC): what tells a second path's copy of a frame from a forgery with the same numbers.
 */
function payloadDigest(frame: Uint8Array): number {
  const headerLength = (frame[Offset.HEADER_LENGTH]! << 8) | frame[Offset.HEADER_LENGTH + 1]!
  return crc32(frame.subarray(headerLength, frame.length - CRC_LENGTH))
}

/**
 * Whether a route's topic filter lets a datagram through. A HEARTBEAT (topic `*`) lists every
 * topic of its publisher and goes everywhere: receivers read only the entries of streams they have.
 * A SCHEMA announce (topic: a type name) goes everywhere too: any topic may carry its type.
 */
function passes(route: { readonly accepts: TopicFilter }, header: FrameHeader): boolean {
  return (
    header.kind === FrameKind.HEARTBEAT || header.kind === FrameKind.SCHEMA || route.accepts(header.topic)
  )
}

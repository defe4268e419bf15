/**
 * The framer: a message into frames (whole, batched or fragmented), each with its sequence number
 * from the ledger, out through the batcher or the outbox. The only writer of DATA frames.
 */
import type { MessageCodec } from '../message-codec.js'
import { BATCH_LENGTH_PREFIX, batchCapacity, batchEntryLength } from '../wire/batch.js'
import { CRC_LENGTH, FIXED_HEADER_LENGTH, Flag, FrameKind, Offset } from '../wire/constants.js'
import { fragmentParts } from '../wire/fragment.js'
import { writeCrc } from '../wire/frame.js'
import { clearFlags, type FrameHeader, setFlags, setHops } from '../wire/header.js'
import { FrameSlab } from '../wire/slab.js'
import type { AckBook } from './ack-book.js'
import type { Batcher } from './batcher.js'
import type { Ledger, TopicState } from './ledger.js'
import { BACK_PRESSURED, type PublishOptions, type PublishResult, type RelayedMessage } from './options.js'
import { datagramLength, type LogNote, type Outbox } from './outbox.js'
import type { Retransmitter } from './retransmitter.js'

/** What the framer works with: the publisher's engine parts. */
export interface FramerContext {
  readonly sessionId: number
  /** Largest datagram, bytes. */
  readonly budget: number
  readonly ledger: Ledger
  readonly outbox: Outbox
  readonly batcher: Batcher | undefined
  readonly retransmitter: Retransmitter
  readonly acks: AckBook
  /** A frame went out or into a batch (the heartbeat's clock). */
  activity(): void
  /** Runs a send nobody awaits (a failure is a warning; flush() waits for it). */
  background(sending: Promise<unknown>): void
  /** Throws `SHOAL_CLOSED` once the publisher is closed. */
  checkOpen(): void
}

export class Framer {
  readonly #context: FramerContext
  readonly #sessionId: number
  readonly #budget: number
  /** Whole frames of unbatched sends, cut from shared slabs. */
  readonly #slab = new FrameSlab()
  /** The send of the last fragmented message: the next one starts after it. */
  #fragmented: Promise<void> = Promise.resolve()
  /** Flags of every whole frame: REPAIRABLE when the outbox keeps a sent log. */
  readonly #whole: number

  constructor(context: FramerContext) {
    this.#context = context
    this.#sessionId = context.sessionId
    this.#budget = context.budget
    this.#whole = context.outbox.log === undefined ? 0 : Flag.REPAIRABLE
  }

  /** `publish()`: encodes `message` and sends it; resolves when the kernel has it (or its batch). */
  message<T>(
    topic: string,
    type: MessageCodec<T>,
    message: T,
    options: PublishOptions,
  ): Promise<PublishResult> {
    this.#context.checkOpen()
    const gate = this.#context.outbox.gate
    // Flow control: wait for the receivers' window, then frame (the sequence is taken after).
    if (gate !== undefined && !gate.open())
      return gate.ready().then(() => this.message(topic, type, message, options))
    const state = this.#context.ledger.topic(topic)
    const recycled = this.#encodeRecycled(state, type, message)
    if (recycled !== undefined)
      return this.payload(state, type.fingerprint, recycled, options, ownedBuffer(recycled))
    if (this.#context.batcher !== undefined) {
      const payload = type.encode(message)
      return this.payload(state, type.fingerprint, payload, options, ownedBuffer(payload))
    }
    // Unbatched: a message that fits one datagram is framed in place and sent with one callback,
    // no further promises (this path is the latency of a request/response exchange).
    const flags = (options.ack ? Flag.ACK_REQUEST : 0) | this.#whole
    const frame = this.#slab.encodeFrame(
      type,
      message,
      flags,
      0,
      this.#sessionId,
      state.sequence,
      state.bytes,
      this.#budget,
    )
    if (!(frame instanceof Uint8Array))
      return this.payload(state, type.fingerprint, frame.payload, options, ownedBuffer(frame.payload))
    const sequence = this.#sendWhole(state, frame)
    if (options.ack) this.#context.acks.expect(topic, sequence)
    return new Promise((resolve, reject) => {
      const index = this.#context.outbox.put(frame, 'first', (error) => {
        if (error === null) resolve({ topic, sequence, datagrams: 1, bytes: frame.length })
        else reject(error)
      })
      this.#note(state, sequence, index)
    })
  }

  /** `owned`: the whole buffer `payload` was encoded into by this publisher, free to recycle. */
  async payload(
    state: TopicState,
    fingerprint: number,
    payload: Uint8Array,
    options: PublishOptions,
    owned: Buffer | undefined,
  ): Promise<PublishResult> {
    this.#context.checkOpen()
    const gate = this.#context.outbox.gate
    while (gate !== undefined && !gate.open()) await gate.ready()
    const topic = state.topic
    const entry = batchEntryLength(state.bytes.length, payload.length)
    const batcher = this.#context.batcher
    if (batcher !== undefined && entry <= batchCapacity(this.#budget)) {
      const flags = (options.ack ? Flag.ACK_REQUEST : 0) | this.#whole
      const sequence = this.#enqueue(batcher, state, fingerprint, payload, flags)
      if (options.ack) this.#context.acks.expect(topic, sequence)
      await batcher.sent()
      return { topic, sequence, datagrams: 1, bytes: entry }
    }
    batcher?.flush()
    const sequence = this.#context.ledger.take(state)
    let flags = options.ack ? Flag.ACK_REQUEST : 0
    if (options.ack) this.#context.acks.expect(topic, sequence)
    if (FIXED_HEADER_LENGTH + state.bytes.length + payload.length + CRC_LENGTH <= this.#budget) {
      const frame = this.#slab.copyFrame(
        flags | this.#whole,
        0,
        this.#sessionId,
        sequence,
        fingerprint,
        state.bytes,
        payload,
      )
      await this.#context.outbox.sendAll([frame], 'first', undefined, this.#noteOf(state, sequence))
      state.stream.sent(payload.length, 1)
      this.#context.activity()
      return { topic, sequence, datagrams: 1, bytes: frame.length }
    }
    // Fragmented: held for repair when the window can hold it at all.
    state.large = true
    const retransmitter = this.#context.retransmitter
    const repairable = retransmitter.fits(payload.length)
    if (repairable) flags |= Flag.REPAIRABLE
    const frames = fragmentParts(
      {
        kind: FrameKind.DATA,
        flags,
        hops: 0,
        topic,
        sessionId: this.#sessionId,
        sequence,
        fingerprint,
        extensionLength: 0,
      },
      state.bytes,
      payload,
      this.#budget,
    )
    let bytes = 0
    for (const frame of frames) bytes += datagramLength(frame)
    const held = repairable ? retransmitter.hold(topic, sequence, frames, payload.length, owned) : undefined
    // One fragmented message at a time, in the order they were published: interleaved, a later
    // one would make receivers take the earlier one's unsent tail for lost.
    state.inFlight++
    this.#context.activity()
    const note = this.#noteOf(state, sequence)
    const sending = this.#fragmented.then(() =>
      held === undefined
        ? this.#context.outbox.sendAll(frames, 'first', undefined, note)
        : retransmitter.sendHeld(frames, held, true, note),
    )
    this.#fragmented = sending.catch(() => {})
    try {
      await sending
    } finally {
      state.inFlight--
      this.#context.activity()
    }
    state.stream.sent(payload.length, frames.length)
    return { topic, sequence, datagrams: frames.length, bytes }
  }

  /**
   * Encodes and queues `message` without waiting (the fast path): batched when batching is on,
   * otherwise sent at once. Returns the frame's sequence. A send failure is a `'warning'` event.
   */
  queue<T>(topic: string, type: MessageCodec<T>, message: T): number {
    this.#context.checkOpen()
    const gate = this.#context.outbox.gate
    if (gate !== undefined && !gate.open()) {
      // Flow control: nothing is framed or numbered; the caller tries again after `ready()`.
      gate.sendsRefused++
      return BACK_PRESSURED
    }
    const state = this.#context.ledger.topic(topic)
    const sequence = state.sequence
    let payload: Uint8Array
    const recycled = this.#encodeRecycled(state, type, message)
    const batcher = this.#context.batcher
    if (recycled !== undefined) payload = recycled
    else if (batcher !== undefined) {
      // Straight into the batch when the codec can encode in place and the frame fits.
      const appended = batcher.builder.appendMessage(
        type,
        message,
        this.#whole,
        0,
        this.#sessionId,
        sequence,
        state.bytes,
      )
      if (typeof appended === 'number') {
        this.#context.ledger.take(state)
        this.#appended(batcher, state, appended, sequence)
        return sequence
      }
      payload = appended
      if (batchEntryLength(state.bytes.length, payload.length) <= batchCapacity(this.#budget))
        return this.#enqueue(batcher, state, type.fingerprint, payload, this.#whole)
    } else {
      const frame = this.#slab.encodeFrame(
        type,
        message,
        this.#whole,
        0,
        this.#sessionId,
        sequence,
        state.bytes,
        this.#budget,
      )
      if (frame instanceof Uint8Array) {
        // Whole frame, no batching: one datagram, no promise; a failure is counted by the outbox.
        this.#sendWhole(state, frame)
        this.#note(state, sequence, this.#context.outbox.put(frame, 'first'))
        return sequence
      }
      payload = frame.payload
    }
    // Large: its sequence is taken now; it goes out after the large messages before it.
    this.#context.background(this.payload(state, type.fingerprint, payload, {}, ownedBuffer(payload)))
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
    const window = this.#context.retransmitter.window
    const buffer = state.large && encodeInto !== undefined ? window?.takeRecycled() : undefined
    if (buffer === undefined) return undefined
    const end = encodeInto!.call(type, message, buffer, 0)
    if (typeof end !== 'number') return end
    if (FIXED_HEADER_LENGTH + state.bytes.length + end + CRC_LENGTH > this.#budget)
      return buffer.subarray(0, end)
    window!.recycle(buffer)
    state.large = false
    return undefined
  }

  /** Appends one whole frame to the batch, sending the batch first if it does not fit; returns its sequence. */
  #enqueue(
    batcher: Batcher,
    state: TopicState,
    fingerprint: number,
    payload: Uint8Array,
    flags: number,
  ): number {
    batcher.makeRoom(batchEntryLength(state.bytes.length, payload.length))
    const sequence = this.#context.ledger.take(state)
    batcher.builder.append(flags, 0, this.#sessionId, sequence, fingerprint, state.bytes, payload)
    this.#appended(batcher, state, payload.length, sequence)
    return sequence
  }

  /** Bookkeeping of a frame just added to the batch. */
  #appended(batcher: Batcher, state: TopicState, payloadLength: number, sequence: number): void {
    state.stream.sent(payloadLength, 0) // its datagram is the batch's, counted at flush
    this.#context.activity()
    batcher.appended(state.key, sequence)
  }

  /** Notes a whole frame's datagram (log index `index`, -1: not logged) in the sent log. */
  #note(state: TopicState, sequence: number, index: number): void {
    if (index >= 0 && state.key !== undefined)
      this.#context.outbox.log!.note(state.key, sequence, sequence, index)
  }

  #noteOf(state: TopicState, sequence: number): LogNote | undefined {
    return state.key === undefined ? undefined : { key: state.key, sequence }
  }

  /** Takes the next sequence of `state` for a whole frame about to be sent; counts it. */
  #sendWhole(state: TopicState, frame: Uint8Array): number {
    const sequence = this.#context.ledger.take(state)
    this.#context.activity()
    state.stream.sent(frame.length - FIXED_HEADER_LENGTH - state.bytes.length - CRC_LENGTH, 1)
    return sequence
  }

  /** `publisher.forwardMessage()`: see there. */
  async relayed(message: RelayedMessage, topicBytes: Uint8Array): Promise<PublishResult> {
    this.#context.checkOpen()
    const gate = this.#context.outbox.gate
    while (gate !== undefined && !gate.open()) await gate.ready()
    const { topic, fingerprint, payload, sessionId, sequence, hops } = message
    // REPAIRABLE stays clear: this publisher keeps nothing of another session's frames.
    const flags = 0
    const entry = batchEntryLength(topicBytes.length, payload.length)
    const batcher = this.#context.batcher
    if (batcher !== undefined && entry <= batchCapacity(this.#budget)) {
      batcher.makeRoom(entry)
      batcher.builder.append(flags, hops, sessionId, sequence, fingerprint, topicBytes, payload)
      batcher.appended()
      await batcher.sent()
      return { topic, sequence, datagrams: 1, bytes: entry }
    }
    batcher?.flush()
    if (FIXED_HEADER_LENGTH + topicBytes.length + payload.length + CRC_LENGTH <= this.#budget) {
      const frame = this.#slab.copyFrame(flags, hops, sessionId, sequence, fingerprint, topicBytes, payload)
      await this.#context.outbox.sendAll([frame], 'first')
      return { topic, sequence, datagrams: 1, bytes: frame.length }
    }
    const frames = fragmentParts(
      { kind: FrameKind.DATA, flags, hops, topic, sessionId, sequence, fingerprint, extensionLength: 0 },
      topicBytes,
      payload,
      this.#budget,
    )
    let bytes = 0
    for (const frame of frames) bytes += datagramLength(frame)
    // After the fragmented messages before it, as `payload()` does: never interleaved.
    const sending = this.#fragmented.then(() => this.#context.outbox.sendAll(frames, 'first'))
    this.#fragmented = sending.catch(() => {})
    await sending
    return { topic, sequence, datagrams: frames.length, bytes }
  }

  /** `publisher.forward()`: see there. */
  async forward(
    frame: Uint8Array,
    hops: number,
    foreign = false,
    about?: Pick<FrameHeader, 'sessionId' | 'topic' | 'sequence'>,
  ): Promise<void> {
    const gate = this.#context.outbox.gate
    while (gate !== undefined && !gate.open()) await gate.ready()
    setHops(frame, 0, hops)
    if (foreign) setFlags(frame, 0, Flag.FOREIGN)
    const data = frame[Offset.KIND] === FrameKind.DATA
    const key =
      about !== undefined && data && !foreign
        ? this.#context.ledger.forwarded(about.sessionId, about.topic)
        : undefined
    if (key !== undefined) setFlags(frame, 0, Flag.REPAIRABLE)
    else clearFlags(frame, 0, Flag.REPAIRABLE)
    const batcher = this.#context.batcher
    // Only whole unsealed DATA frames go into a batch (WIRE.md, BATCH): a fragment, a HEARTBEAT or
    // a frame sealed by someone else (passed on as it is) goes out on its own.
    const entry = frame.length - CRC_LENGTH + BATCH_LENGTH_PREFIX
    if (
      batcher !== undefined &&
      data &&
      (frame[Offset.FLAGS + 1]! & Flag.AUTHENTICATED) === 0 &&
      entry <= batchCapacity(this.#budget) &&
      fragmentCountOf(frame) === 1
    ) {
      batcher.makeRoom(entry)
      batcher.builder.appendFrame(frame)
      batcher.appended(key, about?.sequence)
      return
    }
    batcher?.flush()
    writeCrc(frame, 0, frame.length)
    if (key === undefined) {
      await this.#context.outbox.sendAll([frame], data ? 'first' : 'control')
      return
    }
    // Kept in the log: its own bytes, not a view that would keep a larger receive buffer alive.
    const kept = frame.buffer.byteLength > 2 * frame.length ? frame.slice() : frame
    await this.#context.outbox.sendAll([kept], 'first', undefined, { key, sequence: about!.sequence })
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

/** The fragment count of an encoded frame: big-endian u16 at `Offset.FRAGMENT_COUNT`. */
function fragmentCountOf(frame: Uint8Array): number {
  return (frame[Offset.FRAGMENT_COUNT]! << 8) | frame[Offset.FRAGMENT_COUNT + 1]!
}

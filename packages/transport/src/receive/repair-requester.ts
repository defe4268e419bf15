/**
 * The receiving side of repair (WIRE.md “Repair”): when to ask a publisher for the fragments of its
 * messages that did not arrive, and the NACKs that ask. Holes and overtaken messages are asked for
 * at once, idle tails and retries on a tick that runs only while there is something to watch, and
 * messages a stream jumped past are asked for whole.
 *
 * Every NACK is padded to 1/{@link NACK_AMPLIFICATION} of what it asks for (the publisher answers
 * no more than that multiple of a NACK's length), and what does not fit one datagram is asked for
 * in several. What a receiver sends a sender address is bounded by what it received from there
 * (`NackCredit`): a stranger's fragment declaring a huge message never turns into megabytes of
 * NACKs.
 */
import type { Stream } from '../stream.js'
import { CRC_LENGTH, FIXED_HEADER_LENGTH } from '../wire/constants.js'
import { encodeTopic, type FrameHeader } from '../wire/header.js'
import {
  encodeNack,
  type FragmentRange,
  MAX_NACK_RANGES,
  NACK_AMPLIFICATION,
  nackLengthFor,
  WHOLE_MESSAGE,
} from '../wire/nack.js'
import type { NackCredit } from './nack-credit.js'
import type { Reassembler, RepairTarget, RepairTiming } from './reassembler.js'

/**
 * When a subscriber asks for missing fragments (WIRE.md “Repair”). Holes (a fragment arrived and
 * some before it did not) and a message overtaken by the next one are asked for at once; a
 * message's missing tail after 10 ms without news; what is still missing again 20 ms after, then
 * 40, then every 80 ms (`retryDelay`), at most 12 times per message: the last ask goes about 0.86 s
 * after the first, within the publisher's 1 s repair window.
 */
export const DEFAULT_REPAIR_TIMING: RepairTiming = { idleMs: 10, retryMs: 20, maxRetries: 12 }
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
/**
 * A NACK for a whole message (whose size the receiver cannot know) is padded for this many of the
 * stream's fragments: the publisher sends the message's first ones, and the rest is then asked for
 * as the missing tail of a partial message.
 */
export const WHOLE_MESSAGE_FRAGMENTS = 2
/** Datagram bytes of a fragment assumed for a stream none of whose fragments was seen yet. */
const DEFAULT_FRAGMENT_DATAGRAM = 1_472

export interface RepairRequesterOptions {
  readonly timing: RepairTiming
  readonly reassembler: Reassembler
  /** This receiver's session id, sent in every NACK. */
  readonly receiverSession: number
  /** Largest NACK datagram, bytes (the interface's datagram budget). */
  readonly budget: number
  /** What this receiver may ask each sender address for (shared with the frame repair). */
  readonly credit: NackCredit
  /** Sends one NACK datagram. */
  send(nack: Uint8Array, to: { address: string; port: number }): void
}

/** One NACK to send: the ranges it asks for and the length to pad it to. */
export interface PlannedNack {
  ranges: FragmentRange[]
  length: number
}

/**
 * Splits a request for `ranges` of fragments, each `datagramBytes` long on the wire, into NACKs
 * that each ask for at most what a NACK of `budget` bytes earns ({@link NACK_AMPLIFICATION} ×) and
 * carry at most {@link MAX_NACK_RANGES} ranges; each is padded to what it asks for.
 */
export function* planNacks(
  ranges: readonly FragmentRange[],
  datagramBytes: number,
  budget: number,
): Generator<PlannedNack> {
  const perNack = Math.max(1, Math.floor((budget * NACK_AMPLIFICATION) / datagramBytes))
  let current: FragmentRange[] = []
  let fragments = 0
  for (const [start, count] of ranges) {
    let first = start
    let left = count
    while (left > 0) {
      if (fragments === perNack || current.length === MAX_NACK_RANGES) {
        yield { ranges: current, length: nackLengthFor(fragments * datagramBytes) }
        current = []
        fragments = 0
      }
      const take = Math.min(left, perNack - fragments)
      current.push([first, take])
      fragments += take
      first += take
      left -= take
    }
  }
  if (current.length > 0) yield { ranges: current, length: nackLengthFor(fragments * datagramBytes) }
}

interface Wanted {
  readonly target: RepairTarget
  readonly stream: Stream
  askedAt: number
  retries: number
}

export class RepairRequester {
  readonly #options: RepairRequesterOptions
  /**
   * Whole messages asked for, by reassembly key: asked again every `retryMs` (at most `maxRetries`
   * times) until they start arriving. At most {@link MAX_WANTED_MESSAGES}; the oldest goes.
   */
  readonly #wanted = new Map<string, Wanted>()
  #ticker: NodeJS.Timeout | undefined
  #check: NodeJS.Immediate | undefined
  nacksSent = 0
  /** NACKs not sent for want of credit with their sender address. */
  nacksSuppressed = 0

  constructor(options: RepairRequesterOptions) {
    this.#options = options
  }

  /** Whether the message under `key` was asked for whole and has not started to arrive. */
  isWanted(key: string): boolean {
    return this.#wanted.has(key)
  }

  /**
   * A fragment of a message its publisher holds (`datagramBytes` long), from a stream position the
   * stream has confirmed: whom to ask for what is missing. Asks at once for the whole of any
   * repairable messages of the stream it jumped past without seeing, and makes sure idle tails
   * and retries are checked while the message is partial.
   */
  target(
    header: FrameHeader,
    stream: Stream,
    address: string,
    port: number,
    datagramBytes: number,
  ): RepairTarget {
    const { sessionId, topic, sequence } = header
    stream.repairDatagramBytes = datagramBytes
    this.#options.credit.earn(address, datagramBytes)
    const newest = stream.newestRepairable
    const ahead = newest === undefined ? 1 : (sequence - newest) | 0
    if (ahead > 0) {
      stream.newestRepairable = sequence
      this.#askSkipped(sessionId, topic, stream, sequence, ahead - 1, address, port)
    }
    this.#watch()
    return { sessionId, topic, sequence, address, port }
  }

  /**
   * The stream's sender says (HEARTBEAT) that its last frame was `last`: repairable messages of
   * the stream after the newest seen, up to `last`, were lost whole: asks for them.
   */
  tail(sessionId: number, topic: string, stream: Stream, last: number, address: string, port: number): void {
    const newest = stream.newestRepairable
    if (newest === undefined) return // a stream of small frames: nothing is held to ask for
    const after = (last - newest) | 0
    if (after <= 0) return
    this.#askSkipped(sessionId, topic, stream, (last + 1) >>> 0, after, address, port)
    stream.newestRepairable = last
    this.#watch()
  }

  /** Asks for the whole of the `count` messages before `before` (the newest 16) not seen. */
  #askSkipped(
    sessionId: number,
    topic: string,
    stream: Stream,
    before: number,
    count: number,
    address: string,
    port: number,
  ): void {
    const reassembler = this.#options.reassembler
    for (let back = Math.min(count, MAX_WHOLE_MESSAGE_NACKS); back >= 1; back--) {
      const missing = (before - back) >>> 0
      const key = messageKey(sessionId, missing, topic)
      if (stream.tracker.has(missing) || reassembler.isPartial(key) || this.#wanted.has(key)) continue
      const target = { sessionId, topic, sequence: missing, address, port }
      this.#askWhole(target, stream)
      if (this.#wanted.size >= MAX_WANTED_MESSAGES) this.#wanted.delete(this.#wanted.keys().next().value!)
      this.#wanted.set(key, { target, stream, askedAt: performance.now(), retries: 0 })
    }
  }

  /** After a fragment was taken: asks at once if it showed a hole or overtook a message. */
  afterFragment(): void {
    if (this.#options.reassembler.repairDue) this.#check ??= setImmediate(this.#now)
  }

  close(): void {
    clearInterval(this.#ticker)
    this.#ticker = undefined
    if (this.#check !== undefined) clearImmediate(this.#check)
    this.#check = undefined
    this.#wanted.clear()
  }

  /** Runs the tick while there is anything to watch. */
  #watch(): void {
    if (this.#ticker === undefined) {
      this.#ticker = setInterval(this.#tick, REPAIR_TICK_MS)
      this.#ticker.unref()
    }
  }

  readonly #now = () => {
    this.#check = undefined
    const { reassembler, timing } = this.#options
    for (const { target, ranges, fragmentSize } of reassembler.repairRequests(timing))
      this.#ask(target, ranges, fragmentDatagramBytes(target.topic, fragmentSize))
  }

  readonly #tick = () => {
    this.#now()
    this.#askAgain()
    if (!this.#options.reassembler.hasRepairable() && this.#wanted.size === 0) {
      clearInterval(this.#ticker)
      this.#ticker = undefined
    }
  }

  /** Whole messages still wanted: forgotten once they arrive or start to; asked for again. */
  #askAgain(): void {
    const { timing, reassembler } = this.#options
    const now = performance.now()
    for (const [key, wanted] of this.#wanted) {
      if (wanted.stream.tracker.has(wanted.target.sequence) || reassembler.isPartial(key)) {
        this.#wanted.delete(key)
        continue
      }
      if (now - wanted.askedAt < timing.retryMs) continue
      if (wanted.retries >= timing.maxRetries) {
        this.#wanted.delete(key)
        continue
      }
      wanted.retries++
      wanted.askedAt = now
      this.#askWhole(wanted.target, wanted.stream)
    }
  }

  #askWhole(target: RepairTarget, stream: Stream): void {
    const bytes = WHOLE_MESSAGE_FRAGMENTS * (stream.repairDatagramBytes ?? DEFAULT_FRAGMENT_DATAGRAM)
    this.#send(target, [WHOLE_MESSAGE], Math.min(nackLengthFor(bytes), this.#options.budget))
  }

  #ask(target: RepairTarget, ranges: FragmentRange[], datagramBytes: number): void {
    for (const nack of planNacks(ranges, datagramBytes, this.#options.budget))
      if (!this.#send(target, nack.ranges, nack.length)) return
  }

  /** Sends one NACK if its sender address has the credit for it; false when it has not. */
  #send(target: RepairTarget, ranges: FragmentRange[], length: number): boolean {
    const nack = encodeNack(target, { receiverSession: this.#options.receiverSession, ranges }, length)
    if (!this.#options.credit.spend(target.address, nack.length)) {
      this.nacksSuppressed++
      return false
    }
    this.nacksSent++
    this.#options.send(nack, target)
    return true
  }
}

/** Datagram bytes of a fragment with `fragmentSize` bytes of payload on `topic`. */
function fragmentDatagramBytes(topic: string, fragmentSize: number): number {
  return FIXED_HEADER_LENGTH + encodeTopic(topic).length + fragmentSize + CRC_LENGTH
}

/** Reassembly key of a fragmented message: `session:sequence:topic`. */
export function messageKey(sessionId: number, sequence: number, topic: string): string {
  return `${sessionId}:${sequence}:${topic}`
}

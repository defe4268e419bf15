/**
 * Repair of whole frames (WIRE.md “NACK by sequence”): when a stream whose publisher keeps a sent
 * log (its frames are marked `REPAIRABLE`) skips sequence numbers, the receiver asks for them with
 * NACK_FRAMES, at once (at the end of the event-loop turn, so that all the gaps one datagram showed
 * go in one NACK), then again every {@link FRAME_REPAIR_RETRY_MS} while any is still missing, at
 * most {@link FRAME_REPAIR_MAX_RETRIES} times. A frame that arrives takes its gap back (the stream's
 * tracker); one that never does stays counted lost.
 *
 * Bounded: at most {@link MAX_WANTED_FRAMES} sequences wanted at once across all streams (a gap
 * beyond that is counted `framesNotAsked`, never asked for), and NACK bytes to an address come out
 * of the credit that address earned (`NackCredit`).
 */

import type { Clock } from '../send/heartbeat.js'
import type { Stream } from '../stream.js'
import { CRC_LENGTH, FIXED_HEADER_LENGTH, MAX_DATAGRAM_BYTES } from '../wire/constants.js'
import { NACK_AMPLIFICATION, nackLengthFor } from '../wire/nack.js'
import {
  encodeNackFrames,
  MAX_NACK_FRAME_COUNT,
  MAX_NACK_FRAME_RANGES,
  type SequenceRange,
} from '../wire/nack-frames.js'
import type { NackCredit } from './nack-credit.js'

/**
 * A missing frame is asked for again after this long, ms, then after twice as long each time, up to
 * {@link FRAME_REPAIR_MAX_RETRY_MS}: a publisher busy sending answers late, and asking faster than
 * it answers only multiplies its resends.
 */
export const FRAME_REPAIR_RETRY_MS = 10
/** The longest wait between two asks for the same frame, ms. */
export const FRAME_REPAIR_MAX_RETRY_MS = 80
/**
 * Times a missing frame is asked for again after the first, at most: 10 + 20 + 40 + 9 × 80 ms, so
 * the last ask goes about 0.8 s after the first, within the publisher's 1 s sent log.
 */
export const FRAME_REPAIR_MAX_RETRIES = 12

/** When the `retries`-th ask again is due after the one before, ms. */
export function frameRetryDelay(retries: number): number {
  return Math.min(FRAME_REPAIR_RETRY_MS * 2 ** Math.max(0, retries), FRAME_REPAIR_MAX_RETRY_MS)
}

/** The longest a missing frame is asked for, ms: from its first ask to its last. */
export const FRAME_REPAIR_HORIZON_MS = Array.from({ length: FRAME_REPAIR_MAX_RETRIES }, (_, k) =>
  frameRetryDelay(k),
).reduce((a, b) => a + b, 0)
/** Sequences wanted at once, across all streams, at most (8 KiB of ranges, bounded work per tick). */
export const MAX_WANTED_FRAMES = 262_144

export interface FrameRepairOptions {
  readonly credit: NackCredit
  /** This receiver's session id, sent in every NACK. */
  readonly receiverSession: number
  /** Largest NACK datagram, bytes. */
  readonly budget: number
  readonly clock: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>
  /** Runs `ask` at the end of this event-loop turn. */
  readonly soon: (ask: () => void) => void
  send(nack: Uint8Array, to: { address: string; port: number }): void
}

interface Wanted {
  readonly stream: Stream
  readonly sessionId: number
  readonly topic: string
  readonly address: string
  readonly port: number
  /** Missing ranges, oldest first, each with its own retry count and when it was last asked for. */
  ranges: Array<{ first: number; count: number; retries: number; askedAt: number }>
  askedAt: number
}

export interface FrameRepairStats {
  /** NACK_FRAMES datagrams sent, and those not sent for want of credit. */
  nacksSent: number
  nacksSuppressed: number
  /** Sequences asked for (first asks and retries). */
  framesAsked: number
  /** Sequences of gaps not asked for: more were wanted at once than {@link MAX_WANTED_FRAMES}. */
  framesNotAsked: number
  /** Sequences given up on after the last retry (they stay counted lost). */
  framesGivenUp: number
}

export class FrameRepair {
  readonly #options: FrameRepairOptions
  readonly #wanted = new Map<Stream, Wanted>()
  #wantedFrames = 0
  #askPending = false
  #timer: unknown
  readonly #stats: FrameRepairStats = {
    nacksSent: 0,
    nacksSuppressed: 0,
    framesAsked: 0,
    framesNotAsked: 0,
    framesGivenUp: 0,
  }

  constructor(options: FrameRepairOptions) {
    this.#options = options
  }

  /**
   * The stream's own sender skipped `count` sequences from `first` (a gap, or a heartbeat's lost
   * tail): ask for them.
   */
  gap(
    stream: Stream,
    sessionId: number,
    topic: string,
    first: number,
    count: number,
    address: string,
    port: number,
  ): void {
    const room = MAX_WANTED_FRAMES - this.#wantedFrames
    if (room < count) {
      this.#stats.framesNotAsked += count - Math.max(room, 0)
      count = Math.max(room, 0)
      if (count === 0) return
    }
    let wanted = this.#wanted.get(stream)
    if (wanted === undefined) {
      wanted = { stream, sessionId, topic, address, port, ranges: [], askedAt: Number.NEGATIVE_INFINITY }
      this.#wanted.set(stream, wanted)
    }
    wanted.ranges.push({ first, count, retries: -1, askedAt: Number.NEGATIVE_INFINITY })
    this.#wantedFrames += count
    if (!this.#askPending) {
      this.#askPending = true
      this.#options.soon(this.#askNew)
    }
  }

  stats(): FrameRepairStats {
    return { ...this.#stats }
  }

  close(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#wanted.clear()
    this.#wantedFrames = 0
  }

  /** The end of the turn: the new ranges are asked for. */
  readonly #askNew = () => {
    this.#askPending = false
    this.#ask(false)
  }

  readonly #retry = () => {
    this.#timer = undefined
    this.#ask(true)
  }

  /** Asks for what is still missing: new ranges, or (`retry`) ranges due again. */
  #ask(retry: boolean): void {
    const now = this.#options.clock.now()
    for (const wanted of this.#wanted.values()) {
      const tracker = wanted.stream.tracker
      const asking: SequenceRange[] = []
      const kept: Wanted['ranges'] = []
      for (const range of wanted.ranges) {
        const due = retry
          ? range.retries >= 0 && now - range.askedAt >= frameRetryDelay(range.retries)
          : range.retries < 0
        // What of the range is still missing, as ranges (a retry asks only for what did not come).
        const missing: SequenceRange[] = []
        for (let k = 0; k < range.count; ) {
          const sequence = (range.first + k) >>> 0
          if (tracker.has(sequence)) {
            k++
            continue
          }
          let n = 1
          while (k + n < range.count && n < MAX_NACK_FRAME_COUNT && !tracker.has((sequence + n) >>> 0)) n++
          missing.push([sequence, n])
          k += n
        }
        let left = 0
        for (const [, n] of missing) left += n
        this.#wantedFrames -= range.count - left
        if (left === 0) continue
        if (due && range.retries >= FRAME_REPAIR_MAX_RETRIES) {
          this.#stats.framesGivenUp += left
          this.#wantedFrames -= left
          continue
        }
        const retries = due ? range.retries + 1 : range.retries
        const askedAt = due ? now : range.askedAt
        for (const [first, count] of missing) kept.push({ first, count, retries, askedAt })
        if (due) asking.push(...missing)
      }
      wanted.ranges = kept
      if (kept.length === 0) this.#wanted.delete(wanted.stream)
      if (asking.length > 0) {
        wanted.askedAt = now
        this.#send(wanted, asking)
      }
    }
    if (this.#wanted.size > 0 && this.#timer === undefined)
      this.#timer = this.#options.clock.setTimeout(this.#retry, FRAME_REPAIR_RETRY_MS)
  }

  /**
   * NACK_FRAMES for `ranges`, each padded for what it asks (WIRE.md “NACK by sequence”): the frames'
   * bytes, but at least one whole datagram of the stream per range (a lost batch is resent whole,
   * and a NACK earns at most 16 times its length), as many NACKs as that takes.
   */
  #send(wanted: Wanted, ranges: SequenceRange[]): void {
    const { budget, receiverSession, credit } = this.#options
    const stream = wanted.stream
    // What one frame of the stream costs on the wire, on average: its payload and its header.
    const frames = Math.max(1, stream.tracker.frames)
    const frameBytes =
      Math.ceil(stream.bytes / frames) + FIXED_HEADER_LENGTH + wanted.topic.length + CRC_LENGTH
    const datagramBytes = Math.max(frameBytes, stream.frameDatagramBytes ?? 0)
    // What one NACK of at most `budget` bytes earns.
    const capacity = Math.min(budget, MAX_DATAGRAM_BYTES) * NACK_AMPLIFICATION
    let current: SequenceRange[] = []
    let count = 0
    let cost = 0
    const flush = (): boolean => {
      if (current.length === 0) return true
      const length = Math.min(budget, nackLengthFor(cost))
      const nack = encodeNackFrames(
        { sessionId: wanted.sessionId, topic: wanted.topic },
        { receiverSession, ranges: current },
        length,
      )
      current = []
      this.#stats.framesAsked += count
      count = 0
      cost = 0
      if (!credit.spend(wanted.address, nack.length)) {
        this.#stats.nacksSuppressed++
        return false
      }
      this.#stats.nacksSent++
      this.#options.send(nack, wanted)
      return true
    }
    for (const [first, n] of ranges) {
      let from = first
      let left = n
      while (left > 0) {
        if (current.length === MAX_NACK_FRAME_RANGES || capacity - cost < frameBytes + datagramBytes)
          if (!flush()) return
        const take = Math.max(1, Math.min(left, Math.floor((capacity - cost - datagramBytes) / frameBytes)))
        current.push([from, take])
        count += take
        // A lost datagram is resent whole: a range costs its frames and one datagram besides.
        cost += take * frameBytes + datagramBytes
        from = (from + take) >>> 0
        left -= take
      }
    }
    flush()
  }
}

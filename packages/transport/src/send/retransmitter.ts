/**
 * The retransmitter: NACKs in, resends out (WIRE.md “Repair”, “NACK by sequence”). It holds
 * fragmented messages for a window of bytes and time (see `RepairOptions`) and answers a NACK with
 * the fragments asked for; it answers NACK_FRAMES from the outbox's sent log (every datagram first
 * sent, whole frames and batches) and, for a fragmented message named there, with the whole message.
 * Each datagram goes again at most once per holdoff (coalescing: one multicast resend serves every
 * receiver that asked), as far as the NACK's credit and the resend rates allow (`ResendBudget`),
 * through the outbox like every other datagram.
 */
import { type Held, RepairWindow } from '../repair-window.js'
import { emptyRepairStats, type RepairStats } from '../stats.js'
import { MAX_FRAGMENTS, Offset } from '../wire/constants.js'
import type { FragmentParts } from '../wire/fragment.js'
import type { FrameHeader } from '../wire/header.js'
import { type NackBody, WHOLE_MESSAGE } from '../wire/nack.js'
import type { NackFramesBody } from '../wire/nack-frames.js'
import { ackKey } from './ack-book.js'
import type { Ledger } from './ledger.js'
import { type LogNote, type Outbox, sleep } from './outbox.js'
import { ResendBudget, type ResendLimits } from './resend-budget.js'

/**
 * On `close()`, a publisher that holds anything waits until its receivers have been quiet (no NACK)
 * for this long, so that what they lost of its last messages can still be repaired: longer than a
 * receiver's longest wait between two asks (80 ms). Meanwhile it repeats its last heartbeat every
 * {@link CLOSE_HEARTBEAT_MS}, so that a receiver that lost the last frames and a heartbeat too still
 * learns of them.
 */
export const CLOSE_REPAIR_QUIET_MS = 100
/**
 * The longest `close()` waits for repairs, ms: a receiver asks for a lost frame for about 0.9 s;
 * with receivers reporting (flow control) it ends as soon as they all have everything.
 */
export const CLOSE_REPAIR_MAX_MS = 2_000
/** How often `close()` repeats the last heartbeat while it waits for repairs, ms. */
export const CLOSE_HEARTBEAT_MS = 20

/**
 * Repair of fragmented messages (WIRE.md “Repair”). The publisher keeps a reference to each
 * fragmented message it sends (no copy: the frames it already built) for a window of bytes and
 * time, and marks its fragments `REPAIRABLE`. A receiver that finds fragments missing sends a NACK;
 * the publisher sends those fragments again, to the same destination, through the same pacing.
 */
/**
 * Look-ups of the sent log one NACK_FRAMES may cost, at most (each returns at most
 * MAX_RESEND_DATAGRAMS_PER_LOOKUP datagrams): datagrams in their holdoff cost no credit, so a
 * NACK for 64 × 65,535 sequences resent a moment ago must still cost bounded work.
 */
export const MAX_LOOKUPS_PER_NACK = 16

export interface RepairOptions extends ResendLimits {
  /** Bytes of messages held, at most; the oldest go first. Default `REPAIR_WINDOW_BYTES` (64 MiB). */
  windowBytes?: number
  /** A message older than this is no longer held, ms. Default `REPAIR_WINDOW_MS` (1,000). */
  windowMs?: number
}

export class Retransmitter {
  /** Fragmented messages held for repair; undefined when repair is off. */
  readonly window: RepairWindow | undefined
  readonly #budget: ResendBudget
  readonly #outbox: Outbox
  readonly #background: (sending: Promise<unknown>) => void
  readonly #ledger: Ledger
  readonly #sessionId: number
  readonly #stats = emptyRepairStats()
  /** When a held message was last sent or a NACK last came (performance.now()). */
  #activityAt = Number.NEGATIVE_INFINITY

  /**
   * `options` undefined: repair off. `background` runs a send nobody awaits (the publisher's: a
   * failure is a warning, flush() waits for it).
   */
  constructor(
    options: RepairOptions | undefined,
    outbox: Outbox,
    ledger: Ledger,
    background: (sending: Promise<unknown>) => void,
    sessionId = 0,
  ) {
    this.#ledger = ledger
    this.#sessionId = sessionId
    // A window of 0 bytes or 0 ms holds nothing: no repair.
    this.window =
      options === undefined || options.windowBytes === 0 || options.windowMs === 0
        ? undefined
        : new RepairWindow(options.windowBytes, options.windowMs)
    // Resends are capped relative to what this publisher sent first.
    this.#budget = new ResendBudget(options ?? {}, () => outbox.firstBytes)
    this.#outbox = outbox
    this.#background = background
  }

  /** Holds a fragmented message about to be sent, when the window can hold it at all. */
  hold(
    topic: string,
    sequence: number,
    parts: FragmentParts[],
    bytes: number,
    owned: Buffer | undefined,
  ): Held | undefined {
    const window = this.window
    return window?.fits(bytes) === true
      ? window.hold(ackKey(topic, sequence), parts, bytes, owned)
      : undefined
  }

  /** Whether a message of `bytes` would be held (its fragments are then marked REPAIRABLE). */
  fits(bytes: number): boolean {
    return this.window?.fits(bytes) === true
  }

  /**
   * Sends datagrams of a held message: all of them the first time (`first`, counting them out in
   * `held.sent` for repairs), or some again. Its buffer is not recycled while this runs.
   */
  async sendHeld(
    datagrams: ReadonlyArray<FragmentParts>,
    held: Held,
    first: boolean,
    note?: LogNote,
  ): Promise<void> {
    const window = this.window!
    if (!first) window.begin(held) // the first send was counted when the message was held
    try {
      await this.#outbox.sendAll(datagrams, first ? 'first' : 'resend', first ? held : undefined, note)
    } finally {
      window.end(held)
      this.#activityAt = performance.now()
    }
  }

  /**
   * A receiver asks for fragments again: resend those held, each at most once per holdoff, as far
   * as the NACK's credit and the resend rates allow.
   */
  onNack(header: FrameHeader, body: NackBody, length: number, address: string): void {
    const stats = this.#stats
    stats.nacksReceived++
    this.#activityAt = performance.now()
    if (header.sessionId !== this.#sessionId) {
      this.#resendForwarded(header, body, length, address)
      return
    }
    const found = this.window?.resend(
      ackKey(header.topic, header.sequence),
      body.ranges,
      this.#budget.grant(address, length),
    )
    if (found === undefined) {
      stats.unavailable++
      return
    }
    const { held, parts: again } = found
    if (again.length === 0) return
    stats.fragmentsResent += again.length
    this.#background(this.sendHeld(again, held, false))
  }

  /**
   * A receiver asks for whole frames of a stream by sequence: resend the datagrams of the sent log
   * that hold them (each at most once per holdoff), and the whole of any fragmented message named,
   * as far as the NACK's credit and the resend rates allow. Sequences no longer held are
   * `unavailable` (once per NACK).
   */
  onNackFrames(header: FrameHeader, body: NackFramesBody, length: number, address: string): void {
    const stats = this.#stats
    stats.nacksReceived++
    const now = performance.now()
    this.#activityAt = now
    const log = this.#outbox.log
    // A topic this publisher never sent on (a name off the network) is never made into one.
    const key =
      header.sessionId === this.#sessionId
        ? this.#ledger.find(header.topic)?.key
        : this.#ledger.findForwarded(header.sessionId, header.topic)
    if (log === undefined || key === undefined) {
      stats.unavailable++
      return
    }
    const grant = this.#budget.grant(address, length)
    let lookups = 0
    let missing = 0
    const messages: number[] = []
    for (const [first, count] of body.ranges) {
      let from = first
      let left = count
      let fromIndex = 0
      while (left > 0 && lookups < MAX_LOOKUPS_PER_NACK) {
        lookups++
        const found = log.lookup(key, from, left, now, fromIndex)
        missing += found.missing
        for (const { index, datagram } of found.datagrams) {
          if (!(datagram instanceof Uint8Array)) {
            // A fragment: its message is resent whole from the repair window (which knows when its
            // buffer is recycled), once per NACK.
            const sequence = sequenceOf(datagram[0])
            if (messages.at(-1) !== sequence) messages.push(sequence)
            continue
          }
          if (!log.resendable(index, now)) continue
          // Past its credit this one is not sent; a smaller one after it may still be.
          if (!grant.admit(datagram.length)) continue
          log.markResent(index, now)
          this.#outbox.put(datagram, 'resend')
          stats.datagramsResent++
        }
        if (!found.truncated) break
        left -= (found.next - from) >>> 0
        from = found.next
        fromIndex = found.nextIndex
      }
    }
    if (missing > 0) stats.unavailable++
    for (const sequence of messages) {
      const again = this.window?.resend(ackKey(header.topic, sequence), [WHOLE_MESSAGE], grant)
      if (again === undefined || again.parts.length === 0) continue
      stats.fragmentsResent += again.parts.length
      this.#background(this.sendHeld(again.parts, again.held, false))
    }
  }

  /**
   * A NACK for fragments of a message this publisher forwarded (a relay): the fragments asked for
   * that its sent log still holds go again, each at most once per holdoff, within the NACK's
   * credit. Fragments it never got itself it cannot resend (`unavailable`).
   */
  #resendForwarded(header: FrameHeader, body: NackBody, length: number, address: string): void {
    const log = this.#outbox.log
    const key = this.#ledger.findForwarded(header.sessionId, header.topic)
    if (log === undefined || key === undefined) {
      this.#stats.unavailable++
      return
    }
    const now = performance.now()
    const grant = this.#budget.grant(address, length)
    const found = log.lookup(key, header.sequence, 1, now)
    let missing = found.missing
    let asked = 0
    for (const [, count] of body.ranges) asked += count
    let resent = 0
    for (const { index, datagram } of found.datagrams) {
      if (!(datagram instanceof Uint8Array)) continue
      const fragment = (datagram[Offset.FRAGMENT_INDEX]! << 8) | datagram[Offset.FRAGMENT_INDEX + 1]!
      if (!body.ranges.some(([first, count]) => fragment >= first && fragment < first + count)) continue
      resent++
      if (!log.resendable(index, now) || !grant.admit(datagram.length)) continue
      log.markResent(index, now)
      this.#outbox.put(datagram, 'resend')
      this.#stats.fragmentsResent++
    }
    if (resent < asked && asked !== MAX_FRAGMENTS) missing++
    if (missing > 0) this.#stats.unavailable++
  }

  /** Receivers were just told (a last heartbeat) what they may have lost: repairs may follow. */
  touch(): void {
    this.#activityAt = performance.now()
  }

  /**
   * Until every receiver reporting (flow control) has consumed everything, or, with none, until
   * receivers have not asked for repairs for CLOSE_REPAIR_QUIET_MS; at most CLOSE_REPAIR_MAX_MS.
   */
  async awaitLastRepairs(flush: () => Promise<void>, beat?: () => Promise<void>): Promise<void> {
    const held = (this.window?.size ?? 0) + (this.#outbox.log?.stats().datagrams ?? 0)
    if (held === 0) return
    const deadline = performance.now() + CLOSE_REPAIR_MAX_MS
    const gate = this.#outbox.gate
    for (;;) {
      const now = performance.now()
      const quietFor = now - this.#activityAt
      if (now >= deadline || gate?.caughtUp() === true) break
      // Receivers that report (STATUS) say when they have everything; without them, quiet it is.
      if (quietFor >= CLOSE_REPAIR_QUIET_MS && (gate === undefined || gate.receivers === 0)) break
      await sleep(
        Math.min(CLOSE_REPAIR_QUIET_MS - quietFor, deadline - now, beat ? CLOSE_HEARTBEAT_MS : Infinity),
      )
      await flush().catch(() => {})
      await beat?.().catch(() => {})
    }
  }

  /** Repair counters, with the NACKs whose answer a limit cut short. */
  stats(): RepairStats {
    const { creditLimited, rateLimited } = this.#budget.stats()
    return { ...this.#stats, creditLimited, rateLimited }
  }

  clear(): void {
    this.window?.clear()
  }
}

/** The sequence of a fragment, from its header part (big-endian u32 at `Offset.SEQUENCE`). */
function sequenceOf(head: Uint8Array): number {
  const at = Offset.SEQUENCE
  return ((head[at]! << 24) | (head[at + 1]! << 16) | (head[at + 2]! << 8) | head[at + 3]!) >>> 0
}

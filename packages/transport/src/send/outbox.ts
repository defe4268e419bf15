/**
 * The outbox: the one path every datagram a publisher sends takes, first send, resend, batch or
 * heartbeat (Aeron: the sender's duty cycle over the term buffer). It paces, counts, and turns a
 * kernel refusal into a `SHOAL_SOCKET` error; sealing with a key, the stage that transforms every
 * datagram, sits here, in `put`.
 */
import { transportError } from '../errors.js'
import { type Datagram, type DatagramLink, datagramLength, type SendDone } from '../net/link.js'
import type { Sealer } from '../seal/sealer.js'
import { PACING_TICK_MS, TokenBucket } from '../token-bucket.js'
import type { FragmentParts } from '../wire/fragment.js'
import type { FlowGate } from './flow-gate.js'
import type { SentLog, StreamKey } from './sent-log.js'

export { datagramLength } from '../net/link.js'

/** Default `pacing.burstBytes`: a 1 MiB image and its fragment headers, with room to spare. */
export const DEFAULT_BURST_BYTES = 2 * 1024 * 1024

/**
 * A publisher sending back to back never lets the event loop read its socket (sends complete on the
 * next tick, so `await publish()` in a loop is all ticks): NACKs and STATUS wait until it stops.
 * So every {@link YIELD_CHECK_SENDS} sends it looks at the clock, and once {@link YIELD_AFTER_MS}
 * passed since the event loop last had a turn, the next completion (or datagram) waits for one.
 */
export const YIELD_AFTER_MS = 2
export const YIELD_CHECK_SENDS = 64

/**
 * What a datagram is: a first send (kept in the sent log), a resend for a NACK, or a control frame
 * or raw datagram (neither kept nor repaired).
 */
export type DatagramRole = 'first' | 'resend' | 'control'

/** The stream and sequence every datagram of a `sendAll` carries (a fragmented message's). */
export interface LogNote {
  key: StreamKey
  sequence: number
}

export interface OutboxOptions {
  /** Bytes sent back to back before yielding to the event loop (see `Pacing`). */
  burstBytes?: number
  /** Average rate cap of `sendAll`, bytes/s (see `Pacing`). */
  bytesPerSecond?: number
}

export interface OutboxCounters {
  datagramsOut: number
  bytesOut: number
  /** Bytes sent again for NACKs (part of `bytesOut`). */
  resentBytes: number
  /** Control datagrams (heartbeats) the kernel refused: counted apart, no frame was lost. */
  controlErrors: number
  /** Datagrams of frames the kernel refused. */
  sendErrors: number
}

/** Something that counts datagrams out of a held message (see RepairWindow's `Held`). */
export interface SentCounter {
  sent: number
}

export class Outbox {
  readonly #link: DatagramLink
  readonly #burstBytes: number
  /** The rate cap (`pacing.bytesPerSecond`), when there is one. */
  readonly #bucket: TokenBucket | undefined
  /** Bytes sent since the event loop last had a turn (see sendAll). */
  #burst = 0
  /** When the event loop last had a turn that this outbox waited for, and sends since the last look. */
  #yieldedAt = performance.now()
  #sinceLook = 0
  readonly counters: OutboxCounters = {
    datagramsOut: 0,
    bytesOut: 0,
    resentBytes: 0,
    controlErrors: 0,
    sendErrors: 0,
  }
  /** A failed send nobody awaits: the publisher's `'warning'`. */
  readonly #onSendFailed: (error: Error) => void
  /** Every first send is kept here for repairs; undefined when repair is off. */
  readonly log: SentLog | undefined
  /** Where first sends wait for the receivers (flow control); undefined when off. */
  gate: FlowGate | undefined
  /** Seals every datagram on its way out (WIRE.md “Sealing”); undefined when unkeyed. */
  sealer: Sealer | undefined

  constructor(
    link: DatagramLink,
    options: OutboxOptions,
    onSendFailed: (error: Error) => void,
    log?: SentLog,
  ) {
    this.#link = link
    this.log = log
    this.#burstBytes = options.burstBytes ?? DEFAULT_BURST_BYTES
    this.#bucket =
      options.bytesPerSecond === undefined
        ? undefined
        : new TokenBucket(options.bytesPerSecond, this.#burstBytes)
    this.#onSendFailed = onSendFailed
  }

  /** Bytes of first sends so far (what resend caps are relative to). */
  get firstBytes(): number {
    return this.counters.bytesOut - this.counters.resentBytes
  }

  /**
   * Sends one datagram now, unpaced, and counts it. `done`: its completion (a refusal arrives as a
   * `SHOAL_SOCKET` error); without one, a refused frame is counted and reported as a warning, a
   * refused control datagram only counted. Returns the datagram's sent-log index (first sends with
   * a log), or -1.
   */
  put(datagram: Datagram | FragmentParts, role: DatagramRole, done?: SendDone): number {
    // The sent log keeps the datagram as it was: a resend is sealed anew (a fresh counter).
    const wire = this.sealer === undefined ? datagram : this.sealer.seal(datagram)
    const length = datagramLength(wire)
    this.counters.datagramsOut++
    this.counters.bytesOut += length
    if (role === 'resend') this.counters.resentBytes += length
    this.#link.send(
      wire,
      done === undefined
        ? role === 'control'
          ? this.#afterControl
          : this.#afterSend
        : (error) => {
            const outcome = error === null ? null : this.error(error)
            if (this.#due()) setImmediate(done, outcome)
            else done(outcome)
          },
    )
    return role === 'first' && this.log !== undefined
      ? this.log.append(datagram as Uint8Array | FragmentParts)
      : -1
  }

  /**
   * Sends datagrams in order, paced (see `Pacing`): resolves when the kernel has every one; rejects
   * with the first refusal. `counted.sent` counts them out as they go; `note`: the stream and
   * sequence each one carries, for the sent log.
   */
  async sendAll(
    datagrams: ReadonlyArray<Uint8Array | FragmentParts>,
    role: DatagramRole,
    counted?: SentCounter,
    note?: LogNote,
  ): Promise<void> {
    const sends: Promise<void>[] = []
    const bucket = this.#bucket
    // Rate-capped: bytes of these datagrams not sent yet, and whether the current burst goes on.
    let unsent = 0
    if (bucket !== undefined) for (const datagram of datagrams) unsent += datagramLength(datagram)
    let continuing = false
    const gate = role === 'first' ? this.gate : undefined
    for (const datagram of datagrams) {
      const length = datagramLength(datagram)
      // Flow control: a first send waits for its receivers' window (checked before each datagram).
      while (gate !== undefined && !gate.open()) {
        await Promise.all(sends.splice(0))
        await gate.ready()
        this.#burst = 0
      }
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
      if (this.#burst >= this.#burstBytes || this.#due()) {
        // Sends that complete at once call back on the next tick, so back-to-back messages never
        // let the event loop read sockets (acks, NACKs) or run timers: yield to it after each
        // burst, counted across messages.
        this.#burst = 0
        await Promise.all(sends.splice(0))
        await yieldToLoop()
        this.#yieldedAt = performance.now()
      }
      let index = -1
      sends.push(
        new Promise((resolve, reject) => {
          index = this.put(datagram, role, (e) => (e ? reject(e) : resolve()))
        }),
      )
      if (note !== undefined && index >= 0) this.log!.note(note.key, note.sequence, note.sequence, index)
      this.#burst += length
      if (counted !== undefined) counted.sent++
    }
    await Promise.all(sends)
  }

  /** Whether the event loop is owed a turn (see {@link YIELD_AFTER_MS}); looks at the clock rarely. */
  #due(): boolean {
    if (++this.#sinceLook < YIELD_CHECK_SENDS) return false
    this.#sinceLook = 0
    const now = performance.now()
    if (now - this.#yieldedAt < YIELD_AFTER_MS) return false
    this.#yieldedAt = now
    return true
  }

  /** A kernel refusal as the error a caller sees. */
  error(error: Error): Error {
    const { address, port } = this.#link.destination
    return transportError('SHOAL_SOCKET', `send to ${address}:${port} failed: ${error.message}`, error)
  }

  /**
   * Completion of a send nobody awaits (send(), batches). node:dgram drops a send error silently
   * when no callback is given, so there is always one: a failure is counted and reported.
   */
  readonly #afterSend = (error: Error | null) => {
    if (error === null) return
    this.counters.sendErrors++
    this.#onSendFailed(error)
  }

  readonly #afterControl = (error: Error | null) => {
    if (error !== null) this.counters.controlErrors++
  }
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve))
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

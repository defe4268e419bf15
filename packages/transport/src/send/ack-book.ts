/**
 * The publisher's acknowledgements (WIRE.md “ACK”, “Security”): which frames asked for acks, which
 * receivers answered, and who counts as a receiver at all.
 *
 * An ACK counts only when it answers a frame this publisher asked acks for, and only from where
 * its receiver is known to answer from: a receiver name is pinned to the address and port of its
 * first counted ACK (or to the address given as `name@address` in `expected`), so an ACK in its name
 * from anywhere else is refused (`ack-impostor`) until the pinned receiver has been silent for
 * {@link RECEIVER_REPIN_MS} and the new one is a different receiver session (a restart). At most
 * {@link MAX_ACK_RECEIVERS} receivers are known; an ACK from a further one is refused
 * (`ack-receivers-full`) until a known one has been silent for {@link RECEIVER_IDLE_MS}.
 */
import { isIP } from 'node:net'
import { transportError } from '../errors.js'
import type { AckBody } from '../wire/ack.js'
import type { FrameHeader } from '../wire/header.js'

/** Pending ack records nobody waits for are forgotten after this long, ms. */
export const ACK_RETENTION_MS = 60_000
/** Receivers a publisher knows (pinned to an address) at once. */
export const MAX_ACK_RECEIVERS = 256
/** A known receiver silent this long makes room for a new one when the book is full, ms. */
export const RECEIVER_IDLE_MS = 60_000
/** A receiver pinned to an address may move to another once silent this long, as a new session, ms. */
export const RECEIVER_REPIN_MS = 10_000

export interface AckEntry {
  receiver: string
  receiverSession: number
  address: string
  port: number
  /** From publish to ack, ms. */
  latencyMs: number
}

export interface AckReport {
  topic: string
  sequence: number
  acked: AckEntry[]
  /** Expected receivers that did not ack before the timeout (as they were given). */
  missing: string[]
}

export interface WaitForAcksOptions {
  /** How long to wait, ms. */
  timeoutMs: number
  /**
   * Receivers that must ack: by name, or as `name@address` to count only ACKs from that address.
   * Default: every receiver known to this publisher; the wait ends early once all of them have.
   */
  expected?: readonly string[]
}

/** What became of one ACK datagram. */
export type AckOutcome = 'ack' | 'ack-unrequested' | 'ack-impostor' | 'ack-receivers-full'

interface PendingAck {
  sentAt: number
  acked: Map<string, AckEntry>
  /** Wakes a waiter when an ack arrives. */
  notify: (() => void) | undefined
  timer: NodeJS.Timeout
}

interface Receiver {
  address: string
  port: number
  session: number
  heardAt: number
}

export class AckBook {
  readonly #pending = new Map<string, PendingAck>()
  // Insertion order is first-heard order; a receiver heard again moves to the end.
  readonly #receivers = new Map<string, Receiver>()
  readonly #now: () => number
  /** Called for every ACK counted. */
  onAck: ((topic: string, sequence: number, entry: AckEntry) => void) | undefined

  constructor(now: () => number = () => performance.now()) {
    this.#now = now
  }

  /** Notes that the frame `topic #sequence` asks for acks. */
  expect(topic: string, sequence: number): void {
    const key = ackKey(topic, sequence)
    const timer = setTimeout(() => this.#pending.delete(key), ACK_RETENTION_MS)
    timer.unref()
    this.#pending.set(key, { sentAt: this.#now(), acked: new Map(), notify: undefined, timer })
  }

  /** Waits for acks of a frame published with `{ ack: true }`. */
  wait(result: { topic: string; sequence: number }, options: WaitForAcksOptions): Promise<AckReport> {
    const key = ackKey(result.topic, result.sequence)
    const pending = this.#pending.get(key)
    if (pending === undefined)
      return Promise.reject(
        transportError('SHOAL_BAD_OPTION', `no ack was requested for ${result.topic} #${result.sequence}`),
      )
    const given = options.expected?.map(parseExpected)
    for (const { name, address } of given ?? []) if (address !== undefined) this.#pin(name, address)
    return new Promise((resolve) => {
      const expected = () => given ?? [...this.#receivers.keys()].map((name) => ({ name, spec: name }))
      const has = ({ name, address }: Expected) => {
        const entry = pending.acked.get(name)
        return entry !== undefined && (address === undefined || entry.address === address)
      }
      const done = () => {
        clearTimeout(timer)
        pending.notify = undefined
        this.#pending.delete(key)
        clearTimeout(pending.timer)
        const acked = [...pending.acked.values()]
        const missing = expected()
          .filter((e) => !has(e))
          .map((e) => e.spec)
        resolve({ topic: result.topic, sequence: result.sequence, acked, missing })
      }
      const timer = setTimeout(done, options.timeoutMs)
      pending.notify = () => {
        const want = expected()
        if (want.length > 0 && want.every(has)) done()
      }
      pending.notify()
    })
  }

  /** One decoded ACK for this publisher's session, from `address:port`: counted, or why not. */
  receive(header: FrameHeader, body: AckBody, address: string, port: number): AckOutcome {
    const pending = this.#pending.get(ackKey(header.topic, header.sequence))
    if (pending === undefined) return 'ack-unrequested'
    const now = this.#now()
    const name = body.receiver
    let receiver = this.#receivers.get(name)
    if (receiver === undefined) {
      if (this.#receivers.size >= MAX_ACK_RECEIVERS && !this.#forgetIdle(now)) return 'ack-receivers-full'
      receiver = { address, port, session: body.receiverSession, heardAt: now }
    } else if (receiver.address !== address || (receiver.port !== 0 && receiver.port !== port)) {
      const restarted =
        body.receiverSession !== receiver.session && now - receiver.heardAt >= RECEIVER_REPIN_MS
      if (!restarted || receiver.port === 0) return 'ack-impostor'
      receiver = { address, port, session: body.receiverSession, heardAt: now }
    } else {
      receiver.port = port
      receiver.session = body.receiverSession
      receiver.heardAt = now
    }
    this.#receivers.delete(name)
    this.#receivers.set(name, receiver)
    if (!pending.acked.has(name)) {
      const entry: AckEntry = { ...body, address, port, latencyMs: now - pending.sentAt }
      pending.acked.set(name, entry)
      this.onAck?.(header.topic, header.sequence, entry)
      pending.notify?.()
    }
    return 'ack'
  }

  /** Receivers known to this publisher, by name. */
  receivers(): string[] {
    return [...this.#receivers.keys()]
  }

  clear(): void {
    for (const pending of this.#pending.values()) clearTimeout(pending.timer)
    this.#pending.clear()
  }

  /** Pins `name` to `address` (any port) until its first ACK from there gives the port too. */
  #pin(name: string, address: string): void {
    const known = this.#receivers.get(name)
    if (known?.address === address) return
    this.#receivers.delete(name)
    this.#receivers.set(name, { address, port: 0, session: 0, heardAt: this.#now() })
  }

  /** Forgets the longest-silent receiver if it has been silent for RECEIVER_IDLE_MS; whether one went. */
  #forgetIdle(now: number): boolean {
    const [name, oldest] = this.#receivers.entries().next().value ?? []
    if (name === undefined || oldest === undefined || now - oldest.heardAt < RECEIVER_IDLE_MS) return false
    this.#receivers.delete(name)
    return true
  }
}

interface Expected {
  name: string
  address?: string
  /** As given, for the report. */
  spec: string
}

/**
 * `name` or `name@address` (the last `@`; an IPv6 address may be in brackets), the address written
 * the way the kernel reports a datagram's source (`FD00::2` is `fd00::2`, `::ffff:10.0.0.2` is
 * `10.0.0.2`).
 */
export function parseExpected(spec: string): Expected {
  const at = spec.lastIndexOf('@')
  if (at <= 0) return { name: spec, spec }
  return {
    name: spec.slice(0, at),
    address: canonicalAddress(spec.slice(at + 1).replace(/^\[(.*)\]$/, '$1')),
    spec,
  }
}

/** An IP address as the kernel reports it: IPv6 compressed and lower case, IPv4-mapped as IPv4. */
export function canonicalAddress(address: string): string {
  if (isIP(address) !== 6) return address
  const canonical = new URL(`http://[${address}]`).hostname.slice(1, -1)
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical)
  if (mapped === null) return canonical
  const high = Number.parseInt(mapped[1]!, 16)
  const low = Number.parseInt(mapped[2]!, 16)
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`
}

export function ackKey(topic: string, sequence: number): string {
  return `${sequence}\u0000${topic}`
}

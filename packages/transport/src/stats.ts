/** Counters per (source, topic) stream, and the snapshot shape both ends report. */
import type { DropReason } from './wire/frame.js'
import { SequenceTracker } from './wire/sequence.js'

export interface StreamStats {
  /** The publisher's session id, 8 hex digits. */
  source: string
  /** Where the stream's datagrams came from (receive side) or go to (send side), `addr:port`. */
  address: string
  topic: string
  frames: number
  bytes: number
  datagrams: number
  /** Frames lost: skipped by sequence and not arrived late (receive side). */
  gaps: number
  duplicates: number
  reordered: number
  /** Frames of this stream dropped after they were recognised, by reason. */
  drops: Partial<Record<DropReason, number>>
}

/** Repair counters of a publisher or a subscriber (each side fills its own). */
/** A type, not an interface, so that it is a `Record<string, number>` to generic consumers (metrics). */
export type RepairStats = {
  /** NACKs sent (subscriber). */
  nacksSent: number
  /** NACKs received for this publisher's messages (publisher). */
  nacksReceived: number
  /** Fragments sent again (publisher). */
  fragmentsResent: number
  /** Fragments that arrived after being asked for (subscriber). */
  fragmentsRepaired: number
  /** NACKs for messages no longer held, or not held at all (publisher). */
  unavailable: number
}

export function emptyRepairStats(): RepairStats {
  return { nacksSent: 0, nacksReceived: 0, fragmentsResent: 0, fragmentsRepaired: 0, unavailable: 0 }
}

export interface StatsSnapshot {
  sent: StreamStats[]
  received: StreamStats[]
  /** Every drop, by reason, including datagrams that could not be tied to a stream. */
  drops: Partial<Record<DropReason, number>>
  /** Repair of fragmented messages (WIRE.md “Repair”). */
  repair: RepairStats
  datagramsIn: number
  datagramsOut: number
  bytesIn: number
  bytesOut: number
}

export function sessionHex(sessionId: number): string {
  return sessionId.toString(16).padStart(8, '0')
}

/** A received stream's sender: its session and the address and port its frames came from. */
export interface Origin {
  readonly sessionId: number
  /** Session id as 8 hex digits: the stream's source in stats. */
  readonly session: string
  readonly address: string
  readonly port: number
}

/** One stream's live counters. */
export class Stream {
  readonly tracker = new SequenceTracker()
  bytes = 0
  datagrams = 0
  framesSent = 0
  /** Newest sequence of a repairable (fragmented, held) message seen: a jump past it is whole messages missing. */
  newestRepairable: number | undefined
  readonly drops: Partial<Record<DropReason, number>> = {}

  #address: string
  #port: number
  #origin: Origin | undefined

  constructor(
    readonly source: string,
    address: string,
    port: number,
    readonly topic: string,
  ) {
    this.#address = address
    this.#port = port
  }

  /** Notes where the stream's latest frame came from (a relay or a restarted route may change it). */
  from(address: string, port: number): void {
    if (port !== this.#port || address !== this.#address) {
      this.#address = address
      this.#port = port
      this.#origin = undefined
    }
  }

  /**
   * Where the latest frame came from, as one frozen object shared by every frame from the same
   * place (an object per received frame showed in the receiver's garbage).
   */
  origin(sessionId: number): Origin {
    this.#origin ??= Object.freeze({
      sessionId,
      session: this.source,
      address: this.#address,
      port: this.#port,
    })
    return this.#origin
  }

  get address(): string {
    return this.#address.includes(':') ? `[${this.#address}]:${this.#port}` : `${this.#address}:${this.#port}`
  }

  /** Counts one frame sent: its message bytes and the datagrams it took. */
  sent(bytes: number, datagrams: number): void {
    this.framesSent++
    this.bytes += bytes
    this.datagrams += datagrams
  }

  drop(reason: DropReason): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1
  }

  snapshot(side: 'sent' | 'received'): StreamStats {
    const t = this.tracker
    return {
      source: this.source,
      address: this.address,
      topic: this.topic,
      frames: side === 'sent' ? this.framesSent : t.frames,
      bytes: this.bytes,
      datagrams: this.datagrams,
      gaps: t.gaps,
      duplicates: t.duplicates,
      reordered: t.reordered,
      drops: { ...this.drops },
    }
  }
}

export function countDrop(drops: Partial<Record<DropReason, number>>, reason: DropReason): void {
  drops[reason] = (drops[reason] ?? 0) + 1
}

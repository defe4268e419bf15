/** One (source, topic) stream's live counters, on either end, and where its frames come from. */
import { SequenceTracker } from './receive/sequence.js'
import type { StreamStats } from './stats.js'
import type { DropReason } from './wire/frame.js'

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

/**
 * A stream's sender (the address and port its first frame came from) may be replaced by another
 * only after it has been silent this long, ms: until then frames of the stream from anywhere else
 * are foreign (delivered, but they move nothing and count in no gap).
 */
export const OWNER_IDLE_MS = 10_000

/** One stream's live counters. */
export class Stream {
  readonly tracker = new SequenceTracker()
  /** Receive side: when a frame of it was last heard, and when its place in the table's order was last renewed (ms). */
  heardAt = 0
  orderedAt = 0
  bytes = 0
  datagrams = 0
  framesSent = 0
  /** Newest sequence of a repairable (fragmented, held) message seen: a jump past it is whole messages missing. */
  newestRepairable: number | undefined
  /** Datagram length of the last repairable fragment seen: what a NACK for a whole message is padded for. */
  repairDatagramBytes: number | undefined
  /** Its whole frames come marked REPAIRABLE: its publisher keeps a sent log; lost frames are asked for. */
  repairableFrames = false
  /** Length of the last datagram that carried a whole frame of it (a batch): a lost one is resent whole. */
  frameDatagramBytes: number | undefined
  /** The status sender's state for this stream (flow control), when it reports on it. */
  status: unknown = undefined
  /** This receiver asks its publisher for what it misses of it (frames or fragments): flow control waits a little for repairs. */
  repairing = false
  readonly drops: Partial<Record<DropReason, number>> = {}

  #address: string
  #port: number
  #origin: Origin | undefined
  /** Receive side: the stream's own sender, and when a frame of it last came from there. */
  #ownerAddress: string
  #ownerPort: number
  #ownerHeardAt = 0

  constructor(
    readonly source: string,
    address: string,
    port: number,
    readonly topic: string,
  ) {
    this.#address = address
    this.#port = port
    this.#ownerAddress = address
    this.#ownerPort = port
  }

  /** The stream's sender: where its own frames come from. */
  get ownerAddress(): { address: string; port: number } {
    return { address: this.#ownerAddress, port: this.#ownerPort }
  }

  /** When a frame or heartbeat from the stream's sender last came (the receiver's clock, ms). */
  get ownerHeardAt(): number {
    return this.#ownerHeardAt
  }

  /**
   * Whether a frame of this stream from `address:port` at `now` (ms) is foreign: from another sender
   * than the stream's own while that one is still heard (see {@link OWNER_IDLE_MS}), or `flagged`
   * foreign by a relay. A frame from the stream's sender keeps it current; after its silence, the
   * first frame from elsewhere makes that the stream's sender.
   */
  isForeign(address: string, port: number, now: number, flagged: boolean): boolean {
    if (flagged) return true
    if (port === this.#ownerPort && address === this.#ownerAddress) {
      this.#ownerHeardAt = now
      return false
    }
    if (now - this.#ownerHeardAt < OWNER_IDLE_MS) return true
    this.#ownerAddress = address
    this.#ownerPort = port
    this.#ownerHeardAt = now
    return false
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
      jumps: t.jumps,
      resyncs: t.resyncs,
      drops: { ...this.drops },
    }
  }
}

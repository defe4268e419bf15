/**
 * Frames held for their schema (WIRE.md “Schemas”): a frame of a fingerprint the receiver has just
 * asked for is kept (a copy of its message) instead of being dropped, and delivered once the schema
 * arrives, so a late joiner loses none of the frames of the request's round trip. Bounded: a few
 * frames per fingerprint, a byte cap over all, and a time after which a frame still waiting is
 * counted `unknown-type` as it would have been at once. Past a cap, frames are not held (counted
 * `unknown-type` at once).
 */
import type { Stream } from '../stream.js'
import type { FrameHeader } from '../wire/header.js'

/** Frames held per fingerprint at most: the newest past it are not held. */
export const SCHEMA_HOLD_FRAMES = 16
/** Bytes of messages held for their schema at most, all fingerprints together. */
export const SCHEMA_HOLD_BYTES = 1024 * 1024
/**
 * How long a frame waits for its schema, ms: a request, the publisher's interval (1 s) and a retry
 * (1 s), with room for round trips. Then it is counted `unknown-type`.
 */
export const SCHEMA_HOLD_MS = 3_000

/** A frame waiting for its schema: what delivery needs to decode and hand it out later. */
export interface HeldFrame {
  readonly header: FrameHeader
  /** Its own copy: the datagram it came in is not kept alive. */
  readonly message: Uint8Array
  readonly stream: Stream
  readonly address: string
  readonly port: number
  readonly receivedAt: number
  /** When it was held (monotonic ms). */
  readonly heldAt: number
}

export class SchemaHold {
  readonly #held = new Map<number, HeldFrame[]>()
  #bytes = 0
  /** Frames held so far, and of those delivered once their schema came. */
  held = 0
  released = 0

  /** Holds `frame` (its message copied); false when a cap leaves no room. */
  hold(frame: Omit<HeldFrame, 'message'> & { message: Uint8Array }): boolean {
    const fingerprint = frame.header.fingerprint
    const list = this.#held.get(fingerprint)
    if ((list?.length ?? 0) >= SCHEMA_HOLD_FRAMES) return false
    if (this.#bytes + frame.message.length > SCHEMA_HOLD_BYTES) return false
    const copy: HeldFrame = { ...frame, header: { ...frame.header }, message: new Uint8Array(frame.message) }
    if (list === undefined) this.#held.set(fingerprint, [copy])
    else list.push(copy)
    this.#bytes += copy.message.length
    this.held++
    return true
  }

  /** The frames held for `fingerprint`, in arrival order, let go (its schema came). */
  release(fingerprint: number): HeldFrame[] {
    const list = this.#held.get(fingerprint)
    if (list === undefined) return []
    this.#held.delete(fingerprint)
    for (const frame of list) this.#bytes -= frame.message.length
    this.released += list.length
    return list
  }

  /** Frames that waited {@link SCHEMA_HOLD_MS} (all of them with `now` = Infinity), let go. */
  expire(now: number): HeldFrame[] {
    const out: HeldFrame[] = []
    for (const [fingerprint, list] of this.#held) {
      let kept = 0
      while (kept < list.length && now - list[kept]!.heldAt >= SCHEMA_HOLD_MS) kept++
      if (kept === 0) continue
      const gone = list.splice(0, kept)
      for (const frame of gone) this.#bytes -= frame.message.length
      out.push(...gone)
      if (list.length === 0) this.#held.delete(fingerprint)
    }
    return out
  }

  get bytes(): number {
    return this.#bytes
  }
}

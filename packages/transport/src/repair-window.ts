/**
 * The publisher's side of repair (WIRE.md “Repair”): the fragmented messages it has sent, held for
 * a window of bytes and time so that receivers missing fragments can ask for them again, and the
 * encoding buffers of messages that left the window, for the next messages to be encoded into.
 */

import type { ResendGrant } from './send/resend-budget.js'
import type { FragmentParts } from './wire/fragment.js'
import type { FragmentRange } from './wire/nack.js'

/**
 * Default window in bytes: about 56 ms of a 1.2 GB/s camera stream, more than a receiver stalled
 * by a full GC (≤ 12 ms measured) and the drain of its receive buffer need to ask.
 */
export const REPAIR_WINDOW_BYTES = 64 * 1024 * 1024
/** Default window in time, ms. */
export const REPAIR_WINDOW_MS = 1_000
/**
 * A fragment is sent again at most once in this long, ms, however many receivers ask for it:
 * their NACKs for one loss arrive together, and one multicast repair serves them all.
 */
export const REPAIR_HOLDOFF_MS = 5
/**
 * Encoding buffers of held messages kept for reuse once they leave the window, at most. Holding
 * messages defeats the allocator's reuse of freed memory: without recycling, every 1 MiB encoding
 * lands in fresh pages and the sender halves its rate (measured on lo: 2.9 → 1.4 GB/s).
 */
export const RECYCLED_BUFFERS_MAX = 4
/** Messages past the window's age are let go at least this often while the publisher is quiet, ms. */
const SWEEP_MAX_MS = 60_000

/** A fragmented message held for repair. */
export interface Held {
  /** Its datagrams, as first sent (header, payload view, CRC): resent byte for byte. */
  readonly parts: FragmentParts[]
  readonly bytes: number
  readonly heldAt: number
  /** Datagrams handed to the kernel so far: only those can be asked for again. */
  sent: number
  /** The whole buffer the message was encoded into, when the publisher made it (not a caller's). */
  readonly owned: Buffer | undefined
  /**
   * Sends of its datagrams not finished yet, its first send included from the moment it is held:
   * the buffer is recycled only when there are none.
   */
  busy: number
  /** No longer held: its buffer is recycled once `busy` falls to 0. */
  released: boolean
  /** performance.now() of each fragment's last resend; made on the first request. */
  resentAt: Float64Array | undefined
}

/** `ranges` as sorted, disjoint `[first, end)` intervals below `limit`. */
export function mergeRanges(ranges: readonly FragmentRange[], limit: number): Array<[number, number]> {
  const sorted = ranges
    .map(([first, count]): [number, number] => [first, Math.min(first + count, limit)])
    .filter(([first, end]) => first < end)
    .sort((a, b) => a[0] - b[0])
  const merged: Array<[number, number]> = []
  for (const [first, end] of sorted) {
    const last = merged[merged.length - 1]
    if (last !== undefined && first <= last[1]) last[1] = Math.max(last[1], end)
    else merged.push([first, end])
  }
  return merged
}

export class RepairWindow {
  readonly #bytes: number
  readonly #ms: number
  readonly #now: () => number
  // Map iteration order is insertion order: the first entry is the oldest message.
  readonly #held = new Map<string, Held>()
  #heldBytes = 0
  readonly #recycled: Buffer[] = []
  /** Lets go of messages older than the window while the publisher is quiet. */
  #sweeper: NodeJS.Timeout | undefined

  constructor(windowBytes = REPAIR_WINDOW_BYTES, windowMs = REPAIR_WINDOW_MS, now = () => performance.now()) {
    this.#bytes = windowBytes
    this.#ms = windowMs
    this.#now = now
  }

  /** Whether a message of this many bytes can be held at all. */
  fits(bytes: number): boolean {
    return bytes <= this.#bytes
  }

  /**
   * Holds a message under `key`, its first send pending (call {@link end} when it is done); lets
   * go of the oldest past the window. `bytes` counts the whole of `owned` when there is one.
   */
  hold(key: string, parts: FragmentParts[], bytes: number, owned: Buffer | undefined): Held {
    const held: Held = {
      parts,
      bytes: Math.max(bytes, owned?.length ?? 0),
      heldAt: this.#now(),
      sent: 0,
      owned,
      busy: 1,
      released: false,
      resentAt: undefined,
    }
    // A sequence that wrapped round to a held one: the old message goes.
    const previous = this.#held.get(key)
    if (previous !== undefined) this.#release(key, previous)
    this.#held.set(key, held)
    this.#heldBytes += held.bytes
    this.#letGo(held.heldAt)
    if (this.#sweeper === undefined) {
      this.#sweeper = setInterval(
        () => {
          this.#letGo(this.#now())
          if (this.#held.size === 0) this.#stopSweeping()
        },
        Math.min(this.#ms, SWEEP_MAX_MS),
      )
      this.#sweeper.unref()
    }
    return held
  }

  /**
   * The fragments of the message under `key` to send again for `ranges`: those sent once already,
   * not resent in the last {@link REPAIR_HOLDOFF_MS}, and admitted by `grant` (in order; the first
   * refused ends the answer). Each fragment is considered once however the ranges overlap, so one
   * NACK costs at most the message's fragment count in work. Undefined when the message is not held.
   */
  resend(
    key: string,
    ranges: readonly FragmentRange[],
    grant?: ResendGrant,
  ): { held: Held; parts: FragmentParts[]; limited: boolean } | undefined {
    const now = this.#now()
    const held = this.#held.get(key)
    if (held === undefined || now - held.heldAt > this.#ms) return undefined
    held.resentAt ??= new Float64Array(held.parts.length).fill(Number.NEGATIVE_INFINITY)
    const { resentAt } = held
    const parts: FragmentParts[] = []
    // Overlapping ranges merged first: each fragment is looked at once, however the NACK asks.
    for (const [first, end] of mergeRanges(ranges, held.sent)) {
      for (let index = first; index < end; index++) {
        if (now - resentAt[index]! < REPAIR_HOLDOFF_MS) continue
        const part = held.parts[index]!
        if (grant !== undefined && !grant.admit(part[0].length + part[1].length + part[2].length))
          return { held, parts, limited: true }
        resentAt[index] = now
        parts.push(part)
      }
    }
    return { held, parts, limited: false }
  }

  /** A send from `held` starts (a repair). */
  begin(held: Held): void {
    held.busy++
  }

  /** A send from `held` is done; a released message's buffer is recycled after its last one. */
  end(held: Held): void {
    held.busy--
    if (held.busy === 0 && held.released && held.owned !== undefined) this.recycle(held.owned)
  }

  /** A buffer a message that left the window was encoded into, to encode the next one into. */
  takeRecycled(): Buffer | undefined {
    return this.#recycled.pop()
  }

  /** Keeps a buffer for a later message (at most {@link RECYCLED_BUFFERS_MAX}). */
  recycle(buffer: Buffer): void {
    if (this.#recycled.length < RECYCLED_BUFFERS_MAX) this.#recycled.push(buffer)
  }

  get size(): number {
    return this.#held.size
  }

  get heldBytes(): number {
    return this.#heldBytes
  }

  clear(): void {
    this.#stopSweeping()
    this.#held.clear()
    this.#heldBytes = 0
    this.#recycled.length = 0
  }

  /** Lets go of messages past the window's bytes or age, oldest first. */
  #letGo(now: number): void {
    for (const [key, held] of this.#held) {
      if (this.#heldBytes <= this.#bytes && now - held.heldAt <= this.#ms) return
      this.#release(key, held)
    }
  }

  /** Stops holding a message; its buffer is recycled when nothing is sending from it. */
  #release(key: string, held: Held): void {
    this.#held.delete(key)
    this.#heldBytes -= held.bytes
    held.released = true
    if (held.owned !== undefined && held.busy === 0) this.recycle(held.owned)
  }

  #stopSweeping(): void {
    clearInterval(this.#sweeper)
    this.#sweeper = undefined
  }
}

/**
 * A relay's answer to a lost tail on its own segment: after it forwards a publisher's HEARTBEAT, it
 * sends it again a few times, backing off, unless a newer one of the session comes first.
 *
 * Why: a receiver beyond a relay learns that a stream's last frames exist only from those frames
 * or from a heartbeat naming them. The publisher keeps beating on close only until its own
 * receivers (the relay, whose input reports STATUS) hold everything, often a single heartbeat; if
 * that one copy and the last batch are both lost on the relay's far segment, the receiver never
 * asks for them and never counts them as lost. The relay owns its segment's repair (hop by hop),
 * so it owns the tail's notice there too.
 *
 * Repeated only: a stream's own sender's heartbeats (never a stranger's, marked foreign), and only
 * unsealed ones or ones this relay seals again (a keyless relay's copy of a sealed heartbeat
 * would be a replay at a keyed receiver). Bounded: {@link MAX_REPEATED_SESSIONS} sessions (the
 * least recently heard forgotten first), {@link HEARTBEAT_REPEATS} repeats each, and at most
 * {@link MAX_HEARTBEAT_REPEATS_PER_SECOND} in all, whatever a stranger sends.
 */

/** Repeats of one heartbeat. */
export const HEARTBEAT_REPEATS = 5
/** Wait before the first repeat, ms; each later one waits twice as long (20, 40, 80, 160, 320). */
export const HEARTBEAT_REPEAT_FIRST_MS = 20
/** Sessions whose last heartbeat is held for repeating, at most. */
export const MAX_REPEATED_SESSIONS = 1_024
/** Repeats sent per second, at most, over all sessions; the rest are counted `limited`. */
export const MAX_HEARTBEAT_REPEATS_PER_SECOND = 1_000

export interface RepeatCounters {
  /** Heartbeats sent again. */
  repeated: number
  /** Repeats left out by the rate cap. */
  limited: number
  /** Sessions forgotten to make room (their heartbeats no longer repeated). */
  evicted: number
}

interface Held {
  data: Uint8Array
  hops: number
  /** Repeats sent of this heartbeat. */
  sent: number
  timer: NodeJS.Timeout | undefined
}

export class HeartbeatRepeats {
  readonly #send: (data: Uint8Array, hops: number) => void
  readonly #now: () => number
  /** Session → its last heartbeat; in order of the last one heard (oldest first). */
  readonly #held = new Map<number, Held>()
  readonly counters: RepeatCounters = { repeated: 0, limited: 0, evicted: 0 }
  #windowStart = Number.NEGATIVE_INFINITY
  #inWindow = 0
  #closed = false

  /** `send` forwards a copy of a heartbeat to every output, hop count `hops`. */
  constructor(send: (data: Uint8Array, hops: number) => void, now: () => number = () => performance.now()) {
    this.#send = send
    this.#now = now
  }

  /** Sessions held now. */
  get size(): number {
    return this.#held.size
  }

  /** The heartbeat `data` of `sessionId` was just forwarded with hop count `hops`: repeat it. */
  remember(sessionId: number, data: Uint8Array, hops: number): void {
    if (this.#closed) return
    const held = this.#held
    const old = held.get(sessionId)
    if (old !== undefined) {
      clearTimeout(old.timer)
      held.delete(sessionId)
    } else if (held.size >= MAX_REPEATED_SESSIONS) {
      const [oldest, entry] = held.entries().next().value as [number, Held]
      clearTimeout(entry.timer)
      held.delete(oldest)
      this.counters.evicted++
    }
    const entry: Held = { data: data.slice(), hops, sent: 0, timer: undefined }
    held.set(sessionId, entry)
    this.#arm(sessionId, entry)
  }

  close(): void {
    this.#closed = true
    for (const entry of this.#held.values()) clearTimeout(entry.timer)
    this.#held.clear()
  }

  #arm(sessionId: number, entry: Held): void {
    entry.timer = setTimeout(() => this.#fire(sessionId, entry), HEARTBEAT_REPEAT_FIRST_MS << entry.sent)
    entry.timer.unref()
  }

  #fire(sessionId: number, entry: Held): void {
    if (this.#closed || this.#held.get(sessionId) !== entry) return
    entry.sent++
    if (this.#admit()) {
      this.counters.repeated++
      // Outputs write hops and CRC into what they are given: each repeat gets its own copy.
      this.#send(entry.data.slice(), entry.hops)
    } else this.counters.limited++
    if (entry.sent < HEARTBEAT_REPEATS) this.#arm(sessionId, entry)
    else this.#held.delete(sessionId)
  }

  /** Whether the rate cap lets one more repeat go this second. */
  #admit(): boolean {
    const now = this.#now()
    if (now - this.#windowStart >= 1_000) {
      this.#windowStart = now
      this.#inWindow = 0
    }
    if (this.#inWindow >= MAX_HEARTBEAT_REPEATS_PER_SECOND) return false
    this.#inWindow++
    return true
  }
}

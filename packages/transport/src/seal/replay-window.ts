/**
 * Replay protection for sealed datagrams (WIRE.md “Sealing”). Every sender seals under its own
 * sealing session (key id, sender id) with a counter that never repeats and follows the
 * clock: microseconds since the epoch, or one more than the last when datagrams come faster.
 *
 * - Per sealing session, a window of the last {@link REPLAY_WINDOW} counter values: a counter
 *   seen already, or older than the window, is `replayed`. At up to one datagram a microsecond
 *   the window is about a second of the sender's time: a relay's resend of a datagram this
 *   receiver never got (byte for byte, it holds no key) still passes within it.
 * - A sealing session not known yet is taken only with a counter within
 *   {@link MAX_CLOCK_SKEW_MS} of this host's clock (`clock-skew` otherwise): a whole old session
 *   replayed later is refused, as MAVLink 2 does with its signing timestamps. Clocks of a group
 *   must agree to within that (NTP does).
 * - Entries are made only for datagrams that opened (a stranger without the key makes none), at
 *   most {@link MAX_SEAL_SESSIONS}, idle ones expire after {@link SEAL_SESSION_IDLE_MS} (longer
 *   than the skew, so that a replay after expiry is refused by the clock). When the table is full
 *   the least recently heard goes (counted): a replay of its recent datagrams within the skew
 *   would then pass once; a cap of real senders' sessions, not a stranger's.
 */

/** Counter values one window spans: 2^20 bits, 128 KiB per sealing session. */
export const REPLAY_WINDOW = 2 ** 20
/** Largest difference between a new sealing session's counter and this host's clock, ms. */
export const MAX_CLOCK_SKEW_MS = 30_000
/** Sealing sessions tracked at once, at most (each holds a window of 128 KiB: 32 MiB in all). */
export const MAX_SEAL_SESSIONS = 256
/** A sealing session not heard for this long is forgotten, ms. */
export const SEAL_SESSION_IDLE_MS = MAX_CLOCK_SKEW_MS + 5_000

const WORDS = REPLAY_WINDOW / 32
const SKEW_US = MAX_CLOCK_SKEW_MS * 1_000

export type ReplayVerdict = 'ok' | 'replayed' | 'clock-skew'

/** The counter window of one sealing session. */
export class ReplayWindow {
  #highest: number
  readonly #seen = new Uint32Array(WORDS)
  heardAt: number
  /**
   * The session's derived key, kept with its window so that both share one bound and one
   * eviction (undefined after a key file reload: derived again on the next datagram).
   */
  derivedKey: Buffer | undefined

  constructor(counter: number, now: number, derivedKey?: Buffer) {
    this.#highest = counter
    this.heardAt = now
    this.derivedKey = derivedKey
    this.#set(counter)
  }

  /** Whether `counter` may be taken (nothing is marked: see `commit`). */
  check(counter: number): ReplayVerdict {
    const highest = this.#highest
    if (counter > highest) return counter - highest > SKEW_US ? 'clock-skew' : 'ok'
    if (highest - counter >= REPLAY_WINDOW) return 'replayed'
    return this.#has(counter) ? 'replayed' : 'ok'
  }

  /** Marks `counter` seen (after its datagram opened); `check` said ok. */
  commit(counter: number, now: number): void {
    this.heardAt = now
    const highest = this.#highest
    if (counter > highest) {
      const ahead = counter - highest
      if (ahead >= REPLAY_WINDOW) this.#seen.fill(0)
      else this.#clearRange(highest + 1, counter)
      this.#highest = counter
    }
    this.#set(counter)
  }

  /** Clears the bits of counters [from, to), a word at a time where it can. */
  #clearRange(from: number, to: number): void {
    const seen = this.#seen
    for (let c = from; c < to; ) {
      const bit = c % REPLAY_WINDOW
      if ((bit & 31) === 0 && to - c >= 32) {
        seen[bit >>> 5] = 0
        c += 32
      } else {
        seen[bit >>> 5]! &= ~(1 << (bit & 31))
        c++
      }
    }
  }

  #set(c: number): void {
    const bit = c % REPLAY_WINDOW
    this.#seen[bit >>> 5]! |= 1 << (bit & 31)
  }

  #has(c: number): boolean {
    const bit = c % REPLAY_WINDOW
    return (this.#seen[bit >>> 5]! & (1 << (bit & 31))) !== 0
  }
}

export interface ReplayStats {
  sessions: number
  evicted: number
  expired: number
}

/** The windows of every sealing session heard (see the module comment for the bounds). */
export class ReplayTable {
  readonly #windows = new Map<string, ReplayWindow>()
  readonly #max: number
  evicted = 0
  expired = 0

  constructor(max = MAX_SEAL_SESSIONS) {
    this.#max = max
  }

  /** Whether `counter` of the sealing session `key` may be taken; `nowUs`: this host's clock, µs. */
  check(key: string, counter: number, nowUs: number): ReplayVerdict {
    const window = this.#windows.get(key)
    if (window !== undefined) return window.check(counter)
    return Math.abs(counter - nowUs) > SKEW_US ? 'clock-skew' : 'ok'
  }

  /** The derived key kept for the session `key` (see {@link ReplayWindow.derivedKey}). */
  derivedKey(key: string): Buffer | undefined {
    return this.#windows.get(key)?.derivedKey
  }

  /**
   * Marks `counter` seen, making the session's window if it is new, and keeps the session's
   * derived key with it; `now`: monotonic ms.
   */
  commit(key: string, counter: number, now: number, derivedKey?: Buffer): void {
    const window = this.#windows.get(key)
    if (window !== undefined) {
      window.commit(counter, now)
      window.derivedKey ??= derivedKey
      return
    }
    if (this.#windows.size >= this.#max) this.#evictOldest()
    this.#windows.set(key, new ReplayWindow(counter, now, derivedKey))
  }

  /** Forgets every derived key (the key file changed); the windows stay, and with them replay protection. */
  forgetKeys(): void {
    for (const window of this.#windows.values()) window.derivedKey = undefined
  }

  /** Forgets sessions idle for {@link SEAL_SESSION_IDLE_MS}. */
  sweep(now: number): void {
    for (const [key, window] of this.#windows)
      if (now - window.heardAt >= SEAL_SESSION_IDLE_MS) {
        this.#windows.delete(key)
        this.expired++
      }
  }

  stats(): ReplayStats {
    return { sessions: this.#windows.size, evicted: this.evicted, expired: this.expired }
  }

  #evictOldest(): void {
    let oldestKey: string | undefined
    let oldestAt = Number.POSITIVE_INFINITY
    for (const [key, window] of this.#windows)
      if (window.heardAt < oldestAt) {
        oldestAt = window.heardAt
        oldestKey = key
      }
    if (oldestKey !== undefined) {
      this.#windows.delete(oldestKey)
      this.evicted++
    }
  }
}

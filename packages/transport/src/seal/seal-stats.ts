/** A keyed publisher's or subscriber's sealing counters (`stats().seal`). */
import type { Opener } from './opener.js'
import type { Sealer, SealMode } from './sealer.js'

export interface SealStats {
  /** How this side seals what it sends (control frames, for a subscriber). */
  mode: SealMode
  /** The key id sealing now; undefined when every key is past its not-after. */
  keyId: number | undefined
  /** Datagrams sealed. */
  sealed: number
  /** Datagrams that went unsealed because no key may seal (every key past its not-after). */
  unsealed: number
  /** Sealed datagrams that opened. */
  opened: number
  /** Senders (sealing sessions) tracked for replay, and those let go to make room or for idleness. */
  senders: number
  sendersEvicted: number
  sendersExpired: number
}

export function sealStats(sealer: Sealer, opener: Opener): SealStats {
  const replay = opener.stats()
  return {
    mode: sealer.mode,
    keyId: sealer.keyId,
    sealed: sealer.stats.sealed,
    unsealed: sealer.stats.noKey,
    opened: replay.opened,
    senders: replay.sessions,
    sendersEvicted: replay.evicted,
    sendersExpired: replay.expired,
  }
}

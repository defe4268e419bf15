import type { Logger } from '@shoal/service'
import type { TransportWarning } from '@shoal/transport'

/** At most one log record per drop reason this often, ms; the others are counted in the next one. */
export const WARNING_LOG_INTERVAL_MS = 10_000

/**
 * Drops that mean the group is set up wrong, not that one datagram was bad: said once per run, in
 * words that say what to do. Every one of them is still counted (`shoal_drops_total{reason}` and
 * the summary's `dropsByReason`).
 */
export const SEAL_MISMATCH_MESSAGES: Readonly<Record<string, (address: string) => string>> = {
  'no-key': (address) => `sealed frames from ${address}: this receiver has no key (--key-file)`,
  unauthenticated: (address) =>
    `unsealed frames from ${address}: this receiver has a key and takes only sealed frames (does the sender have --key-file?)`,
}

interface ReasonState {
  lastLogged: number
  suppressed: number
}

/**
 * Logs the subscriber's warnings (dropped datagrams, socket errors) on stderr without flooding it:
 * the first of each reason at once, then at most one per {@link WARNING_LOG_INTERVAL_MS} carrying
 * the count of those not logged. Every drop is still counted in the stats and `/metrics`.
 */
export class WarningLog {
  readonly #logger: Logger
  readonly #now: () => number
  readonly #reasons = new Map<string, ReasonState>()
  readonly #saidOnce = new Set<string>()

  constructor(logger: Logger, now: () => number = Date.now) {
    this.#logger = logger
    this.#now = now
  }

  warn(warning: TransportWarning): void {
    const mismatch = SEAL_MISMATCH_MESSAGES[warning.reason]
    if (mismatch !== undefined) {
      if (this.#saidOnce.has(warning.reason)) return
      this.#saidOnce.add(warning.reason)
      this.#logger.warn(
        { reason: warning.reason, address: warning.address, port: warning.port },
        mismatch(warning.address ?? 'an unknown address'),
      )
      return
    }
    const now = this.#now()
    const state = this.#reasons.get(warning.reason)
    if (state !== undefined && now - state.lastLogged < WARNING_LOG_INTERVAL_MS) {
      state.suppressed++
      return
    }
    const suppressed = state?.suppressed ?? 0
    this.#reasons.set(warning.reason, { lastLogged: now, suppressed: 0 })
    this.#logger.warn(
      { ...warning, ...(suppressed > 0 ? { notLogged: suppressed } : {}) },
      warning.reason === 'socket-error' ? 'socket error' : `dropped a datagram (${warning.reason})`,
    )
  }

  /** Logs the counts not logged yet. */
  flush(): void {
    for (const [reason, state] of this.#reasons) {
      if (state.suppressed === 0) continue
      this.#logger.warn({ reason, notLogged: state.suppressed }, `dropped more datagrams (${reason})`)
      state.suppressed = 0
    }
  }
}

/**
 * Acknowledgements: for every frame published with `--ack`, which receivers answered within
 * `--ack-timeout` and which expected ones did not, per frame in the debug log and totalled for the
 * summary.
 */
import type { Logger } from '@shoal/service'
import type { AckReport, Publisher, PublishResult } from '@shoal/transport'

/**
 * Receivers counted by name (beyond those named by `--expect`, which always are): names come from
 * the network, and anyone can ack under any name. The first this many to ack or be missed are
 * counted by name; the acks and misses of the rest are added up (`ackedByOthers`, `missedByOthers`).
 */
export const MAX_TRACKED_RECEIVERS = 64
/**
 * Receivers not named by `--expect` whose first miss is logged as a warning; past them, one line
 * says that further ones are only counted, so a flood of made-up names cannot flood the log.
 */
export const MAX_MISS_WARNINGS = 16
/** Receiver names listed in a frame's debug line; the rest are counted. */
export const MAX_LOGGED_NAMES = 10

export interface AckTrackerOptions {
  readonly timeoutMs: number
  /** Receivers that must ack (`--expect`); without it, every receiver that ever acked. */
  readonly expected: readonly string[]
  readonly logger: Logger
}

export interface AckTotals {
  /** Acks received, all receivers and frames together. */
  readonly acks: number
  /** Frames acked, by receiver name. */
  readonly acked: ReadonlyMap<string, number>
  /** Frames an expected receiver did not ack in time, by receiver name. */
  readonly missing: ReadonlyMap<string, number>
  /**
   * Acks and misses of receivers not counted by name (past {@link MAX_TRACKED_RECEIVERS}), added up.
   */
  readonly others: { readonly acked: number; readonly missing: number }
  /** Frames that no receiver acked at all. */
  readonly unacked: number
  /** Frames whose wait was still open when the sender stopped. */
  readonly pending: number
}

export class AckTracker {
  readonly #publisher: Publisher
  readonly #options: AckTrackerOptions
  readonly #acked = new Map<string, number>()
  readonly #missing = new Map<string, number>()
  readonly #expected: ReadonlySet<string>
  /** Names counted by name: the expected ones, then the first others up to the cap. */
  readonly #tracked: Set<string>
  /** Receivers whose first miss was logged: the expected ones, and at most {@link MAX_MISS_WARNINGS} others. */
  readonly #warned = new Set<string>()
  #othersWarned = 0
  readonly #others = { acked: 0, missing: 0 }
  #acks = 0
  #unacked = 0
  #pending = 0

  constructor(publisher: Publisher, options: AckTrackerOptions) {
    this.#publisher = publisher
    this.#options = options
    this.#expected = new Set(options.expected)
    this.#tracked = new Set(options.expected)
    publisher.on('ack', () => {
      this.#acks++
    })
  }

  /** Waits for the acks of one published frame and records who answered; never rejects. */
  async wait(result: PublishResult): Promise<void> {
    const { timeoutMs, expected } = this.#options
    this.#pending++
    let report: AckReport
    try {
      report = await this.#publisher.waitForAcks(result, {
        timeoutMs,
        ...(expected.length > 0 ? { expected } : {}),
      })
    } finally {
      this.#pending--
    }
    this.#record(report)
  }

  totals(): AckTotals {
    return {
      acks: this.#acks,
      acked: this.#acked,
      missing: this.#missing,
      others: this.#others,
      unacked: this.#unacked,
      pending: this.#pending,
    }
  }

  #record(report: AckReport): void {
    const { logger } = this.#options
    const names = report.acked.map((entry) => entry.receiver)
    for (const name of names) this.#count(this.#acked, name, 'acked')
    for (const name of report.missing) this.#count(this.#missing, name, 'missing')
    if (names.length === 0) this.#unacked++
    const frame = `${report.topic} #${report.sequence}`
    logger.debug(
      {
        topic: report.topic,
        sequence: report.sequence,
        acked: names.slice(0, MAX_LOGGED_NAMES),
        missing: report.missing.slice(0, MAX_LOGGED_NAMES),
        ...(names.length > MAX_LOGGED_NAMES ? { ackedCount: names.length } : {}),
        ...(report.missing.length > MAX_LOGGED_NAMES ? { missingCount: report.missing.length } : {}),
      },
      `acks for ${frame}`,
    )
    for (const name of report.missing) {
      if (this.#warned.has(name)) continue
      if (!this.#expected.has(name)) {
        // A name learned from the network: at most MAX_MISS_WARNINGS, then one line for the rest.
        if (this.#othersWarned > MAX_MISS_WARNINGS) continue
        if (this.#othersWarned++ === MAX_MISS_WARNINGS) {
          logger.warn(
            { receivers: MAX_MISS_WARNINGS },
            `${MAX_MISS_WARNINGS} receivers missed acknowledgements; misses of further ones are only counted in the summary`,
          )
          continue
        }
      }
      this.#warned.add(name)
      logger.warn(
        { receiver: name, topic: report.topic, sequence: report.sequence },
        `${name} did not acknowledge ${frame} within ${this.#options.timeoutMs} ms; further misses are counted in the summary`,
      )
    }
    if (names.length === 0 && report.missing.length === 0 && this.#unacked === 1) {
      logger.warn(
        { topic: report.topic, sequence: report.sequence },
        `no receiver acknowledged ${frame} within ${this.#options.timeoutMs} ms (is a receiver running with --ack?)`,
      )
    }
  }

  /** One more frame for `name` in `counts`, or in the others' sum once the names tracked are full. */
  #count(counts: Map<string, number>, name: string, which: 'acked' | 'missing'): void {
    if (!this.#tracked.has(name)) {
      if (this.#tracked.size >= this.#expected.size + MAX_TRACKED_RECEIVERS) {
        this.#others[which]++
        return
      }
      this.#tracked.add(name)
    }
    counts.set(name, (counts.get(name) ?? 0) + 1)
  }
}

/** `r1:10,r2:3`, or `none`: a receiver-count map for the summary line. */
export function formatCounts(counts: ReadonlyMap<string, number>): string {
  if (counts.size === 0) return 'none'
  return [...counts].map(([name, count]) => `${name}:${count}`).join(',')
}

/**
 * `{ ackedByOthers, missedByOthers }` when receivers past {@link MAX_TRACKED_RECEIVERS} acked or
 * missed frames; nothing otherwise.
 */
export function othersFields(totals: AckTotals): Record<string, number> {
  const { acked, missing } = totals.others
  return {
    ...(acked > 0 ? { ackedByOthers: acked } : {}),
    ...(missing > 0 ? { missedByOthers: missing } : {}),
  }
}

/**
 * Acknowledgements: for every frame published with `--ack`, which receivers answered within
 * `--ack-timeout` and which expected ones did not, per frame in the debug log and totalled for the
 * summary.
 */
import type { Logger } from '@shoal/service'
import type { AckReport, Publisher, PublishResult } from '@shoal/transport'

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
  readonly #warned = new Set<string>()
  #acks = 0
  #unacked = 0
  #pending = 0

  constructor(publisher: Publisher, options: AckTrackerOptions) {
    this.#publisher = publisher
    this.#options = options
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
      unacked: this.#unacked,
      pending: this.#pending,
    }
  }

  #record(report: AckReport): void {
    const { logger } = this.#options
    const names = report.acked.map((entry) => entry.receiver)
    for (const name of names) this.#acked.set(name, (this.#acked.get(name) ?? 0) + 1)
    for (const name of report.missing) this.#missing.set(name, (this.#missing.get(name) ?? 0) + 1)
    if (names.length === 0) this.#unacked++
    const frame = `${report.topic} #${report.sequence}`
    logger.debug(
      { topic: report.topic, sequence: report.sequence, acked: names, missing: report.missing },
      `acks for ${frame}`,
    )
    for (const name of report.missing) {
      if (this.#warned.has(name)) continue
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
}

/** `r1:10,r2:3`, or `none`: a receiver-count map for the summary line. */
export function formatCounts(counts: ReadonlyMap<string, number>): string {
  if (counts.size === 0) return 'none'
  return [...counts].map(([name, count]) => `${name}:${count}`).join(',')
}

/**
 * Logs recurring problems (send failures, transport warnings) without flooding stderr: the first of
 * each kind at once, then at most one line per interval with the count since.
 */
import type { Logger } from '@shoal/service'

/** At most one log line per kind of problem per this many ms, after the first. */
export const PROBLEM_LOG_INTERVAL_MS = 5000

export class ProblemLog {
  readonly #logger: Logger
  readonly #intervalMs: number
  readonly #kinds = new Map<string, { total: number; unlogged: number; loggedAt: number }>()

  constructor(logger: Logger, intervalMs = PROBLEM_LOG_INTERVAL_MS) {
    this.#logger = logger
    this.#intervalMs = intervalMs
  }

  report(kind: string, fields: Readonly<Record<string, unknown>>, message: string): void {
    const now = Date.now()
    let entry = this.#kinds.get(kind)
    if (entry === undefined) {
      entry = { total: 0, unlogged: 0, loggedAt: Number.NEGATIVE_INFINITY }
      this.#kinds.set(kind, entry)
    }
    entry.total++
    entry.unlogged++
    if (now - entry.loggedAt < this.#intervalMs) return
    const more = entry.unlogged > 1 ? ` (${entry.unlogged} since the last report)` : ''
    this.#logger.warn({ kind, ...fields, count: entry.unlogged, total: entry.total }, `${message}${more}`)
    entry.unlogged = 0
    entry.loggedAt = now
  }

  /** How many problems of `kind` were reported in all. */
  count(kind: string): number {
    return this.#kinds.get(kind)?.total ?? 0
  }
}

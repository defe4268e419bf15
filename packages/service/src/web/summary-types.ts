/**
 * What `/events` pushes to the web page, once a second: a compact JSON copy of what `/metrics` and
 * `/healthz` already expose, nothing more. The page (web/client.ts) imports these types too, so
 * this file imports nothing.
 */

/** Bumped when the shape changes, so an old page open in a tab can tell. */
export const WEB_SUMMARY_VERSION = 1

/** One row of `shoal_frames_total` and its siblings: a (direction, topic, source) stream. */
export interface WebStream {
  readonly dir: 'in' | 'out'
  /** From the network: the page shows it as text only. `*` for every stream added up. */
  readonly topic: string
  readonly source: string
  readonly frames: number
  readonly bytes: number
  readonly gaps: number
  readonly duplicates: number
  readonly reordered: number
}

export interface WebSummary {
  readonly v: typeof WEB_SUMMARY_VERSION
  /** When it was taken, ms since the epoch (the service's clock): rates are counts over its steps. */
  readonly at: number
  /** The `/healthz` body: status, service, version, uptime and what the service said when ready. */
  readonly health: Readonly<Record<string, unknown>>
  /** The per-stream series of `/metrics`: the busiest streams, the rest under topic and source `*`. */
  readonly streams: readonly WebStream[]
  /**
   * Every other `shoal_*` series: metric name without `shoal_` → label values joined by `, ` (``
   * when it has none) → value. For example `drops_total.crc`, `kernel_drops_total['']`.
   */
  readonly counters: Readonly<Record<string, Readonly<Record<string, number>>>>
  /** True when {@link WebSummary.counters} or streams stopped at the sample cap. */
  readonly truncated: boolean
}

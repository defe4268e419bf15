import type { Registry } from 'prom-client'
import type { Health } from '../health.js'
import { WEB_SUMMARY_VERSION, type WebStream, type WebSummary } from './summary-types.js'

/** Series read into one summary at most; past it the summary says `truncated`. */
export const WEB_SUMMARY_MAX_SAMPLES = 4096

const PREFIX = 'shoal_'
/** The per-stream families of `registerTransportMetrics`, and the stream field each fills. */
type StreamCount = 'frames' | 'bytes' | 'gaps' | 'duplicates' | 'reordered'
const STREAM_FAMILIES: Readonly<Record<string, StreamCount>> = {
  frames_total: 'frames',
  bytes_total: 'bytes',
  gaps_total: 'gaps',
  duplicates_total: 'duplicates',
  reordered_total: 'reordered',
}
/** Said once on `/metrics` and in the health body already. */
const SKIPPED = new Set(['build_info'])

/**
 * Reads the `shoal_*` metrics of `registry` (as a `/metrics` scrape would: the transport is
 * snapshotted once) and `/healthz`, into one {@link WebSummary}. Built from the registry rather
 * than from the transport, so the page can never show what `/metrics` does not.
 */
export async function readWebSummary(
  registry: Registry,
  health: Health,
  now: () => number = Date.now,
): Promise<WebSummary> {
  const streams = new Map<string, { -readonly [K in keyof WebStream]: WebStream[K] }>()
  const counters: Record<string, Record<string, number>> = {}
  let samples = 0
  let truncated = false
  // Registration order: the first transport metric takes the snapshot the others then read.
  for (const { name } of registry.getMetricsAsArray()) {
    if (!name.startsWith(PREFIX)) continue
    const short = name.slice(PREFIX.length)
    const metric = registry.getSingleMetric(name)
    if (SKIPPED.has(short) || metric === undefined) continue
    const { values } = await metric.get()
    const field = STREAM_FAMILIES[short]
    for (const { labels, value } of values) {
      if (samples >= WEB_SUMMARY_MAX_SAMPLES) {
        truncated = true
        break
      }
      samples++
      if (field !== undefined && typeof labels.topic === 'string' && typeof labels.source === 'string') {
        const dir = labels.direction === 'out' ? 'out' : 'in'
        const key = JSON.stringify([dir, labels.topic, labels.source])
        let row = streams.get(key)
        if (row === undefined) {
          row = {
            dir,
            topic: labels.topic,
            source: labels.source,
            frames: 0,
            bytes: 0,
            gaps: 0,
            duplicates: 0,
            reordered: 0,
          }
          streams.set(key, row)
        }
        row[field] = value
        continue
      }
      counters[short] ??= {}
      counters[short][Object.values(labels).map(String).join(', ')] = value
    }
  }
  return {
    v: WEB_SUMMARY_VERSION,
    at: now(),
    health: health.report().body,
    streams: [...streams.values()],
    counters,
    truncated,
  }
}

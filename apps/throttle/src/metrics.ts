/**
 * shoal-throttle's own counters on /metrics, read at scrape time (the transport's come from
 * registerTransportMetrics):
 *
 * - `shoal_throttle_frames_total{direction}`: `in` (received), `out` (published)
 * - `shoal_throttle_dropped_total{reason}`: `rate`, `superseded`, `unmatched`, `evicted`,
 *   `memory`, `stopped`, `send-failed`, `busy`
 * - `shoal_throttle_held_frames`, `shoal_throttle_held_bytes` (gauges): `--latest` frames waiting
 *   for their tick
 * - `shoal_throttle_topics` (gauge), `shoal_throttle_topic_evictions_total`
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import { DROP_REASONS, type ThrottleCounters } from './pipeline.js'

export function registerThrottleMetrics(registry: Registry, read: () => ThrottleCounters): void {
  const registers = [registry]
  new Counter({
    name: 'shoal_throttle_frames_total',
    help: 'Frames received on the input (in) and published on the output (out).',
    labelNames: ['direction'],
    registers,
    collect() {
      this.reset()
      const counters = read()
      this.inc({ direction: 'in' }, counters.received)
      this.inc({ direction: 'out' }, counters.published)
    },
  })
  new Counter({
    name: 'shoal_throttle_dropped_total',
    help: 'Frames received and not published, by reason: rate (over --rate), superseded (a newer --latest frame came before the tick), unmatched (--unmatched drop), evicted (its topic let go for room), memory (held bytes at their cap), stopped (held at shutdown), send-failed, busy (too many sends in flight).',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset()
      const { dropped } = read()
      for (const reason of DROP_REASONS) this.inc({ reason }, dropped[reason])
    },
  })
  const gauge = (name: string, help: string, field: 'heldFrames' | 'heldBytes' | 'topics') =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read()[field])
      },
    })
  gauge('shoal_throttle_held_frames', '--latest frames held for their next tick.', 'heldFrames')
  gauge('shoal_throttle_held_bytes', 'Bytes of the --latest frames held.', 'heldBytes')
  gauge('shoal_throttle_topics', 'Topics a rule applies to, tracked now.', 'topics')
  new Counter({
    name: 'shoal_throttle_topic_evictions_total',
    help: 'Topics let go to make room for new ones (at most 4,096 tracked).',
    registers,
    collect() {
      this.reset()
      this.inc(read().evictions)
    },
  })
}

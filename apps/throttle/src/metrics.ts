/**
 * shoal-throttle's own counters on /metrics, read at scrape time (the transport's come from
 * registerTransportMetrics): `shoal_throttle_frames_total{direction}` (`in`, `out`) and
 * `shoal_throttle_dropped_total{reason}`.
 */
import { Counter, type Registry } from 'prom-client'
import { DROP_REASONS } from './handler.js'
import type { ThrottleCounters } from './pipeline.js'

export function registerThrottleMetrics(registry: Registry, read: () => ThrottleCounters): void {
  new Counter({
    name: 'shoal_throttle_frames_total',
    help: 'Frames received on the input (in) and published on the output (out).',
    labelNames: ['direction'],
    registers: [registry],
    collect() {
      this.reset()
      const counters = read()
      this.inc({ direction: 'in' }, counters.received)
      this.inc({ direction: 'out' }, counters.published)
    },
  })
  new Counter({
    name: 'shoal_throttle_dropped_total',
    help: 'Frames received and not published, by reason.',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset()
      const { dropped } = read()
      for (const reason of DROP_REASONS) this.inc({ reason }, dropped[reason])
    },
  })
}

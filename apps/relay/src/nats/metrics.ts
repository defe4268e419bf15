/**
 * The NATS routes on `/metrics`, read at scrape time:
 *
 * - `shoal_relay_nats_messages_total{route,direction}`: `out` published to NATS, `in` received
 *   from it; `shoal_relay_nats_forwarded_total{route}`: received and sent to an output
 * - `shoal_relay_nats_bytes_total{route}`: payload bytes published
 * - `shoal_relay_nats_dropped_total{route,reason}`: out: `nats-disconnected`, `nats-backlog`,
 *   `nats-max-payload`, `filtered`, `loop`, `max-hops`, `publish-error`; in: `malformed`,
 *   `bad-subject`, `filtered`, `max-hops`, `backlog`, `send-failed`
 * - `shoal_relay_nats_pending_bytes{route}`: published, not yet confirmed by the server
 * - `shoal_relay_nats_connected{route}` (1 or 0), `shoal_relay_nats_disconnects_total{route}`,
 *   `shoal_relay_nats_reconnects_total{route}`
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { NatsCounters } from './bridge.js'
import { NATS_IN_DROP_REASONS } from './input.js'
import { NATS_OUT_DROP_REASONS } from './output.js'

export function registerNatsMetrics(registry: Registry, read: () => NatsCounters): void {
  const registers = [registry]
  new Counter({
    name: 'shoal_relay_nats_messages_total',
    help: 'Messages published to NATS (direction out) and received from it (direction in), by nats:// route.',
    labelNames: ['route', 'direction'],
    registers,
    collect() {
      this.reset()
      const c = read()
      for (const o of c.outputs) this.inc({ route: o.route, direction: 'out' }, o.published)
      for (const i of c.inputs) this.inc({ route: i.route, direction: 'in' }, i.received)
    },
  })
  new Counter({
    name: 'shoal_relay_nats_forwarded_total',
    help: 'Messages from NATS sent on to at least one output, by nats:// input.',
    labelNames: ['route'],
    registers,
    collect() {
      this.reset()
      for (const i of read().inputs) this.inc({ route: i.route }, i.forwarded)
    },
  })
  new Counter({
    name: 'shoal_relay_nats_bytes_total',
    help: 'Payload bytes published to NATS, by nats:// output.',
    labelNames: ['route'],
    registers,
    collect() {
      this.reset()
      for (const o of read().outputs) this.inc({ route: o.route }, o.bytes)
    },
  })
  new Counter({
    name: 'shoal_relay_nats_dropped_total',
    help: 'Messages not published to (out) or not forwarded from (in) NATS, by route and reason.',
    labelNames: ['route', 'reason'],
    registers,
    collect() {
      this.reset()
      const c = read()
      for (const o of c.outputs)
        for (const reason of NATS_OUT_DROP_REASONS) this.inc({ route: o.route, reason }, o.dropped[reason])
      for (const i of c.inputs)
        for (const reason of NATS_IN_DROP_REASONS) this.inc({ route: i.route, reason }, i.dropped[reason])
    },
  })
  new Gauge({
    name: 'shoal_relay_nats_pending_bytes',
    help: 'Bytes published to NATS and not yet confirmed by the server, by nats:// output (bounded: past 8 MiB frames are dropped as nats-backlog).',
    labelNames: ['route'],
    registers,
    collect() {
      this.reset()
      for (const o of read().outputs) this.set({ route: o.route }, o.pendingBytes)
    },
  })
  new Gauge({
    name: 'shoal_relay_nats_connected',
    help: '1 while the nats:// route is connected to its server, else 0.',
    labelNames: ['route'],
    registers,
    collect() {
      this.reset()
      for (const l of read().links) this.set({ route: l.route }, l.state === 'connected' ? 1 : 0)
    },
  })
  for (const [name, field, help] of [
    [
      'shoal_relay_nats_disconnects_total',
      'disconnects',
      'Connections to the NATS server lost, by nats:// route.',
    ],
    [
      'shoal_relay_nats_reconnects_total',
      'reconnects',
      'Connections to the NATS server made again after a loss, by nats:// route.',
    ],
  ] as const)
    new Counter({
      name,
      help,
      labelNames: ['route'],
      registers,
      collect() {
        this.reset()
        for (const l of read().links) this.inc({ route: l.route }, l[field])
      },
    })
}

/** `nats-out=… nats-in=… nats-dropped=… nats-reconnects=…` for the relay's summary line. */
export function natsSummary(c: NatsCounters): Record<string, number> {
  let dropped = 0
  for (const o of c.outputs) for (const n of Object.values(o.dropped)) dropped += n
  for (const i of c.inputs) for (const n of Object.values(i.dropped)) dropped += n
  return {
    'nats-out': c.outputs.reduce((n, o) => n + o.published, 0),
    'nats-in': c.inputs.reduce((n, i) => n + i.received, 0),
    'nats-dropped': dropped,
    'nats-reconnects': c.links.reduce((n, l) => n + l.reconnects, 0),
  }
}

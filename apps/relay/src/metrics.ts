/**
 * The relay's own counters on `/metrics`, read from the relay at scrape time (the transport's
 * counters of every input and output come from `registerTransportMetrics`):
 *
 * - `shoal_relay_received_total`, `shoal_relay_forwarded_total`
 * - `shoal_relay_dropped_total{reason}`: `loop`, `filtered`, `max-hops`, `duplicate`
 * - `shoal_relay_sent_total{output}`, `shoal_relay_send_errors_total{output}`,
 *   `shoal_relay_oversize_total{output}`
 * - `shoal_relay_acks_total{result}`: `forwarded`, `unroutable`, `max-hops`, `error`
 * - `shoal_relay_dedup_entries`, `shoal_relay_info{relay_id} 1`
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { RelayCounters } from './forwarder.js'
import { RELAY_DROP_REASONS } from './loop-guard.js'

export interface RelayMetricsSource {
  counters(): RelayCounters
  dedupEntries(): number
}

export function registerRelayMetrics(registry: Registry, relay: RelayMetricsSource, relayId: string): void {
  const registers = [registry]
  const total = (name: string, help: string, read: (c: RelayCounters) => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset()
        this.inc(read(relay.counters()))
      },
    })
  total(
    'shoal_relay_received_total',
    'Datagrams that came in (frames of a batch one by one).',
    (c) => c.received,
  )
  total('shoal_relay_forwarded_total', 'Datagrams forwarded to at least one output.', (c) => c.forwarded)

  new Counter({
    name: 'shoal_relay_dropped_total',
    help: 'Datagrams not forwarded, by reason: loop (own output), filtered, max-hops, duplicate.',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset()
      const { dropped } = relay.counters()
      for (const reason of RELAY_DROP_REASONS) this.inc({ reason }, dropped[reason])
    },
  })
  const perOutput = (name: string, help: string, field: 'sent' | 'errors' | 'oversize') =>
    new Counter({
      name,
      help,
      labelNames: ['output'],
      registers,
      collect() {
        this.reset()
        for (const output of relay.counters().outputs) this.inc({ output: output.route }, output[field])
      },
    })
  perOutput('shoal_relay_sent_total', 'Datagrams handed to each output.', 'sent')
  perOutput('shoal_relay_send_errors_total', 'Failed sends, by output.', 'errors')
  perOutput(
    'shoal_relay_oversize_total',
    'Datagrams larger than the output’s budget (its MTU), sent anyway and fragmented by IP, by output.',
    'oversize',
  )

  new Counter({
    name: 'shoal_relay_acks_total',
    help: 'Acks arriving on output sockets: forwarded towards their publisher, unroutable, max-hops, error.',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset()
      const { acks } = relay.counters()
      this.inc({ result: 'forwarded' }, acks.forwarded)
      this.inc({ result: 'unroutable' }, acks.unroutable)
      this.inc({ result: 'max-hops' }, acks['max-hops'])
      this.inc({ result: 'error' }, acks.errors)
    },
  })
  new Gauge({
    name: 'shoal_relay_dedup_entries',
    help: 'Datagram identities the loop guard remembers (at most 65,536).',
    registers,
    collect() {
      this.set(relay.dedupEntries())
    },
  })
  new Gauge({
    name: 'shoal_relay_info',
    help: 'Always 1; labelled with this relay’s --relay-id.',
    labelNames: ['relay_id'],
    registers,
  }).set({ relay_id: relayId }, 1)
}

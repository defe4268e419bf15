/**
 * The relay's own counters on `/metrics`, read from the relay at scrape time (the transport's
 * counters of every input and output come from `registerTransportMetrics`):
 *
 * - `shoal_relay_received_total`, `shoal_relay_forwarded_total` (frames)
 * - `shoal_relay_heartbeats_total{result}`: `received`, `forwarded`, `dropped`, `repeated`, `repeat_limited`
 * - `shoal_relay_dropped_total{reason}`: `not-allowed`, `loop`, `filtered`, `max-hops`, `duplicate`
 * - `shoal_relay_sent_total{output}`, `shoal_relay_send_errors_total{output}`,
 *   `shoal_relay_oversize_total{output}`
 * - `shoal_relay_acks_total{result}`: `forwarded`, `malformed`, `unroutable`, `max-hops`, `error`
 * - `shoal_relay_schemas_total{result}`: `announced` (SCHEMA datagrams forwarded); SCHEMA_REQUESTs
 *   `forwarded` upstream, `malformed`, `unroutable`, `max-hops`, `error`
 * - `shoal_relay_ack_routes_total{event}`: `conflict`, `moved`, `refused`
 * - `shoal_relay_table_entries{table}`, `shoal_relay_table_evictions_total{table}`: `dedup`,
 *   `ack-routes`
 * - `shoal_relay_dedup_entries`, `shoal_relay_info{relay_id} 1`
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import { ACK_ROUTE_IDLE_MS } from './ack-routes.js'
import { RELAY_TABLES, type RelayCounters } from './counters.js'
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
    name: 'shoal_relay_heartbeats_total',
    help: 'Publishers’ HEARTBEAT frames: received, forwarded to the outputs, dropped (copies, own output, max-hops); repeated after forwarding (so a lost tail is heard of), repeat_limited (left out by the repeats’ rate cap).',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset()
      const { heartbeats } = relay.counters()
      this.inc({ result: 'received' }, heartbeats.received)
      this.inc({ result: 'forwarded' }, heartbeats.forwarded)
      this.inc({ result: 'dropped' }, heartbeats.dropped)
      this.inc({ result: 'repeated' }, heartbeats.repeated)
      this.inc({ result: 'repeat_limited' }, heartbeats.repeatLimited)
    },
  })

  new Counter({
    name: 'shoal_relay_dropped_total',
    help: 'Datagrams not forwarded, by reason: not-allowed (source not in allow=), loop (own output), filtered, max-hops, duplicate.',
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
    help: 'Acks arriving on output sockets, each under one result: forwarded towards their publisher, malformed, unroutable, max-hops, error.',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset()
      const { acks } = relay.counters()
      this.inc({ result: 'forwarded' }, acks.forwarded)
      this.inc({ result: 'malformed' }, acks.malformed)
      this.inc({ result: 'unroutable' }, acks.unroutable)
      this.inc({ result: 'max-hops' }, acks['max-hops'])
      this.inc({ result: 'error' }, acks.errors)
    },
  })
  new Counter({
    name: 'shoal_relay_schemas_total',
    help: 'In-band schemas: SCHEMA announce datagrams forwarded (announced); SCHEMA_REQUESTs arriving on output sockets, each under one result: forwarded upstream to the stream’s sender, malformed, unroutable, max-hops, error.',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset()
      const { schemas } = relay.counters()
      this.inc({ result: 'announced' }, schemas.announces)
      this.inc({ result: 'forwarded' }, schemas.forwarded)
      this.inc({ result: 'malformed' }, schemas.malformed)
      this.inc({ result: 'unroutable' }, schemas.unroutable)
      this.inc({ result: 'max-hops' }, schemas['max-hops'])
      this.inc({ result: 'error' }, schemas.errors)
    },
  })
  new Counter({
    name: 'shoal_relay_ack_routes_total',
    help: `Ways back for acks: conflict (a frame from elsewhere than its session's pinned way back, which stays), moved (after ${ACK_ROUTE_IDLE_MS / 1000} s unused), refused (a new session, with every way back in use).`,
    labelNames: ['event'],
    registers,
    collect() {
      this.reset()
      const { ackRoutes } = relay.counters()
      this.inc({ event: 'conflict' }, ackRoutes.conflicts)
      this.inc({ event: 'moved' }, ackRoutes.moved)
      this.inc({ event: 'refused' }, ackRoutes.refused)
    },
  })
  new Gauge({
    name: 'shoal_relay_table_entries',
    help: 'Entries in each table the relay fills from what it receives: dedup (datagram identities), ack-routes (publisher sessions).',
    labelNames: ['table'],
    registers,
    collect() {
      this.reset()
      const { tables } = relay.counters()
      for (const table of RELAY_TABLES) this.set({ table }, tables[table].entries)
    },
  })
  new Counter({
    name: 'shoal_relay_table_evictions_total',
    help: 'Entries forgotten to make room for new ones, by table: dedup, ack-routes.',
    labelNames: ['table'],
    registers,
    collect() {
      this.reset()
      const { tables } = relay.counters()
      for (const table of RELAY_TABLES) this.inc({ table }, tables[table].evicted)
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

import { Counter, Gauge, type Registry } from 'prom-client'
import type { FoxgloveStats } from './server.js'

/**
 * The Foxglove server on `/metrics`, read from `stats()` at scrape time (once per scrape):
 *
 * - `shoal_foxglove_clients`, `shoal_foxglove_channels` (gauges)
 * - `shoal_foxglove_connections_total{outcome}`: `accepted`, `max_clients`, `wrong_protocol`, `bad_origin`
 * - `shoal_foxglove_messages_sent_total`, `shoal_foxglove_sent_bytes_total`
 * - `shoal_foxglove_messages_dropped_total{reason}`: `send_buffer`, `client_closed`, `unknown_type`,
 *   `channel_limit`, `image_conversion`
 * - `shoal_foxglove_client_errors_total{reason}`: `bad_message`, `bad_subscription`,
 *   `subscription_limit`, `socket_error`, `send_buffer_overflow`
 * - `shoal_foxglove_slow_client_spells_total`, `shoal_foxglove_channel_evictions_total`
 * - `shoal_foxglove_send_buffer_peak_bytes` (gauge): the most bytes ever queued for one client
 */
export function registerFoxgloveMetrics(registry: Registry, snapshot: () => FoxgloveStats): void {
  let current: FoxgloveStats | undefined
  let first: string | undefined
  // A scrape collects metrics in registration order: the first one takes the snapshot.
  const read = (name: string): FoxgloveStats => {
    if (current === undefined || name === first) current = snapshot()
    return current
  }
  const metric = (
    name: string,
    help: string,
    kind: 'counter' | 'gauge',
    values: (stats: FoxgloveStats) => Readonly<Record<string, number>> | number,
    label?: string,
  ): void => {
    const full = `shoal_foxglove_${name}`
    first ??= full
    const Metric = kind === 'gauge' ? Gauge : Counter
    new Metric({
      name: full,
      help,
      labelNames: label === undefined ? [] : [label],
      registers: [registry],
      collect() {
        this.reset()
        const value = values(read(full))
        const set = (labels: Record<string, string>, v: number) =>
          kind === 'gauge' ? (this as Gauge).set(labels, v) : (this as Counter).inc(labels, v)
        if (typeof value === 'number') set({}, value)
        else for (const [key, v] of Object.entries(value)) set({ [label!]: key }, v)
      },
    })
  }
  metric('clients', 'Foxglove WebSocket clients connected now.', 'gauge', (s) => s.clients)
  metric('channels', 'Foxglove channels advertised now (a camera topic has two).', 'gauge', (s) => s.channels)
  metric(
    'connections_total',
    'Foxglove WebSocket connections, by outcome: accepted, or refused (max_clients, wrong_protocol, bad_origin).',
    'counter',
    (s) => s.connections,
    'outcome',
  )
  metric('messages_sent_total', 'Messages sent to Foxglove clients.', 'counter', (s) => s.messagesSent)
  metric('sent_bytes_total', 'Bytes of messages sent to Foxglove clients.', 'counter', (s) => s.bytesSent)
  metric(
    'messages_dropped_total',
    'Messages not sent to a Foxglove client (send_buffer, client_closed), or frames not published (unknown_type, channel_limit, image_conversion).',
    'counter',
    (s) => s.dropped,
    'reason',
  )
  metric(
    'client_errors_total',
    'What Foxglove clients did wrong, by reason; none of it stops the receiver.',
    'counter',
    (s) => s.clientErrors,
    'reason',
  )
  metric(
    'slow_client_spells_total',
    'Times a Foxglove client fell behind and messages to it began to be dropped (each sent one warning).',
    'counter',
    (s) => s.slowSpells,
  )
  metric(
    'channel_evictions_total',
    'Foxglove topics unadvertised to make room for a new one.',
    'counter',
    (s) => s.channelEvictions,
  )
  metric(
    'send_buffer_peak_bytes',
    'The most bytes ever queued for one Foxglove client.',
    'gauge',
    (s) => s.peakBufferedBytes,
  )
}

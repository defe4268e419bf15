import { parsePrometheusText, sampleValue } from '@shoal/service/testing'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createFoxgloveCounters } from './counters.js'
import { registerFoxgloveMetrics } from './metrics.js'
import type { FoxgloveStats } from './server.js'

describe('registerFoxgloveMetrics', () => {
  it('shows the stats of the moment of each scrape, taking one snapshot per scrape', async () => {
    const registry = new Registry()
    const counters = createFoxgloveCounters()
    let snapshots = 0
    let clients = 1
    const stats = (): FoxgloveStats => {
      snapshots++
      return { ...counters, clients, channels: 7, topics: 6, channelEvictions: 2 }
    }
    registerFoxgloveMetrics(registry, stats)
    counters.messagesSent = 10
    counters.bytesSent = 1234
    counters.dropped.send_buffer = 3
    counters.clientErrors.bad_message = 4
    counters.connections.accepted = 5
    counters.slowSpells = 1
    counters.peakBufferedBytes = 999
    const families = parsePrometheusText(await registry.metrics())
    expect(snapshots).toBe(1)
    const value = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(families, `shoal_foxglove_${name}`, labels)
    expect(value('clients')).toBe(1)
    expect(value('channels')).toBe(7)
    expect(value('messages_sent_total')).toBe(10)
    expect(value('sent_bytes_total')).toBe(1234)
    expect(value('messages_dropped_total', { reason: 'send_buffer' })).toBe(3)
    expect(value('messages_dropped_total', { reason: 'channel_limit' })).toBe(0)
    expect(value('client_errors_total', { reason: 'bad_message' })).toBe(4)
    expect(value('connections_total', { outcome: 'accepted' })).toBe(5)
    expect(value('slow_client_spells_total')).toBe(1)
    expect(value('channel_evictions_total')).toBe(2)
    expect(value('send_buffer_peak_bytes')).toBe(999)
    clients = 0
    const again = parsePrometheusText(await registry.metrics())
    expect(snapshots).toBe(2)
    expect(sampleValue(again, 'shoal_foxglove_clients', {})).toBe(0)
  })
})

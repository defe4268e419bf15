import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_METRICS_STREAMS,
  mergeTransportStats,
  OTHER_STREAMS,
  registerBuildInfo,
  registerTransportMetrics,
  type TransportStatsLike,
} from './metrics.js'
import { parsePrometheusText, sampleValue } from './testing/prom-text.js'

function stats(overrides: Partial<TransportStatsLike> = {}): TransportStatsLike {
  return {
    sent: [
      { source: 'tx-1', topic: 'sensors/imu', frames: 10, bytes: 1000, gaps: 0, duplicates: 0, reordered: 0 },
    ],
    received: [
      { source: 'tx-1', topic: 'sensors/imu', frames: 8, bytes: 800, gaps: 2, duplicates: 1, reordered: 3 },
      { source: 'tx-2', topic: 'sensors/gps', frames: 5, bytes: 50, gaps: 0, duplicates: 0, reordered: 0 },
    ],
    drops: { crc: 4, 'too-large': 1 },
    repair: { nacksSent: 3, fragmentsRepaired: 7 },
    datagramsIn: 17,
    datagramsOut: 12,
    ...overrides,
  }
}

describe('registerTransportMetrics', () => {
  it('exposes the snapshot as counters that parse as Prometheus text', async () => {
    const registry = new Registry()
    registerTransportMetrics(registry, () => stats())
    const families = parsePrometheusText(await registry.metrics())

    for (const name of [
      'frames',
      'bytes',
      'gaps',
      'duplicates',
      'reordered',
      'drops',
      'datagrams',
      'repair_events',
    ]) {
      expect(families.get(`shoal_${name}_total`)?.type).toBe('counter')
    }
    expect(
      sampleValue(families, 'shoal_frames_total', { direction: 'out', topic: 'sensors/imu', source: 'tx-1' }),
    ).toBe(10)
    expect(
      sampleValue(families, 'shoal_frames_total', { direction: 'in', topic: 'sensors/imu', source: 'tx-1' }),
    ).toBe(8)
    expect(
      sampleValue(families, 'shoal_bytes_total', { direction: 'in', topic: 'sensors/gps', source: 'tx-2' }),
    ).toBe(50)
    expect(sampleValue(families, 'shoal_gaps_total', { topic: 'sensors/imu', source: 'tx-1' })).toBe(2)
    expect(sampleValue(families, 'shoal_duplicates_total', { topic: 'sensors/imu' })).toBe(1)
    expect(sampleValue(families, 'shoal_reordered_total', { topic: 'sensors/imu' })).toBe(3)
    expect(sampleValue(families, 'shoal_drops_total', { reason: 'crc' })).toBe(4)
    expect(sampleValue(families, 'shoal_drops_total', { reason: 'too-large' })).toBe(1)
    expect(sampleValue(families, 'shoal_repair_events_total', { event: 'nacks_sent' })).toBe(3)
    expect(sampleValue(families, 'shoal_repair_events_total', { event: 'fragments_repaired' })).toBe(7)
    expect(sampleValue(families, 'shoal_datagrams_total', { direction: 'in' })).toBe(17)
    expect(sampleValue(families, 'shoal_datagrams_total', { direction: 'out' })).toBe(12)
  })

  it('exposes in-band schema counters by event, pending as a gauge, and merges them', async () => {
    const registry = new Registry()
    const schemas = { announced: 2, announcedBytes: 900, requested: 5, accepted: 1, rejected: 3, pending: 4 }
    registerTransportMetrics(registry, () =>
      mergeTransportStats([stats({ schemas }), stats({ schemas: { ...schemas, pending: 1 } }), stats()]),
    )
    const families = parsePrometheusText(await registry.metrics())
    expect(sampleValue(families, 'shoal_schema_events_total', { event: 'announced' })).toBe(4)
    expect(sampleValue(families, 'shoal_schema_events_total', { event: 'announced_bytes' })).toBe(1800)
    expect(sampleValue(families, 'shoal_schema_events_total', { event: 'rejected' })).toBe(6)
    expect(() => sampleValue(families, 'shoal_schema_events_total', { event: 'pending' })).toThrow(/found 0/)
    expect(families.get('shoal_schemas_pending')?.type).toBe('gauge')
    expect(sampleValue(families, 'shoal_schemas_pending', {})).toBe(5)
  })

  it('reads the snapshot at every scrape, dropping streams that are gone', async () => {
    const registry = new Registry()
    let current = stats()
    registerTransportMetrics(registry, () => current)
    await registry.metrics()
    current = stats({
      received: [
        {
          source: 'tx-1',
          topic: 'sensors/imu',
          frames: 99,
          bytes: 9900,
          gaps: 2,
          duplicates: 1,
          reordered: 3,
        },
      ],
    })
    const families = parsePrometheusText(await registry.metrics())
    expect(sampleValue(families, 'shoal_frames_total', { direction: 'in', topic: 'sensors/imu' })).toBe(99)
    expect(() =>
      sampleValue(families, 'shoal_frames_total', { direction: 'in', topic: 'sensors/gps' }),
    ).toThrow(/found 0/)
  })

  it('escapes label values from the network', async () => {
    const registry = new Registry()
    const topic = 'odd "topic"\\with\nnewline'
    registerTransportMetrics(registry, () =>
      stats({
        received: [{ source: 's', topic, frames: 1, bytes: 1, gaps: 0, duplicates: 0, reordered: 0 }],
      }),
    )
    const families = parsePrometheusText(await registry.metrics())
    expect(sampleValue(families, 'shoal_frames_total', { direction: 'in', topic })).toBe(1)
  })

  it('takes a prefix and can be removed', async () => {
    const registry = new Registry()
    const remove = registerTransportMetrics(registry, () => stats(), { prefix: 'relay_' })
    expect(parsePrometheusText(await registry.metrics()).has('relay_frames_total')).toBe(true)
    remove()
    expect(await registry.metrics()).toBe('\n')
  })
})

describe('TransportStatsLike', () => {
  it("accepts the transport's snapshot shape: extra fields, mutable arrays, drops only for reasons seen", async () => {
    type DropReason = 'crc' | 'short' | 'version'
    interface StreamStats {
      source: string
      address: string
      topic: string
      frames: number
      bytes: number
      datagrams: number
      gaps: number
      duplicates: number
      reordered: number
      drops: Partial<Record<DropReason, number>>
    }
    interface StatsSnapshot {
      sent: StreamStats[]
      received: StreamStats[]
      drops: Partial<Record<DropReason, number>>
      datagramsIn: number
      datagramsOut: number
      bytesIn: number
      bytesOut: number
    }
    const snapshot: StatsSnapshot = {
      sent: [],
      received: [
        {
          source: '0a0b0c0d',
          address: '127.0.0.1:40000',
          topic: 't',
          frames: 2,
          bytes: 20,
          datagrams: 2,
          gaps: 0,
          duplicates: 0,
          reordered: 0,
          drops: {},
        },
      ],
      drops: { short: 3 },
      datagramsIn: 5,
      datagramsOut: 0,
      bytesIn: 100,
      bytesOut: 0,
    }
    const registry = new Registry()
    registerTransportMetrics(registry, () => snapshot)
    const families = parsePrometheusText(await registry.metrics())
    expect(sampleValue(families, 'shoal_frames_total', { direction: 'in', source: '0a0b0c0d' })).toBe(2)
    expect(sampleValue(families, 'shoal_drops_total', { reason: 'short' })).toBe(3)
    expect(mergeTransportStats([snapshot, snapshot]).drops).toEqual({ short: 6 })
  })
})

describe('mergeTransportStats', () => {
  it('sums streams with the same source and topic and drops by reason', () => {
    const merged = mergeTransportStats([stats(), stats({ drops: { crc: 1, short: 2 } })])
    expect(merged.sent).toEqual([
      {
        source: 'tx-1',
        topic: 'sensors/imu',
        frames: 20,
        bytes: 2000,
        gaps: 0,
        duplicates: 0,
        reordered: 0,
        jumps: 0,
        resyncs: 0,
      },
    ])
    expect(merged.received).toHaveLength(2)
    expect(merged.received[0]).toMatchObject({ frames: 16, gaps: 4, duplicates: 2, reordered: 6 })
    expect(merged.drops).toEqual({ crc: 5, 'too-large': 1, short: 2 })
    expect(merged.repair).toEqual({ nacksSent: 6, fragmentsRepaired: 14 })
    expect(merged.datagramsIn).toBe(34)
    expect(merged.datagramsOut).toBe(24)
  })

  it('of nothing is all zero', () => {
    expect(mergeTransportStats([])).toEqual({
      sent: [],
      received: [],
      drops: {},
      repair: {},
      outcomes: {},
      datagramsIn: 0,
      datagramsOut: 0,
    })
  })
})

describe('/metrics under a flood of made-up streams', () => {
  const stream = (i: number) => ({
    source: `s${i}`,
    topic: `t${i}`,
    frames: i,
    bytes: i,
    gaps: 1,
    duplicates: 0,
    reordered: 0,
    jumps: 1,
    resyncs: 0,
  })

  it(`gives the ${DEFAULT_METRICS_STREAMS} busiest streams series of their own and adds up the rest, the retired ones included`, async () => {
    const registry = new Registry()
    const received = Array.from({ length: 4_096 }, (_, i) => stream(i))
    registerTransportMetrics(registry, () =>
      stats({
        received,
        streams: {
          active: 4_096,
          evicted: 995_904,
          expired: 0,
          retired: {
            streams: 995_904,
            frames: 995_904,
            bytes: 0,
            gaps: 7,
            duplicates: 0,
            reordered: 0,
            jumps: 3,
            resyncs: 0,
          },
        },
      }),
    )
    const text = await registry.metrics()
    const families = parsePrometheusText(text)
    const frames = families.get('shoal_frames_total')!.samples.filter((s) => s.labels.direction === 'in')
    expect(frames).toHaveLength(DEFAULT_METRICS_STREAMS + 1)
    expect(
      sampleValue(families, 'shoal_frames_total', { direction: 'in', source: 's4095', topic: 't4095' }),
    ).toBe(4_095)
    const shown = received.slice(-DEFAULT_METRICS_STREAMS).reduce((n, s) => n + s.frames, 0)
    const all = received.reduce((n, s) => n + s.frames, 0)
    expect(sampleValue(families, 'shoal_frames_total', { direction: 'in', ...OTHER_STREAMS })).toBe(
      all - shown + 995_904,
    )
    expect(sampleValue(families, 'shoal_gaps_total', OTHER_STREAMS)).toBe(4_096 - DEFAULT_METRICS_STREAMS + 7)
    expect(sampleValue(families, 'shoal_streams', {})).toBe(4_096)
    expect(sampleValue(families, 'shoal_stream_evictions_total', { reason: 'evicted' })).toBe(995_904)
    expect(sampleValue(families, 'shoal_sequence_jumps_total', {})).toBe(4_096 + 3)
    // the page stays small: about 70 series per per-stream metric, whatever the number of streams
    expect(text.length).toBeLessThan(64 * 1024)
  })

  it('a count that went below 0 shows as 0 rather than failing the scrape', async () => {
    const registry = new Registry()
    registerTransportMetrics(registry, () => stats({ received: [{ ...stream(1), gaps: -5 }] }))
    const families = parsePrometheusText(await registry.metrics())
    expect(sampleValue(families, 'shoal_gaps_total', { source: 's1', topic: 't1' })).toBe(0)
  })

  it('shows sources alive and gone, and heartbeats both ways', async () => {
    const registry = new Registry()
    registerTransportMetrics(registry, () =>
      stats({ sources: { alive: 2, gone: 1 }, heartbeats: { sent: 5, received: 7 } }),
    )
    const families = parsePrometheusText(await registry.metrics())
    expect(sampleValue(families, 'shoal_sources', { state: 'alive' })).toBe(2)
    expect(sampleValue(families, 'shoal_sources', { state: 'gone' })).toBe(1)
    expect(sampleValue(families, 'shoal_heartbeats_total', { direction: 'in' })).toBe(7)
  })

  it('shows a receiver’s STATUS frames sent and publishers refused, and the repair events of ordered delivery and forwarding', async () => {
    const registry = new Registry()
    registerTransportMetrics(registry, () =>
      stats({
        status: { sent: 12, sessionsRefused: 3 },
        repair: { orderSkipped: 4, forwardedEvicted: 2 },
      }),
    )
    const families = parsePrometheusText(await registry.metrics())
    expect(sampleValue(families, 'shoal_status_total', { event: 'sent' })).toBe(12)
    expect(sampleValue(families, 'shoal_status_total', { event: 'sessions_refused' })).toBe(3)
    expect(sampleValue(families, 'shoal_repair_events_total', { event: 'order_skipped' })).toBe(4)
    expect(sampleValue(families, 'shoal_repair_events_total', { event: 'forwarded_evicted' })).toBe(2)
  })

  it('shows flow control: receivers, time held back, refused sends; merged across publishers', async () => {
    const registry = new Registry()
    const flow = {
      receivers: 2,
      timedOut: 1,
      sendsRefused: 40,
      backPressure: { episodes: 3, totalMs: 1_500 },
    }
    registerTransportMetrics(registry, () => mergeTransportStats([stats({ flow }), stats({ flow })]))
    const families = parsePrometheusText(await registry.metrics())
    expect(sampleValue(families, 'shoal_flow_receivers', {})).toBe(4)
    expect(sampleValue(families, 'shoal_backpressure_seconds_total', {})).toBe(3)
    expect(sampleValue(families, 'shoal_backpressure_waits_total', {})).toBe(6)
    expect(sampleValue(families, 'shoal_sends_refused_total', {})).toBe(80)
    expect(sampleValue(families, 'shoal_flow_receivers_timed_out_total', {})).toBe(2)
  })

  it('takes one snapshot per scrape', async () => {
    const registry = new Registry()
    let snapshots = 0
    registerTransportMetrics(registry, () => {
      snapshots++
      return stats()
    })
    await registry.metrics()
    expect(snapshots).toBe(1)
    await registry.metrics()
    expect(snapshots).toBe(2)
  })
})

describe('registerBuildInfo', () => {
  it('is a gauge of 1 labelled with service and version', async () => {
    const registry = new Registry()
    registerBuildInfo(registry, 'shoal-send', '1.2.3')
    const families = parsePrometheusText(await registry.metrics())
    expect(families.get('shoal_build_info')?.type).toBe('gauge')
    expect(sampleValue(families, 'shoal_build_info', { service: 'shoal-send', version: '1.2.3' })).toBe(1)
  })
})

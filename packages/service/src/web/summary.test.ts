import { Counter, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createHealth } from '../health.js'
import { registerBuildInfo, registerTransportMetrics, type TransportStatsLike } from '../metrics.js'
import { readWebSummary, WEB_SUMMARY_MAX_SAMPLES } from './summary.js'
import { WEB_SUMMARY_VERSION } from './summary-types.js'

const stats = (frames: number): TransportStatsLike => ({
  sent: [{ source: 'me', topic: 'out/topic', frames: 2, bytes: 20, gaps: 0, duplicates: 0, reordered: 0 }],
  received: [
    {
      source: '10.0.0.1:9',
      topic: '<img src=x>',
      frames,
      bytes: 10 * frames,
      gaps: 3,
      duplicates: 1,
      reordered: 2,
    },
  ],
  drops: { crc: 4 },
  datagramsIn: frames,
  datagramsOut: 2,
  repair: { nacksSent: 5 },
  kernelDrops: 6,
  sources: { alive: 1, gone: 0 },
})

describe('readWebSummary', () => {
  it('reads the shoal_* series into streams and counters, and the health body', async () => {
    const registry = new Registry()
    let frames = 7
    registerTransportMetrics(registry, () => stats(frames))
    registerBuildInfo(registry, 'shoal-test', '1.2.3')
    new Counter({ name: 'process_secret_total', help: 'not shoal', registers: [registry] }).inc()
    const health = createHealth({ service: 'shoal-test', version: '1.2.3' })
    health.markReady({ groups: ['239.255.0.1'] })

    const summary = await readWebSummary(registry, health, () => 1000)
    expect(summary).toMatchObject({ v: WEB_SUMMARY_VERSION, at: 1000, truncated: false })
    expect(summary.health).toMatchObject({ status: 'ready', service: 'shoal-test', groups: ['239.255.0.1'] })
    expect(summary.streams).toContainEqual({
      dir: 'in',
      topic: '<img src=x>',
      source: '10.0.0.1:9',
      frames: 7,
      bytes: 70,
      gaps: 3,
      duplicates: 1,
      reordered: 2,
    })
    expect(summary.streams).toContainEqual(
      expect.objectContaining({ dir: 'out', topic: 'out/topic', frames: 2, bytes: 20 }),
    )
    expect(summary.counters.drops_total).toEqual({ crc: 4 })
    expect(summary.counters.kernel_drops_total).toEqual({ '': 6 })
    expect(summary.counters.repair_events_total).toEqual({ nacks_sent: 5 })
    expect(summary.counters.sources).toEqual({ alive: 1, gone: 0 })
    expect(summary.counters.datagrams_total).toEqual({ in: 7, out: 2 })
    // only what /metrics shows under shoal_, and the build info only once (in health)
    expect(summary.counters.build_info).toBeUndefined()
    expect(Object.keys(summary.counters).some((name) => name.includes('process'))).toBe(false)

    frames = 9
    const next = await readWebSummary(registry, health)
    expect(next.streams.find((s) => s.dir === 'in')?.frames).toBe(9)
  })

  it('keeps the busiest streams apart and the rest under *, as /metrics does', async () => {
    const registry = new Registry()
    const received = Array.from({ length: 70 }, (_, i) => ({
      source: 's',
      topic: `t${i}`,
      frames: i,
      bytes: 0,
      gaps: 0,
      duplicates: 0,
      reordered: 0,
    }))
    registerTransportMetrics(registry, () => ({
      sent: [],
      received,
      drops: {},
      datagramsIn: 0,
      datagramsOut: 0,
    }))
    const summary = await readWebSummary(registry, createHealth({ service: 's', version: 'v' }))
    expect(summary.streams).toHaveLength(65)
    expect(summary.streams.find((s) => s.topic === '*')?.frames).toBe(0 + 1 + 2 + 3 + 4 + 5)
  })

  it('stops at the sample cap and says so', async () => {
    const registry = new Registry()
    const wide = new Counter({
      name: 'shoal_wide_total',
      help: 'many',
      labelNames: ['k'],
      registers: [registry],
    })
    for (let i = 0; i <= WEB_SUMMARY_MAX_SAMPLES; i++) wide.inc({ k: String(i) })
    const summary = await readWebSummary(registry, createHealth({ service: 's', version: 'v' }))
    expect(summary.truncated).toBe(true)
    expect(Object.keys(summary.counters.wide_total ?? {})).toHaveLength(WEB_SUMMARY_MAX_SAMPLES)
  })
})

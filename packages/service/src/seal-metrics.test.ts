import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { mergeTransportStats, registerTransportMetrics, type TransportStatsLike } from './metrics.js'
import { mergeSealStats, type SealStatsLike } from './seal-metrics.js'
import { parsePrometheusText, sampleValue } from './testing/prom-text.js'

const base: TransportStatsLike = { sent: [], received: [], drops: {}, datagramsIn: 0, datagramsOut: 0 }
const seal = (over: Partial<SealStatsLike> = {}): SealStatsLike => ({
  keyId: 2,
  sealed: 10,
  unsealed: 0,
  opened: 7,
  senders: 3,
  sendersEvicted: 1,
  sendersExpired: 4,
  ...over,
})

async function scrape(stats: () => TransportStatsLike) {
  const registry = new Registry()
  registerTransportMetrics(registry, stats)
  return parsePrometheusText(await registry.metrics())
}

describe('seal metrics', () => {
  it('show the sealing key id, what was sealed and opened, and the senders tracked', async () => {
    const metrics = await scrape(() => ({ ...base, seal: seal() }))
    expect(sampleValue(metrics, 'shoal_sealing_key', { key_id: '2' })).toBe(1)
    expect(metrics.get('shoal_sealing_key')?.samples).toHaveLength(1)
    expect(sampleValue(metrics, 'shoal_seal_datagrams_total', { event: 'sealed' })).toBe(10)
    expect(sampleValue(metrics, 'shoal_seal_datagrams_total', { event: 'opened' })).toBe(7)
    expect(sampleValue(metrics, 'shoal_seal_datagrams_total', { event: 'unsealed' })).toBe(0)
    expect(sampleValue(metrics, 'shoal_seal_senders')).toBe(3)
    expect(sampleValue(metrics, 'shoal_seal_sender_evictions_total', { reason: 'evicted' })).toBe(1)
    expect(sampleValue(metrics, 'shoal_seal_sender_evictions_total', { reason: 'expired' })).toBe(4)
  })

  it('have no samples while unkeyed, and follow a rotation', async () => {
    expect((await scrape(() => base)).get('shoal_sealing_key')?.samples ?? []).toEqual([])
    let keyId = 1
    const registry = new Registry()
    registerTransportMetrics(registry, () => ({ ...base, seal: seal({ keyId }) }))
    expect(
      sampleValue(parsePrometheusText(await registry.metrics()), 'shoal_sealing_key', { key_id: '1' }),
    ).toBe(1)
    keyId = 2
    const after = parsePrometheusText(await registry.metrics())
    expect(after.get('shoal_sealing_key')?.samples.map((s) => s.labels.key_id)).toEqual(['2'])
  })

  it('add up several sides: a relay re-sealing for another site seals with two ids', () => {
    expect(mergeSealStats([undefined, undefined])).toBeUndefined()
    const merged = mergeTransportStats([
      { ...base, seal: seal({ keyId: 1 }) },
      base,
      { ...base, seal: seal({ keyId: 5, sealed: 1 }) },
      { ...base, seal: seal({ keyId: 5 }) },
    ])
    expect(merged.seal).toEqual({
      keyIds: [1, 5],
      sealed: 21,
      unsealed: 0,
      opened: 21,
      senders: 9,
      sendersEvicted: 3,
      sendersExpired: 12,
    })
  })
})

import { parsePrometheusText, sampleValue } from '@shoal/service/testing'
import type { StatsSnapshot } from '@shoal/transport'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { MAX_SOURCE_ID_CHARS, registerSourceIdMetric, SourceIds } from './source-ids.js'

const msg = (sourceId: string) => ({ header: { sourceId } })

describe('SourceIds', () => {
  it('remembers the source id each session sends under, the latest one', () => {
    const ids = new SourceIds()
    ids.note('aaaaaaaa', msg('imu0'))
    ids.note('bbbbbbbb', msg('gps0'))
    ids.note('aaaaaaaa', msg('imu1'))
    ids.note('cccccccc', {}) // no header: no id
    ids.note('cccccccc', msg(''))
    expect(ids.get('aaaaaaaa')).toBe('imu1')
    expect(ids.get('bbbbbbbb')).toBe('gps0')
    expect(ids.get('cccccccc')).toBeUndefined()
    expect(ids.pick(['aaaaaaaa', 'cccccccc'])).toEqual({ aaaaaaaa: 'imu1' })
  })

  it('is bounded: at most its capacity of sessions (least recently heard go first), ids cut short', () => {
    const ids = new SourceIds(2)
    ids.note('a', msg('1'))
    ids.note('b', msg('2'))
    ids.note('a', msg('1')) // a heard again: b is now the oldest
    ids.note('c', msg('3'))
    expect([ids.get('a'), ids.get('b'), ids.get('c')]).toEqual(['1', undefined, '3'])
    expect(ids.size).toBe(2)
    expect(ids.evictions).toBe(1)
    ids.note('d', msg('x'.repeat(10_000)))
    expect(ids.get('d')).toHaveLength(MAX_SOURCE_ID_CHARS)
    expect(ids.get('d')?.endsWith('…')).toBe(true)
  })
})

describe('shoal_source_info', () => {
  const stream = (source: string, frames: number) => ({ source, topic: 'imu', frames }) as never
  it('labels each session of the busiest streams with its source id, and no more sessions', async () => {
    const ids = new SourceIds()
    for (const [session, id] of [
      ['aaaaaaaa', 'imu0'],
      ['bbbbbbbb', 'gps0'],
      ['cccccccc', 'cam0'],
    ] as const)
      ids.note(session, msg(id))
    const stats = () =>
      ({
        received: [stream('aaaaaaaa', 5), stream('bbbbbbbb', 9), stream('cccccccc', 1)],
      }) as unknown as StatsSnapshot
    const registry = new Registry()
    registerSourceIdMetric(registry, stats, (s) => ids.get(s), 2)
    const families = parsePrometheusText(await registry.metrics())
    expect(sampleValue(families, 'shoal_source_info', { source: 'aaaaaaaa', source_id: 'imu0' })).toBe(1)
    expect(sampleValue(families, 'shoal_source_info', { source: 'bbbbbbbb', source_id: 'gps0' })).toBe(1)
    expect(families.get('shoal_source_info')?.samples).toHaveLength(2)
  })
})

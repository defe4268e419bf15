import { EventEmitter } from 'node:events'
import { createLogger } from '@shoal/service'
import { MemorySink } from '@shoal/service/testing'
import type { AckReport, Publisher, PublishResult } from '@shoal/transport'
import { describe, expect, it } from 'vitest'
import {
  AckTracker,
  formatCounts,
  MAX_LOGGED_NAMES,
  MAX_MISS_WARNINGS,
  MAX_TRACKED_RECEIVERS,
  othersFields,
} from './acks.js'

/** A publisher whose waitForAcks answers with the next of `reports`. */
function setup(reports: AckReport[], expected: string[] = []) {
  const publisher = Object.assign(new EventEmitter(), {
    waitForAcks: async () => reports.shift()!,
  }) as unknown as Publisher
  const sink = new MemorySink(false)
  const logger = createLogger({ name: 'test', level: 'debug', destination: sink })
  const tracker = new AckTracker(publisher, { timeoutMs: 100, expected, logger })
  const result = { topic: 'imu', sequence: 0 } as unknown as PublishResult
  const run = async () => {
    while (reports.length > 0) await tracker.wait(result)
  }
  return { tracker, sink, run }
}

const report = (sequence: number, acked: string[], missing: string[] = []): AckReport => ({
  topic: 'imu',
  sequence,
  acked: acked.map((receiver) => ({
    receiver,
    receiverSession: 1,
    address: '10.0.0.9',
    port: 1,
    latencyMs: 1,
  })),
  missing,
})

const names = (n: number, prefix = 'fake') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`)

describe('AckTracker', () => {
  it(`counts at most ${MAX_TRACKED_RECEIVERS} receivers by name besides the expected ones, and the rest together`, async () => {
    const flood = names(100_000)
    const { tracker, run } = setup(
      [report(0, flood.slice(0, 50_000)), report(1, [...flood.slice(50_000), 'rx-1']), report(2, ['rx-1'])],
      ['rx-1'],
    )
    await run()
    const totals = tracker.totals()
    expect(totals.acked.size).toBe(MAX_TRACKED_RECEIVERS + 1)
    expect(totals.acked.get('rx-1')).toBe(2) // expected: counted by name whatever came first
    expect(totals.acked.get('fake-0')).toBe(1)
    expect(totals.others).toEqual({ acked: 100_000 - MAX_TRACKED_RECEIVERS, missing: 0 })
    expect(othersFields(totals)).toEqual({ ackedByOthers: 100_000 - MAX_TRACKED_RECEIVERS })
    expect(formatCounts(totals.acked).length).toBeLessThan(2_000)
  })

  it('warns about the first miss of every expected receiver and of a few others, then says the rest are counted', async () => {
    const flood = names(100_000)
    const { tracker, sink, run } = setup(
      [report(0, [], [...flood, 'rx-2']), report(1, [], [...flood, 'rx-2']), report(2, [], ['rx-3'])],
      ['rx-2', 'rx-3'],
    )
    await run()
    const warnings = sink.json().filter((record) => record.level === 40)
    const warned = warnings.map((record) => record.receiver).filter((name) => name !== undefined)
    expect(warned).toEqual([...flood.slice(0, MAX_MISS_WARNINGS), 'rx-2', 'rx-3'])
    expect(
      warnings.filter((record) => /further ones are only counted/.test(String(record.msg))),
    ).toHaveLength(1)
    // Three frames, 200,000 names missed: a few kilobytes of log, not megabytes.
    expect(sink.text.length).toBeLessThan(20_000)
    const debug = sink.json().filter((record) => record.level === 20)
    expect(debug[0]).toMatchObject({ missingCount: 100_001 })
    expect(debug[0]!.missing).toHaveLength(MAX_LOGGED_NAMES)
    expect(tracker.totals().missing.get('rx-2')).toBe(2)
    expect(tracker.totals().others.missing).toBe(2 * (100_000 - MAX_TRACKED_RECEIVERS))
  })
})

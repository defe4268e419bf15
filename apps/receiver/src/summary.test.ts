import { emptyRepairStats, type RepairStats, type StatsSnapshot, type StreamStats } from '@shoal/transport'
import { describe, expect, it } from 'vitest'
import { MAX_SUMMARY_NAMES, summarize } from './summary.js'

const stream = (
  source: string,
  topic: string,
  frames: number,
  more: Partial<StreamStats> = {},
): StreamStats => ({
  source,
  address: '127.0.0.1:1',
  topic,
  frames,
  bytes: frames * 10,
  datagrams: frames,
  gaps: 0,
  duplicates: 0,
  reordered: 0,
  jumps: 0,
  resyncs: 0,
  drops: {},
  ...more,
})

const snapshot = (
  received: StreamStats[],
  drops: StatsSnapshot['drops'] = {},
  repair: Partial<RepairStats> = {},
): StatsSnapshot => ({
  sent: [],
  received,
  drops,
  repair: { ...emptyRepairStats(), ...repair },
  datagramsIn: 99,
  datagramsOut: 0,
  bytesIn: 1234,
  bytesOut: 0,
})

describe('summarize', () => {
  it('has the totals only when nothing arrived', () => {
    expect(summarize(snapshot([]), { raw: false, outputDropped: 0 })).toEqual({
      frames: 0,
      bytes: 0,
      gaps: 0,
      duplicates: 0,
      drops: 0,
    })
  })

  it('adds drops by reason, frames per topic and per source', () => {
    const stats = snapshot(
      [
        stream('bbbbbbbb', 'imu', 5, { gaps: 2, duplicates: 1 }),
        stream('aaaaaaaa', 'imu', 3),
        stream('aaaaaaaa', 'gps', 1),
      ],
      { 'bad-crc': 2, truncated: 1, 'bad-magic': 0 },
    )
    expect(
      summarize(stats, {
        raw: false,
        outputDropped: 4,
        recorded: { file: 'x.rec', records: 9, rotations: 0 },
        sourceId: (session) => (session === 'aaaaaaaa' ? 'imu0' : undefined),
      }),
    ).toEqual({
      frames: 9,
      bytes: 90,
      gaps: 2,
      duplicates: 1,
      drops: 3,
      dropsByReason: { 'bad-crc': 2, truncated: 1 },
      topics: { gps: 1, imu: 8 },
      sources: { aaaaaaaa: 4, bbbbbbbb: 5 },
      sourceIds: { aaaaaaaa: 'imu0' },
      recorded: 9,
      recordFile: 'x.rec',
      outputDropped: 4,
    })
  })

  it('adds the repairs asked for and received when there were any', () => {
    const stats = snapshot([stream('aaaaaaaa', 'camera', 4)], {}, { nacksSent: 3, fragmentsRepaired: 11 })
    expect(summarize(stats, { raw: false, outputDropped: 0 })).toMatchObject({
      frames: 4,
      gaps: 0,
      nacks: 3,
      repairedFragments: 11,
    })
  })

  it('shows a keyed receiver’s key id and sealed datagrams opened, and what no key opened by reason', () => {
    const extras = { raw: false, outputDropped: 0 }
    const seal = {
      mode: 'encrypt' as const,
      keyId: 2,
      sealed: 4,
      unsealed: 0,
      opened: 37,
      senders: 1,
      sendersEvicted: 0,
      sendersExpired: 0,
    }
    expect(
      summarize(
        { ...snapshot([stream('s1', 'imu', 37)], { unauthenticated: 5, 'bad-tag': 1 }), seal },
        extras,
      ),
    ).toMatchObject({
      frames: 37,
      drops: 6,
      dropsByReason: { unauthenticated: 5, 'bad-tag': 1 },
      keyId: 2,
      opened: 37,
    })
    // Without a key: sealed frames are counted, never shown, and there is no key id.
    const keyless = summarize(snapshot([], { 'no-key': 40 }), extras)
    expect(keyless).toMatchObject({ frames: 0, drops: 40, dropsByReason: { 'no-key': 40 } })
    expect(keyless).not.toHaveProperty('keyId')
  })

  it('counts datagrams in raw mode', () => {
    expect(summarize(snapshot([]), { raw: true, outputDropped: 0 })).toEqual({ datagrams: 99, bytes: 1234 })
  })

  it(`lists the ${MAX_SUMMARY_NAMES} topics and sources with the most frames, and counts the others`, () => {
    const many = Array.from({ length: 1000 }, (_, i) =>
      stream((0x10000000 + i).toString(16), `flood/${String(i).padStart(4, '0')}`, i < 5 ? 100 + i : 1),
    )
    const summary = summarize(snapshot(many), { raw: false, outputDropped: 0 })
    const topics = summary.topics as Record<string, number>
    expect(Object.keys(topics)).toHaveLength(MAX_SUMMARY_NAMES)
    expect(Object.keys(topics)).toEqual(Object.keys(topics).sort())
    expect(topics).toMatchObject({ 'flood/0000': 100, 'flood/0004': 104 })
    expect(summary).toMatchObject({ frames: 5 * 102 + 995, moreTopics: 1000 - MAX_SUMMARY_NAMES })
    expect(Object.keys(summary.sources as object)).toHaveLength(MAX_SUMMARY_NAMES)
    expect(summary.moreSources).toBe(1000 - MAX_SUMMARY_NAMES)
    expect(summarize(snapshot(many.slice(0, 3)), { raw: false, outputDropped: 0 })).not.toHaveProperty(
      'moreTopics',
    )
  })
})

describe('summarize after streams were let go', () => {
  it('adds the retired streams to the totals and says how many went, and what the kernel dropped', () => {
    const stats: StatsSnapshot = {
      ...snapshot([stream('a', 'imu', 10, { gaps: 1, jumps: 2 })]),
      streams: {
        active: 1,
        evicted: 99_999,
        expired: 3,
        refused: 0,
        retired: {
          streams: 100_002,
          frames: 100_002,
          bytes: 5,
          datagrams: 100_002,
          gaps: 4,
          duplicates: 0,
          reordered: 0,
          jumps: 1,
          resyncs: 0,
          drops: {},
        },
      },
      kernelDrops: 12,
    }
    expect(summarize(stats, { raw: false, outputDropped: 0 })).toMatchObject({
      frames: 100_012,
      gaps: 5,
      jumps: 3,
      kernelDrops: 12,
      streamsEvicted: 99_999,
      streamsExpired: 3,
    })
  })
})

describe('summarize with topic names that are Object properties', () => {
  it('counts __proto__ and constructor like any other topic', () => {
    const out = summarize(snapshot([stream('a', '__proto__', 3), stream('a', 'constructor', 2)]), {
      raw: false,
      outputDropped: 0,
    })
    expect(Object.entries(out.topics as object)).toEqual([
      ['__proto__', 3],
      ['constructor', 2],
    ])
  })
})

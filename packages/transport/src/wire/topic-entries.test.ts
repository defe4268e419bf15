import { describe, expect, it } from 'vitest'
import { encodeTopic } from './header.js'
import { readTopicEntries, TOPIC_ENTRY_OVERHEAD, topicEntryPayloads } from './topic-entries.js'

const entry = (topic: string, sequence: number) => ({ topicBytes: encodeTopic(topic), sequence })

describe('topic entry lists', () => {
  it('writes entries after a zeroed prefix, and reads them back from it', () => {
    const [payload, ...rest] = topicEntryPayloads([entry('imu', 0x01020304), entry('gps', 5)], 3, 100, 10)
    expect(rest).toEqual([])
    expect([...payload!]).toEqual([0, 0, 0, 3, 105, 109, 117, 1, 2, 3, 4, 3, 103, 112, 115, 0, 0, 0, 5])
    expect(readTopicEntries(payload!, 3, 10)).toEqual([
      { topic: 'imu', sequence: 0x01020304 },
      { topic: 'gps', sequence: 5 },
    ])
  })

  it('splits by room (prefix included) and by the entry cap', () => {
    const list = ['a', 'b', 'c', 'd', 'e'].map((t, i) => entry(t, i))
    const each = TOPIC_ENTRY_OVERHEAD + 1
    expect(topicEntryPayloads(list, 2, 2 + 2 * each, 10).map((p) => p.length)).toEqual([
      2 + 2 * each,
      2 + 2 * each,
      2 + each,
    ])
    expect(topicEntryPayloads(list, 0, 1_000, 4).map((p) => p.length)).toEqual([4 * each, each])
  })

  it('no topics: no payload, or the prefix alone when one is required', () => {
    expect(topicEntryPayloads([], 8, 100, 10)).toEqual([])
    expect(topicEntryPayloads([], 8, 100, 10, true)).toEqual([new Uint8Array(8)])
  })

  it('always ends: an entry larger than the room goes alone', () => {
    const payloads = topicEntryPayloads([entry('x'.repeat(200), 1), entry('y', 2)], 0, 50, 10)
    expect(payloads.map((p) => readTopicEntries(p, 0, 10)?.length)).toEqual([1, 1])
  })

  it('reads zero entries as an empty list; the frame kind decides whether that is allowed', () => {
    expect(readTopicEntries(new Uint8Array(4), 4, 10)).toEqual([])
    expect(readTopicEntries(Uint8Array.from([1, 120, 0, 0, 0, 1, 1, 120, 0, 0, 0, 2]), 0, 1)).toBeUndefined()
  })
})

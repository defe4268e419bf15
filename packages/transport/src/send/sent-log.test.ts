import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../test/fake-clock.js'
import { isTransportError } from '../errors.js'
import { REPAIR_HOLDOFF_MS } from '../repair-window.js'
import type { FragmentParts } from '../wire/fragment.js'
import {
  loggedLength,
  MAX_LOOKUP_ENTRIES,
  MAX_NOTE_SHIFT,
  MAX_RESEND_DATAGRAMS_PER_LOOKUP,
  SENT_LOG_BYTES,
  SENT_LOG_MAX_DATAGRAMS,
  SENT_LOG_MS,
  SentLog,
  type SentLogOptions,
  type SentLookup,
  type StreamKey,
} from './sent-log.js'

/** A datagram of `length` bytes whose first byte is `tag`. */
const datagram = (length: number, tag = 0) => {
  const bytes = new Uint8Array(length)
  bytes[0] = tag
  return bytes
}
/** A fragment of `length` bytes in all (8-byte head, 4-byte CRC), its body's first byte `tag`. */
const fragment = (length: number, tag = 0): FragmentParts => [
  new Uint8Array(8),
  datagram(length - 12, tag),
  new Uint8Array(4),
]
const indices = (found: SentLookup) => found.datagrams.map((d) => d.index)

function setup(options: SentLogOptions = {}) {
  const clock = new FakeClock()
  const log = new SentLog({ clock, ...options })
  return { clock, log, a: log.stream('a'), b: log.stream('b') }
}

/** Appends a datagram and notes it as carrying `first`…`last` of `stream`. */
function send(log: SentLog, stream: StreamKey, first: number, last = first, length = 100): number {
  const index = log.append(datagram(length))
  log.note(stream, first, last, index)
  return index
}

describe('SentLog', () => {
  it('defaults: 64 MiB, 1 s, the repair holdoff', () => {
    expect(SENT_LOG_BYTES).toBe(64 * 1024 * 1024)
    expect(SENT_LOG_MS).toBe(1_000)
    const { clock, log, a } = setup()
    const index = send(log, a, 0)
    log.markResent(index, 0)
    expect(log.resendable(index, REPAIR_HOLDOFF_MS - 0.1)).toBe(false)
    clock.advance(SENT_LOG_MS)
    expect(log.lookup(a, 0, 1).datagrams).toHaveLength(1)
    clock.advance(1)
    expect(log.lookup(a, 0, 1)).toMatchObject({ datagrams: [], missing: 1 })
  })

  it('finds whole frames by sequence, and counts positions in bytes', () => {
    const { log, a } = setup()
    const first = log.append(datagram(100, 0))
    log.note(a, 0, 0, first)
    log.note(a, 1, 1, log.append(datagram(200, 1)))
    log.note(a, 2, 2, log.append(datagram(300, 2)))
    expect(first).toBe(0)
    const found = log.lookup(a, 1, 1)
    expect(found).toMatchObject({ missing: 0, truncated: false, next: 2 })
    expect(indices(found)).toEqual([1])
    expect((found.datagrams[0]!.datagram as Uint8Array)[0]).toBe(1)
    expect(indices(log.lookup(a, 0, 3))).toEqual([0, 1, 2])
    expect(log.stats()).toMatchObject({ datagrams: 3, bytes: 600, start: 0, position: 600, evicted: 0 })
    expect(log.datagram(2)).toBeDefined()
    expect(log.datagram(3)).toBeUndefined()
  })

  it('counts sequences never sent as missing: ahead, in a gap, of a stream never noted', () => {
    const { log, a, b } = setup()
    send(log, a, 10)
    send(log, a, 12)
    expect(log.lookup(a, 10, 3)).toMatchObject({ missing: 1 })
    expect(indices(log.lookup(a, 10, 3))).toEqual([0, 1])
    expect(log.lookup(a, 13, 5)).toMatchObject({ datagrams: [], missing: 5, next: 18 })
    expect(log.lookup(a, 5, 5)).toMatchObject({ datagrams: [], missing: 5 })
    expect(log.lookup(b, 0, 7)).toMatchObject({ datagrams: [], missing: 7 })
    expect(log.lookup(a, 10, 0)).toMatchObject({ datagrams: [], missing: 0 })
  })

  it('returns a batch once, whichever of its topics and frames are asked for', () => {
    const { log, a, b } = setup()
    // Batch 0: a 0-2, b 0-1. Batch 1: a 3, b 2-4.
    const batch0 = log.append(datagram(1_000, 0))
    log.note(a, 0, 2, batch0)
    log.note(b, 0, 1, batch0)
    const batch1 = log.append(datagram(1_000, 1))
    log.note(a, 3, 3, batch1)
    log.note(b, 2, 4, batch1)
    expect(log.lookup(a, 0, 3)).toMatchObject({ missing: 0 })
    expect(indices(log.lookup(a, 0, 3))).toEqual([batch0])
    expect(indices(log.lookup(a, 1, 3))).toEqual([batch0, batch1])
    expect(indices(log.lookup(b, 1, 3))).toEqual([batch0, batch1])
    expect(indices(log.lookup(b, 4, 1))).toEqual([batch1])
  })

  it('one entry for the runs of a topic a batch carries apart (a1 b1 a2)', () => {
    const { log, a, b } = setup({ maxDatagrams: 2 })
    const batch = log.append(datagram(500))
    log.note(a, 1, 1, batch)
    log.note(b, 1, 1, batch)
    log.note(a, 2, 2, batch)
    log.note(a, 2, 2, batch) // the same note again
    const found = log.lookup(a, 1, 2)
    expect(indices(found)).toEqual([batch])
    expect(found.missing).toBe(0)
    expect(log.stats().lookupEntries).toBe(1)
  })

  it('returns every fragment of a fragmented message, and counts them in positions', () => {
    const { log, a } = setup()
    send(log, a, 6)
    const parts = [fragment(1_000, 0), fragment(1_000, 1), fragment(400, 2)]
    const fragments = parts.map((part) => {
      const index = log.append(part)
      log.note(a, 7, 7, index)
      return index
    })
    send(log, a, 8)
    const found = log.lookup(a, 7, 1)
    expect(found).toMatchObject({ missing: 0, truncated: false })
    expect(indices(found)).toEqual(fragments)
    expect(found.datagrams.map((d) => d.datagram)).toEqual(parts)
    expect(indices(log.lookup(a, 6, 3))).toEqual([0, ...fragments, 4])
    expect(loggedLength(parts[2]!)).toBe(400)
    expect(log.position).toBe(100 + 1_000 + 1_000 + 400 + 100)
    expect(log.positionOf(a, 7)).toBe(100)
    expect(log.positionOf(a, 8)).toBe(2_500)
  })

  it('sorts in the fragments of a message that go out after later frames of its topic', () => {
    const { log, a } = setup()
    // Message 5 in three fragments; frames 6-10 and 11-15 go out in batches between them.
    const f0 = log.append(fragment(100))
    log.note(a, 5, 5, f0)
    const batch6 = log.append(datagram(100))
    log.note(a, 6, 10, batch6)
    const f1 = log.append(fragment(100))
    log.note(a, 5, 5, f1)
    const batch11 = log.append(datagram(100))
    log.note(a, 11, 15, batch11)
    const f2 = log.append(fragment(100))
    log.note(a, 5, 5, f2)
    expect(indices(log.lookup(a, 5, 1))).toEqual([f0, f1, f2])
    expect(indices(log.lookup(a, 5, 11))).toEqual([f0, batch6, f1, batch11, f2])
    expect(indices(log.lookup(a, 12, 1))).toEqual([batch11])
    expect(log.lookup(a, 5, 11).missing).toBe(0)
    expect(log.positionOf(a, 5)).toBe(0)
    expect(log.positionOf(a, 6)).toBe(100)
    expect(log.positionOf(a, 16)).toBe(500)
    expect(log.stats().refusedNotes).toBe(0)
  })

  it('refuses notes for datagrams never appended, and ranges overlapping others', () => {
    const { log, a } = setup()
    send(log, a, 0, 9)
    send(log, a, 10, 19)
    log.note(a, 20, 20, 2) // not appended
    log.note(a, 20, 20, -1)
    log.note(a, 20, 20, 0.5)
    log.note(a, 5, 12, 1) // overlaps both
    log.note(a, 9, 9, 1) // inside the first
    log.note(a, 0, 2 ** 31, 1) // half the sequence space
    expect(log.stats().refusedNotes).toBe(6)
    expect(indices(log.lookup(a, 0, 20))).toEqual([0, 1])
    expect(log.positionOf(a, 20)).toBe(log.position)
  })

  it('refuses a note that would land further back than MAX_NOTE_SHIFT entries', () => {
    const { log, a } = setup()
    // 0 sent early; 1 and 3 never noted; 2, and MAX_NOTE_SHIFT frames from 4 on, noted.
    const early = send(log, a, 0)
    send(log, a, 2, 2, 40)
    for (let sequence = 4; sequence < 4 + MAX_NOTE_SHIFT; sequence++) send(log, a, sequence, sequence, 40)
    log.note(a, 1, 1, early) // MAX_NOTE_SHIFT + 1 entries back
    expect(log.stats().refusedNotes).toBe(1)
    expect(log.lookup(a, 1, 1).missing).toBe(1)
    log.note(a, 3, 3, early) // MAX_NOTE_SHIFT back: sorted in
    expect(log.stats().refusedNotes).toBe(1)
    expect(indices(log.lookup(a, 3, 1))).toEqual([early])
    expect(indices(log.lookup(a, 2, 3))).toEqual([0, 1, 2])
  })

  it('wraps at 2^32: whole frames, and a batch whose range wraps', () => {
    const { log, a, b } = setup()
    for (const sequence of [0xffff_fffe, 0xffff_ffff, 0, 1]) send(log, a, sequence)
    expect(indices(log.lookup(a, 0xffff_ffff, 3))).toEqual([1, 2, 3])
    expect(log.lookup(a, 0xffff_ffff, 3)).toMatchObject({ missing: 0, next: 2 })
    expect(log.lookup(a, 0xffff_fffe, 6)).toMatchObject({ missing: 2 })
    expect(log.positionOf(a, 0)).toBe(200)
    expect(log.positionOf(a, 2)).toBe(log.position)
    expect(log.positionOf(a, 3)).toBeUndefined()
    expect(log.positionOf(a, 0xffff_fffd)).toBeUndefined()
    const batch = log.append(datagram(100))
    log.note(b, 0xffff_fffe, 1, batch)
    expect(indices(log.lookup(b, 0, 1))).toEqual([batch])
    expect(indices(log.lookup(b, 0xffff_ffff, 1))).toEqual([batch])
    expect(log.lookup(b, 0xffff_fff0, 20)).toMatchObject({ missing: 16 })
  })

  it('evicts the oldest past the byte cap, counted, and counts them missing', () => {
    const { log, a } = setup({ maxBytes: 100 })
    for (let sequence = 0; sequence < 10; sequence++) send(log, a, sequence, sequence, 30)
    expect(log.stats()).toMatchObject({
      datagrams: 3,
      bytes: 90,
      evicted: 7,
      evictedBytes: 210,
      start: 210,
      position: 300,
    })
    const found = log.lookup(a, 5, 5)
    expect(indices(found)).toEqual([7, 8, 9])
    expect(found.missing).toBe(2)
    expect(log.datagram(6)).toBeUndefined()
  })

  it('lets a datagram larger than the whole log go at once', () => {
    const { log, a } = setup({ maxBytes: 100 })
    send(log, a, 0, 0, 50)
    const index = send(log, a, 1, 1, 101)
    expect(log.datagram(index)).toBeUndefined()
    expect(log.stats()).toMatchObject({ datagrams: 0, evicted: 2, evictedBytes: 151, start: 151 })
    expect(log.lookup(a, 0, 2).missing).toBe(2)
  })

  it('evicts by age, lazily: on append and on every look-up', () => {
    const { clock, log, a } = setup({ maxAgeMs: 100 })
    send(log, a, 0) // at 0
    clock.advance(50)
    send(log, a, 1) // at 50
    clock.advance(50) // 100: the first is exactly maxAgeMs old, still held
    expect(indices(log.lookup(a, 0, 2))).toEqual([0, 1])
    clock.advance(1)
    expect(log.lookup(a, 0, 2)).toMatchObject({ missing: 1 })
    expect(log.stats()).toMatchObject({ datagrams: 1, evicted: 1, evictedBytes: 100, start: 100 })
    clock.advance(100)
    send(log, a, 2)
    expect(log.stats()).toMatchObject({ datagrams: 1, evicted: 2, start: 200 })
  })

  it('evicts past maxDatagrams, counted', () => {
    const { log, a } = setup({ maxDatagrams: 4 })
    for (let sequence = 0; sequence < 6; sequence++) send(log, a, sequence)
    expect(log.stats()).toMatchObject({ datagrams: 4, evicted: 2, evictedBytes: 200, start: 200 })
    expect(indices(log.lookup(a, 0, 6))).toEqual([2, 3, 4, 5])
  })

  it('caps datagrams at what the byte cap holds of the smallest datagram by default', () => {
    // 400 bytes of 40-byte datagrams: 10.
    const { log, a } = setup({ maxBytes: 400 })
    for (let sequence = 0; sequence < 20; sequence++) send(log, a, sequence, sequence, 1)
    expect(log.stats()).toMatchObject({ datagrams: 10, bytes: 10, evicted: 10 })
  })

  it('counts a fragmented message missing once a fragment of it is gone, and returns the rest', () => {
    const { log, a } = setup({ maxDatagrams: 4 })
    send(log, a, 0)
    for (let k = 0; k < 3; k++) log.note(a, 1, 1, log.append(fragment(100, k)))
    expect(log.lookup(a, 0, 2).missing).toBe(0)
    send(log, a, 2) // pushes frame 0 out
    send(log, a, 3) // pushes the first fragment of 1 out
    const found = log.lookup(a, 1, 1)
    expect(indices(found)).toEqual([2, 3])
    expect(found.missing).toBe(1)
    expect(log.lookup(a, 0, 4).missing).toBe(2)
    expect(log.positionOf(a, 1)).toBe(log.start)
  })

  it('positionOf: inside, the next unsent, too old, ahead, before the first, unknown stream', () => {
    const { log, a, b } = setup({ maxDatagrams: 3 })
    expect(log.positionOf(a, 0)).toBeUndefined()
    send(log, a, 100, 109) // 0-100: evicted below
    send(log, a, 110, 119) // 100-200
    send(log, a, 120, 129) // 200-300
    send(log, a, 131, 139) // 300-400: 130 was never sent
    expect(log.positionOf(a, 115)).toBe(100)
    expect(log.positionOf(a, 129)).toBe(200)
    expect(log.positionOf(a, 130)).toBe(300) // a gap: where the next one held starts
    expect(log.positionOf(a, 140)).toBe(400) // next unsent
    expect(log.positionOf(a, 141)).toBeUndefined() // ahead
    expect(log.positionOf(a, 105)).toBe(100) // too old: start
    expect(log.start).toBe(100)
    expect(log.positionOf(a, 99)).toBeUndefined() // before anything sent
    expect(log.positionOf(b, 0)).toBeUndefined()
    send(log, b, 0)
    expect(log.positionOf(b, 1)).toBe(log.position)
  })

  it('positionOf: a stream whose every datagram is gone stands at start', () => {
    const { log, a, b } = setup({ maxDatagrams: 2 })
    send(log, a, 0, 9)
    send(log, b, 0)
    send(log, b, 1)
    expect(log.positionOf(a, 3)).toBe(log.start)
    expect(log.positionOf(a, 10)).toBe(log.position)
  })

  it('holds a resent datagram back for the holdoff', () => {
    const { clock, log, a } = setup()
    const index = send(log, a, 0)
    expect(log.resendable(index)).toBe(true)
    clock.advance(10)
    log.markResent(index)
    clock.advance(REPAIR_HOLDOFF_MS - 1)
    expect(log.resendable(index)).toBe(false)
    clock.advance(1)
    expect(log.resendable(index)).toBe(true)
    expect(log.resendable(index + 1)).toBe(false) // never appended
  })

  it('a datagram no longer held is not resendable', () => {
    const { log, a } = setup({ maxDatagrams: 1 })
    const index = send(log, a, 0)
    send(log, a, 1)
    expect(log.resendable(index)).toBe(false)
    log.markResent(index) // ignored
  })

  it('a custom holdoff', () => {
    const { log, a } = setup({ holdoffMs: 0 })
    const index = send(log, a, 0)
    log.markResent(index, 0)
    expect(log.resendable(index, 0)).toBe(true)
  })

  it('caps the datagrams of one answer, and says where to go on from', () => {
    const { log, a } = setup()
    const total = MAX_RESEND_DATAGRAMS_PER_LOOKUP + 100
    for (let sequence = 0; sequence < total; sequence++) send(log, a, sequence, sequence, 40)
    const first = log.lookup(a, 0, total)
    expect(first).toMatchObject({ truncated: true, missing: 0, next: MAX_RESEND_DATAGRAMS_PER_LOOKUP })
    expect(first.datagrams).toHaveLength(MAX_RESEND_DATAGRAMS_PER_LOOKUP)
    const rest = log.lookup(a, first.next, total - first.next)
    expect(rest).toMatchObject({ truncated: false, missing: 0 })
    expect(rest.datagrams).toHaveLength(100)
    expect(rest.datagrams[0]!.index).toBe(MAX_RESEND_DATAGRAMS_PER_LOOKUP)
  })

  it('a truncated answer stops at the start of the message it could not finish', () => {
    const { log, a } = setup()
    for (let sequence = 0; sequence < MAX_RESEND_DATAGRAMS_PER_LOOKUP - 2; sequence++)
      send(log, a, sequence, sequence, 40)
    const large = MAX_RESEND_DATAGRAMS_PER_LOOKUP - 2
    for (let k = 0; k < 5; k++) log.note(a, large, large, log.append(fragment(100)))
    const found = log.lookup(a, 0, large + 1)
    expect(found).toMatchObject({ truncated: true, next: large, nextIndex: large + 2, missing: 0 })
    expect(found.datagrams).toHaveLength(MAX_RESEND_DATAGRAMS_PER_LOOKUP)
    expect(log.lookup(a, found.next, 1).datagrams).toHaveLength(5)
    const rest = log.lookup(a, found.next, 1, undefined, found.nextIndex)
    expect(rest).toMatchObject({ truncated: false, missing: 0, nextIndex: 0 })
    expect(indices(rest)).toEqual([large + 2, large + 3, large + 4])
  })

  it('answers a message of thousands of fragments in turns, each going on from the last', () => {
    const { log, a } = setup()
    send(log, a, 0)
    const fragments = 3_000
    for (let k = 0; k < fragments; k++) log.note(a, 1, 1, log.append(fragment(60)))
    send(log, a, 2)
    const turns: number[][] = []
    let answer = log.lookup(a, 0, 3)
    turns.push(indices(answer))
    while (answer.truncated) {
      answer = log.lookup(a, answer.next, 3 - ((answer.next - 0) >>> 0), undefined, answer.nextIndex)
      turns.push(indices(answer))
    }
    expect(turns.map((turn) => turn.length)).toEqual([1_024, 1_024, 954])
    expect(turns.flat()).toEqual(Array.from({ length: fragments + 2 }, (_, i) => i))
    expect(answer.missing).toBe(0)
  })

  it('a look-up for 65,535 sequences costs the datagrams it returns, not the count', () => {
    const { log, a } = setup()
    for (let sequence = 0; sequence < 100_000; sequence++) send(log, a, sequence, sequence, 40)
    let before = log.stats().lookupEntries
    const found = log.lookup(a, 20_000, 65_535)
    expect(found).toMatchObject({ truncated: true, next: 20_000 + MAX_RESEND_DATAGRAMS_PER_LOOKUP })
    expect(log.stats().lookupEntries - before).toBe(MAX_RESEND_DATAGRAMS_PER_LOOKUP)
    // Ahead of anything sent: nothing examined, everything missing.
    before = log.stats().lookupEntries
    expect(log.lookup(a, 100_000, 65_535)).toMatchObject({ datagrams: [], missing: 65_535 })
    expect(log.stats().lookupEntries).toBe(before)
    // Batches: 65,535 sequences in 110 datagrams of 600 frames.
    const { log: batched, a: topic } = setup()
    for (let k = 0; k < 110; k++) {
      const index = batched.append(datagram(1_400))
      batched.note(topic, k * 600, k * 600 + 599, index)
    }
    const answer = batched.lookup(topic, 0, 65_535)
    expect(answer).toMatchObject({ truncated: false, missing: 0 })
    expect(answer.datagrams).toHaveLength(110)
    expect(batched.stats().lookupEntries).toBe(110)
  })

  it('examines at most MAX_LOOKUP_ENTRIES entries (one batch of every other frame of a topic)', () => {
    const { log, a } = setup()
    const index = log.append(datagram(1_400))
    // Runs with gaps between them: an entry each, all in one datagram.
    for (let k = 0; k < MAX_LOOKUP_ENTRIES + 10; k++) log.note(a, 2 * k, 2 * k, index)
    const found = log.lookup(a, 0, 2 * (MAX_LOOKUP_ENTRIES + 10))
    expect(indices(found)).toEqual([index])
    expect(found).toMatchObject({
      truncated: true,
      next: 2 * MAX_LOOKUP_ENTRIES,
      missing: MAX_LOOKUP_ENTRIES,
    })
    expect(log.stats().lookupEntries).toBe(MAX_LOOKUP_ENTRIES)
    const rest = log.lookup(a, found.next, 20, undefined, found.nextIndex)
    expect(rest).toMatchObject({ truncated: false, missing: 10 })
    expect(indices(rest)).toEqual([index])
  })

  it('a full stream ring pushes out its oldest entry, counted', () => {
    // 4 datagrams at most: a stream holds 4 entries at most.
    const { log, a } = setup({ maxDatagrams: 4 })
    const index = log.append(datagram(100))
    for (const sequence of [0, 2, 4, 6, 8]) log.note(a, sequence, sequence, index)
    expect(log.stats().droppedNotes).toBe(1)
    expect(log.lookup(a, 0, 9)).toMatchObject({ missing: 4 + 1 })
    expect(log.positionOf(a, 0)).toBe(log.start)
    expect(log.positionOf(a, 2)).toBe(0)
    // Full, and the note out of order would be the oldest: it is the one dropped.
    log.note(a, 1, 1, index)
    expect(log.stats().droppedNotes).toBe(2)
    expect(indices(log.lookup(a, 2, 1))).toEqual([index])
  })

  it('grows its rings by doubling and finds every datagram after', () => {
    const { log, a, b } = setup()
    for (let sequence = 0; sequence < 5_000; sequence++) {
      const index = log.append(datagram(50, sequence & 0xff))
      log.note(a, sequence, sequence, index)
      if (sequence % 3 === 0) log.note(b, sequence / 3, sequence / 3, index)
    }
    for (const sequence of [0, 1, 1_023, 1_024, 4_999]) {
      const [found] = log.lookup(a, sequence, 1).datagrams
      expect(found!.index).toBe(sequence)
      expect((found!.datagram as Uint8Array)[0]).toBe(sequence & 0xff)
    }
    expect(indices(log.lookup(b, 1_000, 2))).toEqual([3_000, 3_003])
    expect(log.positionOf(a, 4_000)).toBe(200_000)
  })

  it('clear() lets go of everything; indices and positions go on', () => {
    const { log, a } = setup()
    send(log, a, 0)
    send(log, a, 1)
    log.clear()
    expect(log.stats()).toMatchObject({ datagrams: 0, bytes: 0, start: 200, position: 200, evicted: 0 })
    expect(log.lookup(a, 0, 2)).toMatchObject({ datagrams: [], missing: 2 })
    expect(log.positionOf(a, 0)).toBe(200)
    expect(log.positionOf(a, 2)).toBe(200)
    expect(send(log, a, 2)).toBe(2)
    expect(indices(log.lookup(a, 0, 3))).toEqual([2])
    expect(log.positionOf(a, 2)).toBe(200)
  })

  it('refuses bad options, naming them', () => {
    const bad: SentLogOptions[] = [
      { maxBytes: 0 },
      { maxBytes: Number.POSITIVE_INFINITY },
      { maxAgeMs: 0 },
      { maxAgeMs: Number.NaN },
      { holdoffMs: -1 },
      { maxDatagrams: 0 },
      { maxDatagrams: 1.5 },
      { maxDatagrams: SENT_LOG_MAX_DATAGRAMS + 1 },
    ]
    for (const options of bad) {
      const error = (() => {
        try {
          new SentLog(options)
        } catch (caught) {
          return caught
        }
      })()
      expect(isTransportError(error, 'SHOAL_BAD_OPTION')).toBe(true)
      expect((error as Error).message).toContain(Object.keys(options)[0])
    }
    expect(() => new SentLog({ maxAgeMs: Number.POSITIVE_INFINITY })).not.toThrow()
  })

  it('agrees with a plain model through batches, fragments out of order, gaps, wrap and eviction', () => {
    let compared = 0
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 4, max: 48 }),
        fc.integer({ min: 300, max: 3_000 }),
        (seed, maxDatagrams, maxBytes) => {
          if (runModel(seed, maxDatagrams, maxBytes)) compared++
        },
      ),
      { numRuns: 200 },
    )
    // Runs whose stream rings overflowed (counted, not modelled) are few: about 1 in 8.
    expect(compared).toBeGreaterThan(120)
  })
})

interface ModelDatagram {
  index: number
  position: number
  length: number
  at: number
}
interface ModelEntry {
  topic: number
  first: number
  last: number
  index: number
}

/**
 * A publisher of two topics whose sequences start just below 2^32: batches, whole frames, and
 * large messages whose fragments go out among later batches; now and then a sequence skipped.
 * Every look-up and position is checked against a plain list of what went out. False when a
 * stream ring overflowed (what it dropped is counted, not modelled).
 */
function runModel(seed: number, maxDatagrams: number, maxBytes: number): boolean {
  // mulberry32: a few lines of well-known PRNG, seeded by fast-check.
  let state = seed | 0
  const next = () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
  const pick = (n: number) => Math.floor(next() * n)
  const maxAgeMs = 150
  const clock = new FakeClock()
  const log = new SentLog({ maxBytes, maxAgeMs, maxDatagrams, clock })
  const streams = [log.stream('a'), log.stream('b')]
  const nextSequence = [2 ** 32 - 6, 2 ** 32 - 3]
  const pending: Array<{ topic: number; sequence: number; left: number }> = []
  const datagrams: ModelDatagram[] = []
  const entries: ModelEntry[] = []
  let position = 0
  let oldest = 0

  const evict = (now: number) => {
    while (oldest < datagrams.length) {
      const d = datagrams[oldest]!
      if (position - d.position <= maxBytes && now - d.at <= maxAgeMs) break
      oldest++
    }
  }
  const append = (length: number, notes: Array<[number, number, number]>) => {
    if (datagrams.length - oldest >= maxDatagrams) oldest++
    const index = log.append(datagram(length))
    datagrams.push({ index, position, length, at: clock.now() })
    position += length
    evict(clock.now())
    for (const [topic, first, last] of notes) {
      log.note(streams[topic]!, first >>> 0, last >>> 0, index)
      entries.push({ topic, first, last, index })
    }
  }
  const take = (topic: number, count: number) => {
    const first = nextSequence[topic]!
    nextSequence[topic] = first + count
    return first
  }

  for (let step = 0; step < 80; step++) {
    clock.advance(pick(12))
    const roll = next()
    if (roll < 0.3) {
      const notes: Array<[number, number, number]> = []
      for (const topic of [0, 1])
        if (next() < 0.7) {
          const count = 1 + pick(4)
          const first = take(topic, count)
          notes.push([topic, first, first + count - 1])
        }
      if (notes.length > 0) append(40 + pick(60), notes)
    } else if (roll < 0.5) {
      const topic = pick(2)
      const first = take(topic, 1)
      append(40 + pick(60), [[topic, first, first]])
    } else if (roll < 0.62) {
      const topic = pick(2)
      const sequence = take(topic, 1)
      const fragments = 1 + pick(4)
      append(40 + pick(60), [[topic, sequence, sequence]])
      if (fragments > 1) pending.push({ topic, sequence, left: fragments - 1 })
    } else if (roll < 0.67) {
      take(pick(2), 1 + pick(3)) // never sent
    } else if (pending.length > 0) {
      const large = pending[0]!
      append(40 + pick(60), [[large.topic, large.sequence, large.sequence]])
      if (--large.left === 0) pending.shift()
    }
  }

  const stats = log.stats()
  if (stats.droppedNotes > 0) return false
  evict(clock.now())
  const held = (index: number) => index >= oldest
  const start = oldest < datagrams.length ? datagrams[oldest]!.position : position
  expect(stats.refusedNotes).toBe(0)

  for (const topic of [0, 1]) {
    const stream = streams[topic]!
    const mine = entries.filter((e) => e.topic === topic)
    const high = nextSequence[topic]!
    for (let first = high - 30; first < high + 3; first++)
      for (const count of [1, 3, 8]) {
        const found = log.lookup(stream, first >>> 0, count)
        const end = first + count
        const carrying = mine.filter((e) => e.last >= first && e.first < end)
        const expected = [...new Set(carrying.filter((e) => held(e.index)).map((e) => e.index))]
        expected.sort((x, y) => x - y)
        let missing = 0
        for (let s = first; s < end; s++) {
          const carriers = mine.filter((e) => e.first <= s && s <= e.last)
          if (carriers.length === 0 || carriers.some((e) => !held(e.index))) missing++
        }
        expect(indices(found)).toEqual(expected)
        expect(found.missing).toBe(missing)
        expect(found.truncated).toBe(false)
      }
    if (mine.length === 0) continue
    const low = Math.min(...mine.map((e) => e.first))
    const top = Math.max(...mine.map((e) => e.last))
    for (let s = low - 2; s < top + 3; s++) {
      const expected = (() => {
        if (s === top + 1) return position
        if (s > top || s < low) return undefined
        if (mine.some((e) => e.first <= s && s <= e.last && !held(e.index))) return start
        // The first entry, in sequence order (fragments in the order they went out), ending at s or after.
        const after = mine.filter((e) => e.last >= s).sort((x, y) => x.first - y.first || x.index - y.index)
        const first = after[0]
        if (first === undefined || !held(first.index)) return start
        return datagrams[first.index]!.position
      })()
      expect(log.positionOf(stream, s >>> 0)).toBe(expected)
    }
  }
  // Look-ups evicted what aged since the last append, as the model did.
  expect(log.stats()).toMatchObject({ datagrams: datagrams.length - oldest, start, position })
  return true
}

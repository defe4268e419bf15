import { describe, expect, it } from 'vitest'
import {
  GROWN_AT_FRAMES,
  JUMP_CONFIRM_FRAMES,
  JUMP_CONFIRM_MS,
  MAX_SEQUENCE_JUMP,
  RELIABLE_SEQUENCE_WINDOW,
  SEQUENCE_WINDOW,
  SequenceTracker,
} from './sequence.js'

/** How far ahead an established stream (past GROWN_AT_FRAMES frames) follows a frame at once. */
const ESTABLISHED_JUMP = RELIABLE_SEQUENCE_WINDOW / 2

function run(seqs: number[]) {
  const t = new SequenceTracker()
  const verdicts = seqs.map((s) => t.observe(s))
  return { t, verdicts }
}

describe('SequenceTracker', () => {
  it('grows its window once a stream is established: a repair 40,000 frames late still counts', () => {
    const t = new SequenceTracker()
    for (let s = 0; s < GROWN_AT_FRAMES; s++) t.observe(s)
    // a lost batch of 800 frames, then 39,200 more frames
    for (let s = GROWN_AT_FRAMES + 800; s < 40_000; s++) t.observe(s)
    expect(t.gaps).toBe(800)
    for (let s = GROWN_AT_FRAMES; s < GROWN_AT_FRAMES + 800; s++) expect(t.observe(s)).toBe('reordered')
    expect(t).toMatchObject({ gaps: 0, jumps: 0, duplicates: 0, frames: 40_000 })
    expect(t.observe(100)).toBe('duplicate')
  })

  it('a new stream keeps the small window: a flood of made-up streams costs 32 words each', () => {
    const t = new SequenceTracker()
    for (let s = 0; s < GROWN_AT_FRAMES - 1; s++) t.observe(s)
    expect(t.observe(GROWN_AT_FRAMES + MAX_SEQUENCE_JUMP + 10)).toBe('jump')
  })

  it('counts in-order frames with no gaps', () => {
    const { t } = run([0, 1, 2, 3])
    expect(t).toMatchObject({ frames: 4, gaps: 0, duplicates: 0, reordered: 0 })
  })

  it('counts gaps, then takes late arrivals back out of them as reordered', () => {
    const { t, verdicts } = run([0, 3, 1, 5, 2])
    expect(verdicts).toEqual(['first', 'gap', 'reordered', 'gap', 'reordered'])
    expect(t).toMatchObject({ frames: 5, gaps: 1, reordered: 2, duplicates: 0 })
  })

  it('counts duplicates, including ones older than the window', () => {
    const { t } = run([0, 1, 1, 0])
    expect(t).toMatchObject({ frames: 2, duplicates: 2, gaps: 0 })
    const far = new SequenceTracker()
    far.observe(0)
    for (let s = 1; s <= SEQUENCE_WINDOW + 10; s += MAX_SEQUENCE_JUMP) far.observe(s)
    expect(far.observe(SEQUENCE_WINDOW + 10)).toBe('gap')
    expect(far.observe(1)).toBe('duplicate') // too old to tell: never counted twice
    expect(far.duplicates).toBe(1)
  })

  it('handles u32 wrap-around', () => {
    const { t } = run([0xfffffffe, 0xffffffff, 0, 2])
    expect(t).toMatchObject({ frames: 4, gaps: 1, duplicates: 0 })
  })

  it('equals sent minus received under random loss', () => {
    const t = new SequenceTracker()
    let received = 0
    let x = 12345
    for (let s = 0; s < 10_000; s++) {
      x = (x * 1103515245 + 12345) >>> 0
      if (s === 0 || s === 9_999 || x % 10 !== 0) {
        t.observe(s)
        received++
      }
    }
    expect(t.gaps).toBe(10_000 - received)
    expect(t.gaps).toBeGreaterThan(500)
  })

  it('does not count as found a frame from before the first one seen, which was never a gap', () => {
    const { t } = run([4, 5, 2, 6, 3])
    expect(t).toMatchObject({ frames: 5, gaps: 0, reordered: 2, duplicates: 0 })
  })

  it('knows which sequences have arrived', () => {
    const t = new SequenceTracker()
    expect(t.has(0)).toBe(false)
    for (const s of [10, 12]) t.observe(s)
    expect([t.has(10), t.has(11), t.has(12), t.has(13)]).toEqual([true, false, true, false])
    // older than the window: nothing to ask for any more
    expect(t.has(10 - 2_000)).toBe(true)
  })

  it('primed at a first fragment: that frame is a gap if it never completes, and a late one takes it back', () => {
    const t = new SequenceTracker()
    t.prime(10)
    t.prime(11) // once started, priming does nothing
    expect(t.observe(12)).toBe('gap')
    expect(t).toMatchObject({ frames: 1, gaps: 2 })
    expect(t.observe(10)).toBe('reordered')
    expect(t).toMatchObject({ frames: 2, gaps: 1, reordered: 1 })
    expect(t.observe(10)).toBe('duplicate')
  })

  it('primed and then completed in order is the same as not primed', () => {
    const t = new SequenceTracker()
    t.prime(5)
    expect(t.observe(5)).toBe('next')
    expect(t.observe(6)).toBe('next')
    expect(t).toMatchObject({ frames: 2, gaps: 0 })
  })

  describe('a frame far from the stream (a claim, not a fact)', () => {
    /** A stream heard every 5 ms (200 Hz) from sequence 0 to `to`, at t = 5 × sequence. */
    const live = (t: SequenceTracker, from: number, to: number) => {
      for (let s = from; s <= to; s++) expect(t.observe(s, s * 5)).toMatch(/first|next/)
    }

    it('one frame 2³¹ − 1 ahead is delivered but moves nothing: the real frames keep coming, counted exactly', () => {
      const t = new SequenceTracker()
      live(t, 0, 99)
      expect(t.observe(99 + 0x7fffffff, 499)).toBe('jump')
      live(t, 100, 2_000)
      expect(t).toMatchObject({ frames: 2_002, gaps: 0, duplicates: 0, jumps: 1, resyncs: 0 })
    })

    it('so does a burst of them from another sender, while the stream is still heard', () => {
      const t = new SequenceTracker()
      live(t, 0, 99)
      for (let k = 0; k < 50; k++) expect(t.observe(1_000_000 + k, 499, true, k)).toBe('foreign')
      live(t, 100, 500)
      expect(t).toMatchObject({ gaps: 0, resyncs: 0, jumps: 50 })
    })

    it('one frame just within the jump limit costs the one real frame it claims, and no count', () => {
      const t = new SequenceTracker()
      live(t, 0, 99)
      expect(t.observe(100 + MAX_SEQUENCE_JUMP, 499)).toBe('gap')
      for (let s = 100; s < 100 + MAX_SEQUENCE_JUMP; s++) expect(t.observe(s, s * 5)).toBe('reordered')
      expect(t.observe(100 + MAX_SEQUENCE_JUMP, 1_000_000)).toBe('duplicate') // the real one
      expect(t).toMatchObject({ gaps: 0, duplicates: 1 })
    })

    it('a far-behind frame is not delivered (too old to tell) and does not move the stream', () => {
      const t = new SequenceTracker()
      live(t, 100_000, 100_100)
      for (let k = 0; k < 10; k++) expect(t.observe(k, 25_500)).toBe('duplicate')
      live(t, 100_101, 100_200)
      expect(t).toMatchObject({ gaps: 0, resyncs: 0, frames: 201 })
    })

    it('a publisher heard again after losing more than the jump limit: the stream follows once confirmed, and the loss is counted', () => {
      const t = new SequenceTracker()
      live(t, 0, 99)
      // 40,000 frames lost (more than an established stream's jump limit): the next ones arrive far
      // ahead, with the old position quiet
      const back = 40_100
      const at = (s: number) => s * 5
      for (let k = 0; k < JUMP_CONFIRM_FRAMES - 1; k++) expect(t.observe(back + k, at(back + k))).toBe('jump')
      expect(t.observe(back + JUMP_CONFIRM_FRAMES, at(back + JUMP_CONFIRM_FRAMES))).toBe('resync')
      live(t, back + JUMP_CONFIRM_FRAMES + 1, back + 100)
      // every frame delivered; the 40,000 lost and the one skipped inside the candidate are gaps
      expect(t).toMatchObject({ resyncs: 1, gaps: 40_000 + 1, duplicates: 0 })
      expect(t.frames).toBe(100 + 100)
      expect(t.observe(back + JUMP_CONFIRM_FRAMES - 1, at(back + 200))).toBe('reordered')
      expect(t.gaps).toBe(40_000)
    })

    it('a candidate ahead is confirmed by its frames; one behind only once the old position has been quiet', () => {
      const ahead = new SequenceTracker()
      ahead.observe(0, 0)
      for (let k = 0; k < JUMP_CONFIRM_FRAMES - 1; k++) expect(ahead.observe(10_000 + k, 1)).toBe('jump')
      expect(ahead.observe(10_000 + JUMP_CONFIRM_FRAMES - 1, 1)).toBe('resync')
      const behind = new SequenceTracker()
      for (let s = 5_000; s < 5_010; s++) behind.observe(s, 0)
      for (let k = 0; k < 10; k++) expect(behind.observe(k, 1)).toBe('duplicate')
      behind.observe(5_010, JUMP_CONFIRM_MS - 1)
      expect(behind.observe(10, JUMP_CONFIRM_MS + 1)).toBe('duplicate')
      expect(behind.observe(11, 2 * JUMP_CONFIRM_MS)).toBe('resync')
    })

    it('a quiet stream moved by forged frames comes back when its publisher is heard again', () => {
      const t = new SequenceTracker()
      live(t, 0, 9) // t = 0..45 ms, then quiet
      for (let k = 0; k < JUMP_CONFIRM_FRAMES; k++) t.observe(1_000_000 + k, 1_000 + k)
      expect(t.resyncs).toBe(1)
      // the real publisher goes on at 10, 11, …: far behind the forged position now
      const verdicts = []
      for (let s = 10; s < 20; s++) verdicts.push(t.observe(s, 2_000 + s))
      expect(verdicts.slice(0, JUMP_CONFIRM_FRAMES - 1)).toEqual(['duplicate', 'duplicate'])
      expect(verdicts[JUMP_CONFIRM_FRAMES - 1]).toBe('resync')
      expect(verdicts.slice(JUMP_CONFIRM_FRAMES)).toEqual(Array(10 - JUMP_CONFIRM_FRAMES).fill('next'))
      expect(t.resyncs).toBe(2)
    })

    it('isFar says which sequences would not move the stream', () => {
      const t = new SequenceTracker()
      expect(t.isFar(123)).toBe(false)
      t.observe(1_000)
      expect([t.isFar(1_001 + MAX_SEQUENCE_JUMP), t.isFar(1_002 + MAX_SEQUENCE_JUMP)]).toEqual([false, true])
      expect([t.isFar(1_001 - SEQUENCE_WINDOW), t.isFar(1_000 - SEQUENCE_WINDOW)]).toEqual([false, true])
    })
  })

  describe('a foreign frame (from another sender than the stream’s)', () => {
    it('is delivered, moves nothing and counts in no gap; a repeat of a frame the stream has is a duplicate', () => {
      const t = new SequenceTracker()
      for (let s = 0; s < 10; s++) t.observe(s, s)
      const forged = 0xf0
      expect(t.observe(5, 10, true, forged)).toBe('duplicate')
      expect(t.observe(10, 10, true, forged)).toBe('foreign') // the real 10 is still to come
      expect(t.observe(10, 10, true, forged)).toBe('duplicate') // the same forgery again
      expect(t.observe(400, 10, true, forged)).toBe('foreign')
      expect(t.observe(2 ** 31, 10, true, forged)).toBe('foreign')
      for (let s = 10; s < 20; s++) expect(t.observe(s, s, false, 0x0f)).toBe('next')
      expect(t).toMatchObject({ frames: 23, gaps: 0, duplicates: 2, jumps: 3, resyncs: 0 })
    })

    it('a copy of the stream’s own frame that came first by a second path: the own frame counts but is not delivered again', () => {
      const t = new SequenceTracker()
      for (let s = 0; s < 10; s++) t.observe(s, s)
      expect(t.observe(10, 10, true, 0xabc)).toBe('foreign')
      expect(t.hasForeign).toBe(true)
      expect(t.observe(10, 11, false, 0xabc)).toBe('duplicate')
      expect(t.observe(11, 12, false, 0x123)).toBe('next')
      expect(t).toMatchObject({ frames: 12, gaps: 0, duplicates: 1 })
    })

    it('a slow stream keeps its place however many forged frames come between its own', () => {
      const t = new SequenceTracker()
      let verdicts = 0
      for (let s = 0; s < 10; s++) {
        expect(t.observe(s, s * 500)).toMatch(/first|next/)
        // six forged frames 150 ms apart, each 500 further ahead
        for (let k = 1; k <= 6; k++)
          if (t.observe(s * 3000 + k * 500, s * 500 + k * 150, true) === 'foreign') verdicts++
      }
      expect(verdicts).toBe(60)
      expect(t).toMatchObject({ gaps: 0, resyncs: 0, duplicates: 0 })
    })
  })

  it('a resync less than a window ahead keeps what the old position had seen', () => {
    const t = new SequenceTracker()
    for (let s = 0; s < 100; s++) t.observe(s, 0)
    const at = 100 + ESTABLISHED_JUMP + 10
    for (let k = 0; k < JUMP_CONFIRM_FRAMES; k++) t.observe(at + k, JUMP_CONFIRM_MS)
    expect(t.resyncs).toBe(1)
    expect(t.observe(50, JUMP_CONFIRM_MS)).toBe('duplicate')
  })

  it('a fast stream losing bursts longer than the jump limit while a candidate waits: gaps are exactly what was lost', () => {
    const t = new SequenceTracker()
    let sequence = 0
    let lost = 0
    let now = 0
    for (let burst = 0; burst < 50; burst++) {
      for (let k = 0; k < 1_000; k++) t.observe(sequence++, now)
      now += 10 // 100,000 frames/s
      const gap = 600 + burst * 37
      sequence += gap
      lost += gap
    }
    for (let k = 0; k < 1_000; k++) t.observe(sequence++, now + k)
    now += 1_000
    for (let k = 0; k < 10; k++) t.observe(sequence++, now)
    expect(t.gaps).toBe(lost)
    expect(t.frames).toBe(50 * 1_000 + 1_010)
  })

  it('tail: a heartbeat’s last sequence makes the missing tail gaps; a late frame takes its gap back', () => {
    const t = new SequenceTracker()
    for (let s = 0; s < 8; s++) t.observe(s, s)
    expect(t.tail(7, 10)).toBe(0)
    expect(t.tail(9, 10)).toBe(2)
    expect(t.gaps).toBe(2)
    expect(t.observe(9, 11)).toBe('reordered')
    expect(t.gaps).toBe(1)
    expect(t.observe(10, 12)).toBe('next')
    expect(t.tail(10 + MAX_SEQUENCE_JUMP + 1, 13)).toBe(0) // a claim too far ahead is not followed
    expect(new SequenceTracker().tail(5, 0)).toBe(0)
  })
})

import { describe, expect, it } from 'vitest'
import { SEQUENCE_WINDOW, SequenceTracker } from './sequence.js'

function run(seqs: number[]) {
  const t = new SequenceTracker()
  const verdicts = seqs.map((s) => t.observe(s))
  return { t, verdicts }
}

describe('SequenceTracker', () => {
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
    far.observe(SEQUENCE_WINDOW + 10)
    expect(far.observe(1)).toBe('duplicate') // too old to tell: never counted twice
    expect(far.gaps).toBe(SEQUENCE_WINDOW + 9)
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
})

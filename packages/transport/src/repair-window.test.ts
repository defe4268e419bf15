import { describe, expect, it } from 'vitest'
import { mergeRanges, RECYCLED_BUFFERS_MAX, REPAIR_HOLDOFF_MS, RepairWindow } from './repair-window.js'
import type { FragmentParts } from './wire/fragment.js'

/** `count` fake fragments; part i's body is [i]. */
const parts = (count: number): FragmentParts[] =>
  Array.from({ length: count }, (_, i) => [new Uint8Array(1), Uint8Array.of(i), new Uint8Array(4)])
const bodies = (found: { parts: FragmentParts[] } | undefined) => found?.parts.map((p) => p[1][0])

function setup(windowBytes = 1_000, windowMs = 100) {
  let now = 0
  const w = new RepairWindow(windowBytes, windowMs, () => now)
  return { w, advance: (ms: number) => (now += ms) }
}

describe('RepairWindow', () => {
  it('resends only fragments already sent, each at most once per holdoff', () => {
    const { w, advance } = setup()
    const held = w.hold('a', parts(8), 100, undefined)
    held.sent = 5 // as its first send counts them out
    expect(bodies(w.resend('a', [[3, 4]]))).toEqual([3, 4])
    expect(
      bodies(
        w.resend('a', [
          [0, 2],
          [3, 1],
        ]),
      ),
    ).toEqual([0, 1])
    advance(REPAIR_HOLDOFF_MS)
    expect(bodies(w.resend('a', [[3, 1]]))).toEqual([3])
    expect(w.resend('b', [[0, 1]])).toBeUndefined()
  })

  it('lets the oldest go past the byte window and anything past the time window', () => {
    const { w, advance } = setup(1_000, 100)
    w.hold('a', parts(1), 600, undefined)
    w.hold('b', parts(1), 300, undefined)
    w.hold('c', parts(1), 300, undefined)
    expect(w.resend('a', [[0, 1]])).toBeUndefined()
    expect(w.resend('b', [[0, 1]])).toBeDefined()
    expect(w.heldBytes).toBe(600)
    expect(w.fits(1_000)).toBe(true)
    expect(w.fits(1_001)).toBe(false)
    advance(101)
    expect(w.resend('c', [[0, 1]])).toBeUndefined()
  })

  it('recycles the buffer of a message that left, once no send uses it, and never one not ours', () => {
    const { w } = setup(100)
    const sent = (key: string, owned: Buffer | undefined) => {
      const held = w.hold(key, parts(1), 60, owned)
      w.end(held) // its first send is done
      return held
    }
    const mine = [Buffer.alloc(10), Buffer.alloc(10), Buffer.alloc(10)]
    sent('a', mine[0])
    sent('b', mine[1]) // a goes: recycled
    expect(w.takeRecycled()).toBe(mine[0])
    const repairing = sent('c', mine[2])
    w.begin(repairing) // a repair from c is under way
    sent('d', undefined) // b goes: recycled
    sent('e', undefined) // c goes while its repair runs: not yet
    expect(w.takeRecycled()).toBe(mine[1])
    expect(w.takeRecycled()).toBeUndefined()
    w.end(repairing) // now
    expect(w.takeRecycled()).toBe(mine[2])
    sent('f', undefined) // d goes: not ours
    expect(w.takeRecycled()).toBeUndefined()
  })

  it('never recycles a message whose first send has not ended, and counts a buffer whole', () => {
    const { w } = setup(100)
    const waiting = w.hold('a', parts(1), 10, Buffer.alloc(60))
    expect(w.heldBytes).toBe(60)
    w.hold('b', parts(1), 60, undefined) // a goes before it was sent
    expect(w.takeRecycled()).toBeUndefined()
    w.end(waiting)
    expect(w.takeRecycled()).toBe(waiting.owned)
  })

  it(`keeps at most ${RECYCLED_BUFFERS_MAX} recycled buffers`, () => {
    const { w } = setup()
    for (let i = 0; i < RECYCLED_BUFFERS_MAX + 3; i++) w.recycle(Buffer.alloc(1))
    let n = 0
    while (w.takeRecycled() !== undefined) n++
    expect(n).toBe(RECYCLED_BUFFERS_MAX)
  })
})

describe('mergeRanges', () => {
  it('sorts, clips and merges overlapping ranges, so a NACK looks at each fragment once', () => {
    expect(
      mergeRanges(
        [
          [10, 5],
          [0, 65_535],
          [3, 2],
        ],
        100,
      ),
    ).toEqual([[0, 100]])
    expect(
      mergeRanges(
        [
          [50, 10],
          [0, 5],
          [5, 5],
          [200, 1],
        ],
        100,
      ),
    ).toEqual([
      [0, 10],
      [50, 60],
    ])
  })
})

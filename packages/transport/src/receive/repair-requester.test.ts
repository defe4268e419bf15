import { describe, expect, it } from 'vitest'
import { MAX_NACK_RANGES, NACK_AMPLIFICATION, nackLengthFor } from '../wire/nack.js'
import { planNacks } from './repair-requester.js'

describe('planNacks', () => {
  it('asks in one NACK padded to 1/NACK_AMPLIFICATION of what it asks for', () => {
    expect([...planNacks([[3, 2]], 1_472, 1_472)]).toEqual([
      { ranges: [[3, 2]], length: nackLengthFor(2 * 1_472) },
    ])
    expect(nackLengthFor(2 * 1_472) * NACK_AMPLIFICATION).toBeGreaterThanOrEqual(2 * 1_472)
  })

  it('splits what one datagram of the budget cannot earn into several, none longer than the budget', () => {
    const nacks = [
      ...planNacks(
        [
          [0, 40],
          [50, 3],
        ],
        1_472,
        1_472,
      ),
    ]
    expect(nacks.map((n) => n.ranges)).toEqual([
      [[0, 16]],
      [[16, 16]],
      [
        [32, 8],
        [50, 3],
      ],
    ])
    for (const nack of nacks) expect(nack.length).toBeLessThanOrEqual(1_472)
  })

  it(`carries at most ${MAX_NACK_RANGES} ranges per NACK`, () => {
    const ranges = Array.from({ length: 100 }, (_, i) => [i * 2, 1] as const)
    const nacks = [...planNacks(ranges, 100, 65_507)]
    expect(nacks.map((n) => n.ranges.length)).toEqual([MAX_NACK_RANGES, 100 - MAX_NACK_RANGES])
  })
})

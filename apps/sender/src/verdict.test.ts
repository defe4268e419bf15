import { describe, expect, it } from 'vitest'
import type { AckTotals } from './acks.js'
import {
  EXPECT_MISSED_EXIT_CODE,
  MAX_NAMED_MISSING,
  SEND_FAILED_EXIT_CODE,
  senderVerdict,
} from './verdict.js'

const totals = (acked: Record<string, number>, missing: Record<string, number>): AckTotals => ({
  acks: 0,
  acked: new Map(Object.entries(acked)),
  missing: new Map(Object.entries(missing)),
  others: { acked: 0, missing: 0 },
  unacked: 0,
  pending: 0,
})
const clean = { sendErrors: 0, firstSendError: undefined }

describe('senderVerdict', () => {
  it('is nothing when every expected receiver acknowledged every frame and every send went out', () => {
    expect(senderVerdict({ ...clean, expected: ['r1'], acks: totals({ r1: 5 }, {}) })).toBeUndefined()
    expect(senderVerdict({ ...clean, expected: [], acks: undefined })).toBeUndefined()
  })

  it('names each expected receiver that missed frames, and exits 3', () => {
    expect(
      senderVerdict({
        ...clean,
        expected: ['r1', 'r2', 'r3'],
        acks: totals({ r1: 6, r3: 97 }, { r2: 6, r3: 3 }),
      }),
    ).toEqual({
      code: EXPECT_MISSED_EXIT_CODE,
      message: 'expected receivers missing: r2 (never acknowledged, 6 frames), r3 (missed 3 of 100 frames)',
    })
  })

  it('names a pinned NAME@ADDRESS as given, counting its acks under the name', () => {
    expect(
      senderVerdict({ ...clean, expected: ['r1@10.0.0.2'], acks: totals({ r1: 1 }, { 'r1@10.0.0.2': 1 }) })
        ?.message,
    ).toBe('expected receivers missing: r1@10.0.0.2 (missed 1 of 2 frames)')
  })

  it('misses of receivers not named by --expect do not fail the run', () => {
    expect(senderVerdict({ ...clean, expected: [], acks: totals({}, { r9: 4 }) })).toBeUndefined()
  })

  it('bounds the names it lists', () => {
    const names = Array.from({ length: MAX_NAMED_MISSING + 2 }, (_, i) => `r${i}`)
    const missing = Object.fromEntries(names.map((n) => [n, 1]))
    expect(senderVerdict({ ...clean, expected: names, acks: totals({}, missing) })?.message).toMatch(
      / and 2 more$/,
    )
  })

  it('failed sends fail the run with 1, the first error named; with misses too, both said', () => {
    expect(
      senderVerdict({ expected: [], acks: undefined, sendErrors: 1, firstSendError: 'send ENETUNREACH' }),
    ).toEqual({ code: SEND_FAILED_EXIT_CODE, message: '1 send failed (first: send ENETUNREACH)' })
    expect(
      senderVerdict({ expected: ['r1'], acks: totals({}, { r1: 2 }), sendErrors: 4, firstSendError: 'x' }),
    ).toEqual({
      code: SEND_FAILED_EXIT_CODE,
      message: '4 sends failed (first: x); expected receivers missing: r1 (never acknowledged, 2 frames)',
    })
  })
})

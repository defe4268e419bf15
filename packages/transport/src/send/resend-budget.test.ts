import { describe, expect, it } from 'vitest'
import { NACK_AMPLIFICATION } from '../wire/nack.js'
import {
  MAX_REPAIR_REQUESTERS,
  REQUESTER_SHARE,
  RESEND_BURST_SECONDS,
  RESEND_FLOOR_BYTES_PER_SECOND,
  ResendBudget,
} from './resend-budget.js'

/** Admits `size`-byte datagrams for one NACK until refused; returns how many went. */
const answer = (
  budget: ResendBudget,
  requester: string,
  nackBytes: number,
  size: number,
  max = 1_000_000,
) => {
  const grant = budget.grant(requester, nackBytes)
  let n = 0
  while (n < max && grant.admit(size)) n++
  return n
}
const big = 1_000_000_000 // a NACK long enough that its credit never binds

describe('ResendBudget', () => {
  it(`a NACK earns at most ${NACK_AMPLIFICATION} × its own length`, () => {
    const budget = new ResendBudget(
      {},
      () => 0,
      () => 0,
    )
    expect(answer(budget, '10.0.0.2', 54, 1_472)).toBe(0)
    expect(answer(budget, '10.0.0.2', 1_472, 1_472)).toBe(NACK_AMPLIFICATION)
    expect(budget.stats()).toMatchObject({ creditLimited: 2, rateLimited: 0 })
  })

  it('with fixed rates, caps one requester, and all of them together, at those rates', () => {
    let now = 0
    const budget = new ResendBudget(
      { bytesPerSecond: 4_000_000, bytesPerSecondPerRequester: 1_000_000 },
      () => 0,
      () => now,
    )
    expect(answer(budget, 'a', big, 1_000)).toBe((1_000_000 * RESEND_BURST_SECONDS) / 1_000)
    expect(answer(budget, 'a', big, 1_000)).toBe(0)
    now = 100 // 0.1 s: 100 kB more for a
    expect(answer(budget, 'a', big, 1_000)).toBe(100)
    // many requesters: the total (a 1 MB burst) binds
    let total = 0
    for (let i = 0; i < 100; i++) total += answer(budget, `r${i}`, big, 1_000)
    expect(total).toBeLessThanOrEqual((4_000_000 * RESEND_BURST_SECONDS) / 1_000)
    expect(budget.stats().rateLimited).toBeGreaterThan(90)
  })

  it('by default, resends follow what the publisher sends: a floor, plus twice as much in all, as much per requester', () => {
    const now = 0
    let sent = 0
    const budget = new ResendBudget(
      {},
      () => sent,
      () => now,
    )
    const floorBurst = RESEND_FLOOR_BYTES_PER_SECOND * RESEND_BURST_SECONDS
    expect(answer(budget, 'a', big, 1_024) * 1_024).toBeLessThanOrEqual(floorBurst)
    expect(answer(budget, 'a', big, 1_024)).toBe(0)
    // the publisher sends 40 MiB: one requester may now have as much resent
    sent += 40 * 1024 * 1024
    const forA = answer(budget, 'a', big, 1_024) * 1_024
    expect(forA).toBeGreaterThanOrEqual(REQUESTER_SHARE * 40 * 1024 * 1024)
    expect(forA).toBeLessThanOrEqual(REQUESTER_SHARE * 40 * 1024 * 1024 + RESEND_FLOOR_BYTES_PER_SECOND)
    // and a second one what is left of the total's share
    expect(answer(budget, 'b', big, 1_024)).toBeGreaterThan(0)
  })

  it(`tracks at most ${MAX_REPAIR_REQUESTERS} requesters, forgetting the least recently heard`, () => {
    const budget = new ResendBudget(
      {},
      () => 0,
      () => 0,
    )
    for (let i = 0; i < 10_000; i++) budget.grant(`10.1.${i >> 8}.${i & 255}`, 100)
    expect(budget.stats()).toMatchObject({
      requesters: MAX_REPAIR_REQUESTERS,
      requestersForgotten: 10_000 - MAX_REPAIR_REQUESTERS,
    })
  })
})

import { describe, expect, it } from 'vitest'
import { shoal } from './gen/shoal.js'
import { nowStampNs, toUint64, uint64ToBigInt } from './uint64.js'

const MAX = (1n << 64n) - 1n

/** Encodes `stampNs` in a Header and reads it back. */
function throughWire(stampNs: unknown): bigint {
  const bytes = shoal.v1.Header.encode({ stampNs } as shoal.v1.Header.$Properties).finish()
  return uint64ToBigInt(shoal.v1.Header.decode(bytes).stampNs)
}

describe('toUint64', () => {
  it.each([0n, 1n, 2n ** 53n + 1n, 1_700_000_000_123_456_789n, MAX])(
    'carries %s through the wire exactly',
    (value) => {
      expect(throughWire(toUint64(value))).toBe(value)
    },
  )

  it('accepts safe numbers and decimal strings', () => {
    expect(throughWire(toUint64(123))).toBe(123n)
    expect(throughWire(toUint64('18446744073709551615'))).toBe(MAX)
  })

  it('returns an unsigned Long', () => {
    const long = toUint64(MAX)
    expect(long.unsigned).toBe(true)
    expect(long.toString()).toBe('18446744073709551615')
  })

  it.each([-1n, MAX + 1n, -1, 1.5, 2 ** 53, '-1', '1e3', '0x10', ''])('rejects %s', (value) => {
    expect(() => toUint64(value)).toThrow(RangeError)
  })
})

describe('uint64ToBigInt', () => {
  it('reads Longs, numbers, strings and an absent value', () => {
    expect(uint64ToBigInt(toUint64(MAX))).toBe(MAX)
    expect(uint64ToBigInt(7)).toBe(7n)
    expect(uint64ToBigInt('9007199254740993')).toBe(9_007_199_254_740_993n)
    expect(uint64ToBigInt(null)).toBe(0n)
    expect(uint64ToBigInt(undefined)).toBe(0n)
  })
})

describe('nowStampNs', () => {
  it('is the wall clock in nanoseconds', () => {
    const before = BigInt(Date.now()) * 1_000_000n
    const stamp = uint64ToBigInt(nowStampNs())
    const after = BigInt(Date.now()) * 1_000_000n
    expect(stamp >= before && stamp <= after).toBe(true)
  })
})

describe('protobufjs and bigint (why toUint64 exists)', () => {
  it('does not carry a raw bigint: it must be converted first', () => {
    expect(throughWire(1_700_000_000_123_456_789n)).not.toBe(1_700_000_000_123_456_789n)
  })
})

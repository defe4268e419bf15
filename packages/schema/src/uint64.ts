import Long from 'long'

/**
 * 64-bit integer helpers. protobufjs represents uint64 fields (`Header.stampNs`, `Heartbeat.uptimeNs`)
 * as `number | Long`: decode always yields a `Long`; encode accepts a `Long`, a safe-integer `number`,
 * or a decimal string. It does NOT accept a `bigint`: protobufjs silently encodes one as 0. Nanosecond
 * timestamps exceed 2^53, so use these helpers instead of `number` arithmetic.
 */

const UINT64_MAX = (1n << 64n) - 1n

/**
 * Converts to an unsigned `Long` for a uint64 field. Throws a RangeError for a negative, fractional
 * or too large value, or an unsafe (> 2^53) `number`, which would already have lost precision.
 */
export function toUint64(value: bigint | number | string): Long {
  let big: bigint
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(`toUint64: ${value} is not a safe integer; pass a bigint or a decimal string`)
    }
    big = BigInt(value)
  } else if (typeof value === 'string') {
    if (!/^\d+$/.test(value))
      throw new RangeError(`toUint64: ${JSON.stringify(value)} is not a decimal integer`)
    big = BigInt(value)
  } else {
    big = value
  }
  if (big < 0n || big > UINT64_MAX) throw new RangeError(`toUint64: ${big} is outside 0..2^64-1`)
  return Long.fromString(big.toString(), true)
}

/** Converts a uint64 field value (`Long`, `number`, decimal string; null/undefined = 0) to a bigint. */
export function uint64ToBigInt(value: Long | number | string | null | undefined): bigint {
  if (value === null || value === undefined) return 0n
  if (typeof value === 'number' || typeof value === 'string') return BigInt(value)
  return (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0)
}

/** The current wall-clock time in nanoseconds since the Unix epoch, for `Header.stampNs`. */
export function nowStampNs(): Long {
  const ms = BigInt(Date.now())
  return toUint64(ms * 1_000_000n)
}

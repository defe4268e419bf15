import * as zlib from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { crc32, crc32Range, NATIVE_CRC_MIN_BYTES, tableCrc32 } from './crc.js'

describe('crc32', () => {
  it('matches the CRC-32 check value', () => {
    const check = new TextEncoder().encode('123456789')
    expect(crc32(check)).toBe(0xcbf43926)
    expect(tableCrc32(check)).toBe(0xcbf43926)
    expect(crc32(new Uint8Array(0))).toBe(0)
    expect(crc32(new Uint8Array(4).subarray(4), 0xcbf43926)).toBe(0xcbf43926)
  })
  it('continues from a previous CRC, so a frame can be checksummed in parts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.uint8Array({ maxLength: 512 }), (a, b) => {
        const whole = new Uint8Array([...a, ...b])
        return crc32(b, crc32(a)) === crc32(whole) && tableCrc32(b, tableCrc32(a)) === crc32(whole)
      }),
    )
  })

  it('the JavaScript one equals zlib on any input, either side of the switch-over length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4 * NATIVE_CRC_MIN_BYTES }), fc.nat(), (bytes, previous) => {
        const expected = zlib.crc32(bytes, previous >>> 0) >>> 0
        return tableCrc32(bytes, previous >>> 0) === expected && crc32(bytes, previous >>> 0) === expected
      }),
    )
  })

  it('checksums a range without a view of it', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2 * NATIVE_CRC_MIN_BYTES }),
        fc.nat(),
        fc.nat(),
        (bytes, a, b) => {
          const start = a % (bytes.length + 1)
          const end = start + (b % (bytes.length - start + 1))
          return crc32Range(bytes, start, end) === zlib.crc32(bytes.subarray(start, end)) >>> 0
        },
      ),
    )
  })
})

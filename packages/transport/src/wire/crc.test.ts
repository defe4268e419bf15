import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { crc32, tableCrc32 } from './crc.js'

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

  it('the fallback equals the native one on any input', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => tableCrc32(bytes) === crc32(bytes)))
  })
})

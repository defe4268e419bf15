import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { crc32, tableCrc32 } from './crc.js'

describe('crc32', () => {
  it('matches the CRC-32 check value', () => {
    const check = new TextEncoder().encode('123456789')
    expect(crc32(check)).toBe(0xcbf43926)
    expect(tableCrc32(check)).toBe(0xcbf43926)
    expect(crc32(new Uint8Array(0))).toBe(0)
  })
  it('the fallback equals the native one on any input', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => tableCrc32(bytes) === crc32(bytes)))
  })
})

import { describe, expect, it } from 'vitest'
import { LuaHex, LuaIntegerMap, toLua } from './lua-literal.js'

describe('toLua', () => {
  it('writes scalars, records, arrays and integer maps as Lua', () => {
    expect(toLua(7)).toBe('7')
    expect(toLua(true)).toBe('true')
    expect(toLua('a "quoted" \\ name')).toBe('"a \\"quoted\\" \\\\ name"')
    expect(toLua(new LuaHex(0x5348, 4))).toBe('0x5348')
    expect(toLua({ A: 1, B: [2, 3] })).toBe('{ A = 1, B = { 2, 3 } }')
    expect(toLua(new LuaIntegerMap([[0xb16c9ed1, 'shoal.v1.Imu']]))).toBe(
      '{\n  [0xb16c9ed1] = "shoal.v1.Imu",\n}',
    )
  })

  it('breaks long tables over lines, indented', () => {
    const long = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`FIELD_${i}`, i]))
    const lua = toLua({ OUTER: long })
    expect(lua.split('\n')).toContain('    FIELD_11 = 11,')
    expect(lua.endsWith('  },\n}')).toBe(true)
  })

  it('refuses what would not read back as the same value', () => {
    expect(() => toLua(0.5)).toThrow(/not an integer/)
    expect(() => toLua('ünïcode')).toThrow(/ASCII/)
    expect(() => toLua({ 'not-an-identifier': 1 })).toThrow(/identifier/)
    expect(() => toLua(new LuaHex(-1, 4))).toThrow(/non-negative/)
  })
})

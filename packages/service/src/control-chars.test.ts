import { describe, expect, it } from 'vitest'
import { CONTROL_CHARACTER, escapeControls, escapeJsonControls } from './control-chars.js'

/** Every code point from U+0000 to U+FFFF (no surrogates), and a few past it. */
const ALL = [
  ...Array.from({ length: 0xd800 }, (_, i) => String.fromCharCode(i)),
  ...Array.from({ length: 0x10000 - 0xe000 }, (_, i) => String.fromCharCode(0xe000 + i)),
  '😀',
  '\u{10ffff}',
]
const isControl = (c: string) => {
  const code = c.codePointAt(0)!
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    [0x061c, 0x200e, 0x200f].includes(code) ||
    (code >= 0x2028 && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  )
}

describe('escapeControls', () => {
  it.each([
    ['\u001b[2J', '\\x1b[2J'],
    ['\u001b]0;title\u0007', '\\x1b]0;title\\x07'],
    ['a\r\nb\tc', 'a\\x0d\\x0ab\\x09c'],
    ['\u0000 \u007f \u0080 \u009b \u009f', '\\x00 \\x7f \\x80 \\x9b \\x9f'],
    ['abc\u202edef', 'abc\\u202edef'],
    [
      '\u202a\u202b\u202c\u202d \u2066\u2067\u2068\u2069 \u200e\u200f\u061c \u2028\u2029',
      '\\u202a\\u202b\\u202c\\u202d \\u2066\\u2067\\u2068\\u2069 \\u200e\\u200f\\u061c \\u2028\\u2029',
    ],
  ])('%j becomes %s', (text, escaped) => {
    expect(escapeControls(text)).toBe(escaped)
  })

  it('leaves everything else as it is: printable Unicode, backslashes, the characters around the escaped ones', () => {
    const text = 'imu/café/温度/🌡 \\x1b ‎'.replace('‎', '\u00a0\u00ad\u2027\u202f\u2065\u206a')
    expect(escapeControls(text)).toBe(text)
  })

  it('escapes exactly the control characters, and leaves none behind', () => {
    const escaped = ALL.filter((c) => escapeControls(c) !== c)
    expect(escaped).toEqual(ALL.filter(isControl))
    expect(escapeControls(ALL.join(''))).not.toMatch(CONTROL_CHARACTER)
  })
})

describe('escapeJsonControls', () => {
  it('leaves JSON that parses to the same value, with no control character left', () => {
    const value = { topic: ALL.join(''), 'key\u009b\u202e': ['\u001b[2J', '\u0085'] }
    const json = escapeJsonControls(JSON.stringify(value))
    expect(JSON.parse(json)).toEqual(value)
    expect(json).not.toMatch(CONTROL_CHARACTER)
    expect(json).toContain('"key\\u009b\\u202e"')
  })
})

import { describe, expect, it } from 'vitest'
import { describeRaw, printableText, rawToObject } from './raw.js'

const bytes = (...values: number[]) => Uint8Array.from(values)

describe('raw datagrams', () => {
  it.each([
    ['hello', 'hello'],
    ['tab\tand\nnewline\r\n', 'tab\tand\nnewline\r\n'],
    ['ünïcødé ✓', 'ünïcødé ✓'],
    ['', ''],
  ])('%j is printable text', (text, expected) => {
    expect(printableText(Buffer.from(text))).toBe(expected)
  })

  it.each([
    ['a NUL', bytes(0x61, 0x00)],
    ['an escape', bytes(0x1b, 0x5b, 0x32, 0x4a)],
    ['DEL', bytes(0x7f)],
    ['a C1 control', Buffer.from('\u0085')],
    ['a right-to-left override', Buffer.from('abc\u202edef')],
    ['a bidirectional isolate', Buffer.from('\u2066x\u2069')],
    ['invalid UTF-8', bytes(0xff, 0xfe)],
    ['a truncated sequence', bytes(0xe2, 0x9c)],
  ])('%s is not', (_, data) => {
    expect(printableText(data)).toBeUndefined()
  })

  it('becomes a JSON object with text or hex', () => {
    const from = { address: '127.0.0.1', port: 5000 }
    const receivedAt = Date.UTC(2025, 0, 1)
    expect(rawToObject({ data: Buffer.from('hi'), from, receivedAt })).toEqual({
      receivedAt: '2025-01-01T00:00:00.000Z',
      from,
      bytes: 2,
      text: 'hi',
    })
    expect(rawToObject({ data: Buffer.from([0, 255]), from, receivedAt })).toMatchObject({
      bytes: 2,
      hex: '00ff',
    })
  })

  it('is described for people: text as is, one trailing newline dropped, else quoted; or hex', () => {
    expect(describeRaw(Buffer.from('hello\n'))).toBe('hello')
    expect(describeRaw(Buffer.from('two\nlines'))).toBe('"two\\nlines"')
    expect(describeRaw(Buffer.from(''))).toBe('""')
    expect(describeRaw(bytes(1, 2, 0xab))).toBe('hex 0102ab')
  })
})

import { describe, expect, it } from 'vitest'
import { formatReply } from './raw.js'

const from = { address: '127.0.0.1', port: 5000 }
const reply = (data: Buffer) => JSON.parse(formatReply({ data, from, receivedAt: 0 }))

describe('formatReply', () => {
  it('shows printable UTF-8 as text, tabs included', () => {
    expect(reply(Buffer.from('ack:héllo\tthere'))).toEqual({
      from: '127.0.0.1:5000',
      bytes: 16,
      text: 'ack:héllo\tthere',
    })
  })

  it.each([
    ['an escape sequence', '\u001b]0;title\u0007'],
    ['a line break', 'a\nb'],
    ['DEL', 'a\u007f'],
    ['a C1 control', 'a\u009b2J'],
    ['a right-to-left override', 'abc\u202edef'],
    ['a bidirectional isolate', '\u2066x\u2069'],
  ])('shows a reply with %s as base64, never as text', (_, text) => {
    const data = Buffer.from(text)
    expect(reply(data)).toEqual({
      from: '127.0.0.1:5000',
      bytes: data.length,
      base64: data.toString('base64'),
    })
  })

  it('shows bytes that are not UTF-8 as base64', () => {
    expect(reply(Buffer.from([0xff, 0x00]))).toMatchObject({ base64: '/wA=' })
  })
})

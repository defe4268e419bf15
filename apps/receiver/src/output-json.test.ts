import { Scalar } from '@shoal/schema'
import { CONTROL_CHARACTER } from '@shoal/service'
import { MemorySink } from '@shoal/service/testing'
import type { ReceivedFrame } from '@shoal/transport'
import { describe, expect, it } from 'vitest'
import { frameToObject } from './frame-object.js'
import { LineWriter } from './line-writer.js'
import { JsonOutput } from './output-json.js'
import { rawToObject } from './raw.js'

describe('JsonOutput', () => {
  it('writes no control character raw, C1 and bidirectional ones included, and the line parses to the frame', async () => {
    const text = '\u001b[2J\u001b]0;title\u0007\u007f\u0085\u009b\u202e\u2066\u2028'
    const message = Scalar.create({ value: 1, unit: text, quantity: 'ok' })
    const payload = Scalar.encode(message)
    const frame: ReceivedFrame = {
      topic: `room/${text}`,
      typeName: Scalar.typeName,
      fingerprint: Scalar.fingerprint,
      message: Scalar.decode(payload),
      payload,
      source: { sessionId: 1, session: '00000001', address: '127.0.0.1', port: 40000 },
      sequence: 0,
      hops: 0,
      ackRequested: false,
      receivedAt: 0,
    }
    const datagram = {
      data: Buffer.from(`x${'\u202e'}y`),
      from: { address: '127.0.0.1', port: 1 },
      receivedAt: 0,
    }
    const sink = new MemorySink(false)
    const output = new JsonOutput(new LineWriter(sink), { full: false })
    output.frame(frame)
    output.raw(datagram)
    await output.close()
    const lines = sink.text.split('\n')
    expect(lines.at(-1)).toBe('')
    for (const line of lines) expect(line).not.toMatch(CONTROL_CHARACTER)
    expect(JSON.parse(lines[0]!)).toEqual(frameToObject(frame, { full: false }))
    expect(JSON.parse(lines[0]!)).toMatchObject({ topic: `room/${text}`, message: { unit: text } })
    expect(JSON.parse(lines[1]!)).toEqual(rawToObject(datagram))
    expect(JSON.parse(lines[1]!)).toMatchObject({ hex: Buffer.from(`x${'\u202e'}y`).toString('hex') })
  })
})

import { describe, expect, it } from 'vitest'
import { Stream } from './stream.js'

describe('Stream.origin', () => {
  it('is one frozen object while frames come from the same place, and a new one when that changes', () => {
    const stream = new Stream('0000abcd', '10.0.0.1', 7400, 'imu')
    const first = stream.origin(0xabcd)
    stream.from('10.0.0.1', 7400)
    expect(stream.origin(0xabcd)).toBe(first)
    expect(first).toEqual({ sessionId: 0xabcd, session: '0000abcd', address: '10.0.0.1', port: 7400 })
    expect(Object.isFrozen(first)).toBe(true)
    stream.from('10.0.0.2', 7400)
    expect(stream.origin(0xabcd)).toEqual({
      sessionId: 0xabcd,
      session: '0000abcd',
      address: '10.0.0.2',
      port: 7400,
    })
    expect(first.address).toBe('10.0.0.1') // frames delivered earlier keep where they came from
  })
})

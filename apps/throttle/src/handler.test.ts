import { describe, expect, it } from 'vitest'
import { handleFrame } from './handler.js'

const frame = { topic: 'sensors/imu', fingerprint: 0x1234_5678, payload: new Uint8Array([1, 2, 3]) }

describe('handleFrame', () => {
  it('publishes the frame on its own topic when no --out-topic is set', () => {
    expect(handleFrame(frame, { outTopic: undefined })).toEqual([frame])
  })

  it('publishes the same payload and type on --out-topic', () => {
    const [out] = handleFrame(frame, { outTopic: 'elsewhere' })
    expect(out).toEqual({ ...frame, topic: 'elsewhere' })
    expect(out?.payload).toBe(frame.payload)
  })
})

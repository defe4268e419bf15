import { Imu } from '@shoal/schema'
import { describe, expect, it } from 'vitest'
import { Stream } from '../stream.js'
import { FrameKind } from '../wire/constants.js'
import type { FrameHeader } from '../wire/header.js'
import { Delivery, MAX_HELD_FRAMES, ORDER_HOLD_MS } from './delivery.js'
import type { ReceivedFrame } from './options.js'
import type { SequenceVerdict } from './sequence.js'

const payload = Imu.encode({ angularVelocity: { x: 1, y: 2, z: 3 } })

function setup(ordered = true) {
  const frames: number[] = []
  const drops: string[] = []
  const delivery = new Delivery(
    { port: 1, ordered },
    { emit: (_event, frame) => frames.push((frame as ReceivedFrame).sequence) > 0 },
    (reason) => drops.push(reason),
  )
  const stream = new Stream('00000001', '10.0.0.1', 5000, 'imu')
  stream.repairing = true
  const header = (sequence: number, fingerprint = Imu.fingerprint): FrameHeader => ({
    kind: FrameKind.DATA,
    flags: 0,
    hops: 0,
    topic: 'imu',
    sessionId: 1,
    sequence,
    fingerprint,
    messageLength: payload.length,
    fragmentOffset: 0,
    fragmentIndex: 0,
    fragmentCount: 1,
    payloadLength: payload.length,
    extensionLength: 0,
  })
  const give = (sequence: number, verdict: SequenceVerdict, now = 0, fingerprint?: number) =>
    delivery.deliver(header(sequence, fingerprint), payload, stream, '10.0.0.1', 5000, 0, verdict, now)
  return { delivery, frames, drops, give }
}

describe('Delivery, ordered', () => {
  it('holds frames after a gap until the repair fills it, then delivers them in order', () => {
    const { frames, give } = setup()
    give(0, 'first')
    give(1, 'next')
    expect(give(3, 'gap')).toBe('delivered')
    give(4, 'next')
    expect(frames).toEqual([0, 1])
    give(2, 'reordered')
    expect(frames).toEqual([0, 1, 2, 3, 4])
  })

  it('gives a gap up after ORDER_HOLD_MS; its frame, if it comes after all, goes late', () => {
    const { delivery, frames, give } = setup()
    give(0, 'first')
    give(2, 'gap', 10)
    delivery.sweep(10 + ORDER_HOLD_MS - 1)
    expect(frames).toEqual([0])
    delivery.sweep(10 + ORDER_HOLD_MS)
    expect(frames).toEqual([0, 2])
    expect(delivery.gapsSkipped).toBe(1)
    give(1, 'reordered', 10 + ORDER_HOLD_MS)
    expect(frames).toEqual([0, 2, 1])
  })

  it('a dropped frame holds its place: the frames after it do not wait for it', () => {
    const { frames, drops, give } = setup()
    give(0, 'first')
    give(2, 'gap')
    expect(give(1, 'reordered', 0, 0xdead)).toBe('unknown-type')
    expect(drops).toEqual(['unknown-type'])
    expect(frames).toEqual([0, 2])
  })

  it('holds at most MAX_HELD_FRAMES per stream: past it, the oldest gap is given up', () => {
    const { delivery, frames, give } = setup()
    give(0, 'first')
    for (let s = 2; s <= MAX_HELD_FRAMES + 2; s++) give(s, s === 2 ? 'gap' : 'next')
    expect(frames.length).toBe(MAX_HELD_FRAMES + 2)
    expect(delivery.gapsSkipped).toBe(1)
  })

  it('without ordered, or for a stream it does not repair, frames go as they come', () => {
    const { frames, give } = setup(false)
    give(0, 'first')
    give(2, 'gap')
    give(1, 'reordered')
    expect(frames).toEqual([0, 2, 1])
  })

  it('release() lets every held frame go in order (closing)', () => {
    const { delivery, frames, give } = setup()
    give(0, 'first')
    give(3, 'gap')
    give(5, 'gap')
    delivery.release()
    expect(frames).toEqual([0, 3, 5])
  })
})

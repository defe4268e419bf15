import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../test/fake-clock.js'
import { Stream } from '../stream.js'
import { decodeFrame } from '../wire/frame.js'
import { decodeNackFramesBody } from '../wire/nack-frames.js'
import {
  FRAME_REPAIR_HORIZON_MS,
  FRAME_REPAIR_MAX_RETRIES,
  FRAME_REPAIR_RETRY_MS,
  FrameRepair,
  frameRetryDelay,
  MAX_WANTED_FRAMES,
} from './frame-repair.js'
import { NackCredit } from './nack-credit.js'

function setup(earned = 1_000_000) {
  const clock = new FakeClock()
  const credit = new NackCredit()
  credit.earn('10.0.0.1', earned)
  const sent: Array<{ ranges: Array<readonly [number, number]>; length: number }> = []
  const pending: Array<() => void> = []
  const repair = new FrameRepair({
    credit,
    receiverSession: 7,
    budget: 1_472,
    clock,
    soon: (ask) => pending.push(ask),
    send: (nack) => {
      const frame = decodeFrame(nack, 0, nack.length)
      if (!frame.ok) throw new Error(frame.reason)
      sent.push({ ranges: decodeNackFramesBody(frame.payload)!.ranges, length: nack.length })
    },
  })
  const stream = new Stream('00000001', '239.0.0.1', 5000, 'imu')
  const endTurn = () => {
    for (const ask of pending.splice(0)) ask()
  }
  return { clock, repair, stream, sent, endTurn }
}

/** A stream that has seen 0..99 but for `lost`. */
function seen(stream: Stream, lost: Set<number>, upTo = 100) {
  for (let s = 0; s < upTo; s++) if (!lost.has(s)) stream.tracker.observe(s)
  stream.bytes = 45 * stream.tracker.frames
}

describe('FrameRepair', () => {
  it('asks for all the gaps of one turn in one NACK, then only for what is still missing', () => {
    const { clock, repair, stream, sent, endTurn } = setup()
    seen(stream, new Set([10, 11, 50]))
    repair.gap(stream, 1, 'imu', 10, 2, '10.0.0.1', 5000)
    repair.gap(stream, 1, 'imu', 50, 1, '10.0.0.1', 5000)
    endTurn()
    expect(sent.map((n) => n.ranges)).toEqual([
      [
        [10, 2],
        [50, 1],
      ],
    ])
    stream.tracker.observe(11) // repaired
    clock.advance(FRAME_REPAIR_RETRY_MS)
    expect(sent.at(-1)!.ranges).toEqual([
      [10, 1],
      [50, 1],
    ])
    stream.tracker.observe(10)
    stream.tracker.observe(50)
    clock.advance(FRAME_REPAIR_RETRY_MS * 3)
    expect(sent).toHaveLength(2)
    expect(repair.stats()).toMatchObject({ framesAsked: 5, framesGivenUp: 0 })
  })

  it('asks again backing off (10, 20, 40, then every 80 ms), then gives up; the frames stay lost', () => {
    const { clock, repair, stream, sent, endTurn } = setup()
    seen(stream, new Set([20]))
    repair.gap(stream, 1, 'imu', 20, 1, '10.0.0.1', 5000)
    endTurn()
    clock.advance(frameRetryDelay(0))
    expect(sent).toHaveLength(2)
    clock.advance(frameRetryDelay(1) - 1)
    expect(sent).toHaveLength(2)
    clock.advance(1)
    expect(sent).toHaveLength(3)
    clock.advance(FRAME_REPAIR_HORIZON_MS + 100)
    expect(sent).toHaveLength(1 + FRAME_REPAIR_MAX_RETRIES)
    expect(repair.stats()).toMatchObject({ framesGivenUp: 1 })
    expect(stream.tracker.gaps).toBe(1)
  })

  it('pads each NACK to 1/16 of what it asks for, and asks for nothing without credit', () => {
    const { repair, stream, sent, endTurn } = setup()
    seen(stream, new Set())
    // a stranger-sized gap from an address that earned nothing
    repair.gap(stream, 1, 'imu', 1000, 500, '10.9.9.9', 5000)
    endTurn()
    expect(sent).toEqual([])
    expect(repair.stats().nacksSuppressed).toBe(1)
    const own = setup()
    seen(own.stream, new Set(), 100)
    own.repair.gap(own.stream, 1, 'imu', 100, 300, '10.0.0.1', 5000)
    own.endTurn()
    const frameBytes = 45 + 36 + 3 + 4
    // 300 frames do not fit what one 1,472-byte NACK earns: two NACKs, each padded for its part
    expect(own.sent).toHaveLength(2)
    const padded = own.sent.reduce((n, nack) => n + nack.length, 0)
    expect(padded).toBeGreaterThanOrEqual(Math.ceil((300 * frameBytes) / 16))
  })

  it('wants at most MAX_WANTED_FRAMES at once; the rest is counted, not asked for', () => {
    const { repair, stream, endTurn } = setup()
    seen(stream, new Set())
    repair.gap(stream, 1, 'imu', 100, 60_000, '10.0.0.1', 5000)
    for (let k = 0; k < 5; k++) repair.gap(stream, 1, 'imu', 100, 60_000, '10.0.0.1', 5000)
    endTurn()
    expect(repair.stats().framesNotAsked).toBe(6 * 60_000 - MAX_WANTED_FRAMES)
    repair.close()
  })
})

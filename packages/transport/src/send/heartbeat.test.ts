import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../test/fake-clock.js'
import { HEARTBEAT_MAX_MS, HEARTBEAT_MIN_MS, HeartbeatScheduler } from './heartbeat.js'

function setup() {
  const clock = new FakeClock()
  const beats: number[] = []
  const scheduler = new HeartbeatScheduler(
    { minMs: HEARTBEAT_MIN_MS, maxMs: HEARTBEAT_MAX_MS },
    () => beats.push(clock.now()),
    clock,
  )
  return { clock, beats, scheduler }
}

describe('HeartbeatScheduler', () => {
  it('beats nothing before the first frame', () => {
    const { clock, beats } = setup()
    clock.advance(10_000)
    expect(beats).toEqual([])
  })

  it('after the last frame: 10 ms, then at twice the quiet each time, then every second', () => {
    const { clock, beats, scheduler } = setup()
    scheduler.activity()
    clock.advance(5_000)
    expect(beats).toEqual([10, 20, 40, 80, 160, 320, 640, 1_000, 2_000, 3_000, 4_000, 5_000])
  })

  it('a frame starts the count again', () => {
    const { clock, beats, scheduler } = setup()
    scheduler.activity()
    clock.advance(100) // beats at 10, 20, 40, 80
    scheduler.activity()
    clock.advance(25)
    expect(beats).toEqual([10, 20, 40, 80, 110, 120])
  })

  it('a publisher that never goes quiet still beats every second', () => {
    const { clock, beats, scheduler } = setup()
    for (let t = 0; t < 3_500; t += 2) {
      scheduler.activity()
      clock.advance(2)
    }
    expect(beats).toEqual([1_000, 2_000, 3_000])
  })

  it('close() stops it', () => {
    const { clock, beats, scheduler } = setup()
    scheduler.activity()
    scheduler.close()
    clock.advance(5_000)
    expect(beats).toEqual([])
    expect(clock.pending).toBe(0)
  })
})

import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../test/fake-clock.js'
import { isTransportError } from '../errors.js'
import {
  BackPressure,
  FLOW_RECEIVER_TIMEOUT_MS,
  FlowControl,
  type FlowControlOptions,
  MAX_FLOW_RECEIVERS,
  MAX_FLOW_WINDOW_BYTES,
} from './flow-control.js'
import { SENT_LOG_BYTES, SentLog } from './sent-log.js'

function setup(options: FlowControlOptions = {}) {
  const clock = new FakeClock()
  return { clock, flow: new FlowControl({ clock, ...options }) }
}

describe('FlowControl', () => {
  it('waits for nothing with no receiver and no group', () => {
    const { flow } = setup()
    expect(flow.limit(1_000)).toBe(Number.POSITIVE_INFINITY)
    expect(flow.receivers()).toBe(0)
    expect(flow.nextChange()).toBeUndefined()
  })

  it("'min': the slowest receiver's consumed position plus its window", () => {
    const { flow } = setup()
    expect(flow.onStatus('r1@10.0.0.1:5000', 1_000, 500)).toBe(true)
    flow.onStatus('r2@10.0.0.2:5000', 2_000, 100)
    flow.onStatus('r3@10.0.0.3:5000', 800, 1_000)
    expect(flow.limit(3_000)).toBe(1_500)
    flow.onStatus('r1@10.0.0.1:5000', 1_400, 500) // r1 consumed on
    expect(flow.limit(3_000)).toBe(1_800)
    expect(flow.stats()).toMatchObject({ receivers: 3, added: 3, statuses: 4, refused: 0 })
  })

  it("'max': the fastest receiver's", () => {
    const { flow } = setup({ strategy: 'max' })
    flow.onStatus('r1', 1_000, 500)
    flow.onStatus('r2', 2_000, 100)
    flow.onStatus('r3', 800, 1_000)
    expect(flow.limit(3_000)).toBe(2_100)
    flow.onStatus('r3', 1_500, 1_000)
    expect(flow.limit(3_000)).toBe(2_500)
  })

  it('with a group size, holds everything back until the group is there', () => {
    const { flow } = setup({ groupSize: 2 })
    expect(flow.limit(700)).toBe(700)
    flow.onStatus('r1', 0, 10_000)
    expect(flow.limit(700)).toBe(700)
    flow.onStatus('r2', 0, 5_000)
    expect(flow.limit(700)).toBe(5_000)
  })

  it('a killed receiver holds the others back until it times out, then releases them', () => {
    const { clock, flow } = setup()
    flow.onStatus('alive', 0, 1_000)
    flow.onStatus('killed', 0, 1_000)
    let consumed = 0
    // The live receiver keeps consuming and reporting every 200 ms; the killed one never again.
    for (let t = 200; t < FLOW_RECEIVER_TIMEOUT_MS; t += 200) {
      clock.advance(200)
      consumed += 1_000
      flow.onStatus('alive', consumed, 1_000)
      expect(flow.limit(consumed)).toBe(1_000) // the killed receiver's limit
      expect(flow.nextChange()).toBe(FLOW_RECEIVER_TIMEOUT_MS)
    }
    clock.advance(FLOW_RECEIVER_TIMEOUT_MS - clock.now() - 1)
    expect(flow.receivers()).toBe(2)
    clock.advance(1)
    expect(flow.limit(consumed)).toBe(consumed + 1_000)
    expect(flow.stats()).toMatchObject({ receivers: 1, timedOut: 1 })
    expect(flow.nextChange()).toBe(1_800 + FLOW_RECEIVER_TIMEOUT_MS)
  })

  it('a receiver that leaves (LEAVING) stops holding the others back at once, counted apart from timeouts', () => {
    const { flow } = setup()
    flow.onStatus('slow@10.0.0.1:5000', 100, 100)
    flow.onStatus('fast@10.0.0.2:5000', 5_000, 1_000)
    expect(flow.limit(6_000)).toBe(200)
    expect(flow.leave('slow@10.0.0.1:5000')).toBe(true)
    expect(flow.limit(6_000)).toBe(6_000)
    // A name not tracked (a stranger's guess, or a second LEAVING) changes nothing.
    expect(flow.leave('slow@10.0.0.1:5000')).toBe(false)
    expect(flow.leave('fast@10.0.0.9:5000')).toBe(false)
    expect(flow.stats()).toMatchObject({ receivers: 1, left: 1, timedOut: 0 })
    // The last one leaving: no receiver, no limit.
    flow.leave('fast@10.0.0.2:5000')
    expect(flow.limit(6_000)).toBe(Number.POSITIVE_INFINITY)
    expect(flow.nextChange()).toBeUndefined()
  })

  it('the last receiver timing out: back to no limit, or to waiting for the group', () => {
    const { clock, flow } = setup({ receiverTimeoutMs: 100 })
    flow.onStatus('r', 0, 10)
    expect(flow.limit(50)).toBe(10)
    clock.advance(100)
    expect(flow.limit(50)).toBe(Number.POSITIVE_INFINITY)
    const group = setup({ receiverTimeoutMs: 100, groupSize: 1 })
    group.flow.onStatus('r', 0, 10)
    group.clock.advance(100)
    expect(group.flow.limit(50)).toBe(50)
  })

  it('a STATUS overtaken by a newer one never takes the limit back', () => {
    const { clock, flow } = setup()
    flow.onStatus('r', 1_000, 500)
    flow.onStatus('r', 800, 900) // older: sent before, arrived after
    expect(flow.limit(0)).toBe(1_500)
    flow.onStatus('r', 1_000, 200) // same position, newest window
    expect(flow.limit(0)).toBe(1_200)
    // The older STATUS still says the receiver is alive.
    clock.advance(FLOW_RECEIVER_TIMEOUT_MS - 1)
    flow.onStatus('r', 900, 100_000)
    clock.advance(FLOW_RECEIVER_TIMEOUT_MS - 1)
    expect(flow.limit(0)).toBe(1_200)
    expect(flow.stats().timedOut).toBe(0)
  })

  it('clamps a window too large to repair (4 GiB), and a negative or NaN one to nothing', () => {
    const { flow } = setup()
    expect(MAX_FLOW_WINDOW_BYTES).toBe(SENT_LOG_BYTES)
    flow.onStatus('greedy', 1_000, 4 * 1024 ** 3)
    expect(flow.limit(0)).toBe(1_000 + MAX_FLOW_WINDOW_BYTES)
    expect(flow.stats().clamped).toBe(1)
    const strict = setup({ maxWindowBytes: 10 })
    strict.flow.onStatus('r', 100, 11)
    expect(strict.flow.limit(0)).toBe(110)
    strict.flow.onStatus('r', 100, -5)
    expect(strict.flow.limit(0)).toBe(100)
    strict.flow.onStatus('r', 100, Number.NaN)
    expect(strict.flow.limit(0)).toBe(100)
  })

  it('ignores a consumed position that is not a finite number ≥ 0, counted', () => {
    const { flow } = setup()
    expect(flow.onStatus('r', Number.NaN, 10)).toBe(false)
    expect(flow.onStatus('r', -1, 10)).toBe(false)
    expect(flow.onStatus('r', Number.POSITIVE_INFINITY, 10)).toBe(false)
    expect(flow.stats()).toMatchObject({ invalid: 3, statuses: 3, receivers: 0 })
  })

  it('a full receiver table refuses newcomers, counted; a silent receiver makes room', () => {
    const { clock, flow } = setup()
    for (let k = 0; k < MAX_FLOW_RECEIVERS; k++) flow.onStatus(`r${k}`, 10_000, 1_000)
    clock.advance(FLOW_RECEIVER_TIMEOUT_MS / 2)
    for (let k = 1; k < MAX_FLOW_RECEIVERS; k++) flow.onStatus(`r${k}`, 10_000, 1_000)
    expect(flow.onStatus('stranger', 0, 0)).toBe(false)
    expect(flow.stats()).toMatchObject({ receivers: MAX_FLOW_RECEIVERS, refused: 1 })
    // The stranger was not let in: it holds nobody back.
    expect(flow.limit(0)).toBe(11_000)
    flow.onStatus('r0', 10_000, 1_000) // known: always taken
    clock.advance(FLOW_RECEIVER_TIMEOUT_MS / 2)
    expect(flow.onStatus('newcomer', 10_000, 1_000)).toBe(false)
    // r1… are silent since 1,000 ms, r0 since 1,000 too: all time out at 3,000.
    clock.advance(FLOW_RECEIVER_TIMEOUT_MS / 2)
    expect(flow.onStatus('newcomer', 10_000, 1_000)).toBe(true)
    expect(flow.stats()).toMatchObject({ receivers: 1, refused: 2, timedOut: MAX_FLOW_RECEIVERS })
  })

  it('a smaller table', () => {
    const { flow } = setup({ maxReceivers: 2 })
    flow.onStatus('a', 0, 1)
    flow.onStatus('b', 0, 1)
    expect(flow.onStatus('c', 0, 1)).toBe(false)
    expect(flow.stats().refused).toBe(1)
  })

  it('nextChange: the first receiver timeout, moved on as receivers are heard', () => {
    const { clock, flow } = setup({ receiverTimeoutMs: 1_000 })
    flow.onStatus('a', 0, 10)
    clock.advance(300)
    flow.onStatus('b', 0, 20)
    expect(flow.nextChange()).toBe(1_000)
    clock.advance(300)
    flow.onStatus('a', 0, 10) // a heard again at 600: b is first now
    expect(flow.nextChange()).toBe(1_300)
    clock.advance(700) // 1,300: b goes
    expect(flow.nextChange()).toBe(1_600)
    expect(flow.limit(0)).toBe(10)
    clock.advance(300)
    expect(flow.nextChange()).toBeUndefined()
    expect(flow.stats().timedOut).toBe(2)
  })

  it('refuses bad options, naming them', () => {
    const bad = [
      { strategy: 'avg' },
      { groupSize: -1 },
      { groupSize: 1.5 },
      { groupSize: MAX_FLOW_RECEIVERS + 1 },
      { receiverTimeoutMs: 0 },
      { maxReceivers: 0 },
      { maxWindowBytes: Number.POSITIVE_INFINITY },
    ] as FlowControlOptions[]
    for (const options of bad) {
      const error = (() => {
        try {
          new FlowControl(options)
        } catch (caught) {
          return caught
        }
      })()
      expect(isTransportError(error, 'SHOAL_BAD_OPTION')).toBe(true)
      expect((error as Error).message).toMatch(new RegExp(Object.keys(options)[0]!, 'i'))
    }
  })

  it('drives a publisher with a sent log: never past the limit, resumes when a dead receiver goes', () => {
    const clock = new FakeClock()
    const log = new SentLog({ clock })
    const topic = log.stream('t')
    const flow = new FlowControl({ clock })
    const pressure = new BackPressure(clock)
    const datagramBytes = 1_000
    const window = 10 * datagramBytes
    let sequence = 0
    /** Sends what the limit allows; returns how many went out. */
    const pump = () => {
      let sent = 0
      for (;;) {
        if (log.position + datagramBytes > flow.limit(log.position)) {
          pressure.begin()
          return sent
        }
        pressure.end()
        log.note(topic, sequence, sequence, log.append(new Uint8Array(datagramBytes)))
        sequence = (sequence + 1) >>> 0
        sent++
        if (sent > 1_000) throw new Error('no limit')
      }
    }
    /** A receiver that has consumed everything before `next` reports. */
    const status = (name: string, next: number) =>
      flow.onStatus(name, log.positionOf(topic, next) ?? log.start, window)

    status('fast', 0)
    status('dead', 0)
    expect(pump()).toBe(10)
    expect(log.position).toBe(window)
    // The fast receiver consumes everything, every 200 ms; the dead one never reports again.
    for (let t = 0; t < 9; t++) {
      clock.advance(200)
      status('fast', sequence)
      expect(pump()).toBe(0)
    }
    expect(pressure.waiting).toBe(true)
    const wake = flow.nextChange()!
    expect(wake).toBe(FLOW_RECEIVER_TIMEOUT_MS)
    clock.advance(wake - clock.now())
    expect(pump()).toBe(10)
    expect(log.position).toBe(2 * window)
    expect(pressure.stats()).toMatchObject({ episodes: 2, totalMs: FLOW_RECEIVER_TIMEOUT_MS, waiting: true })
  })
})

describe('BackPressure', () => {
  it('counts episodes and the time spent waiting', () => {
    const clock = new FakeClock()
    const pressure = new BackPressure(clock)
    expect(pressure.stats()).toEqual({ episodes: 0, totalMs: 0, longestMs: 0, waiting: false })
    pressure.begin()
    clock.advance(30)
    pressure.begin() // still the same wait
    clock.advance(20)
    expect(pressure.stats()).toEqual({ episodes: 1, totalMs: 50, longestMs: 50, waiting: true })
    pressure.end()
    pressure.end() // nothing to end
    clock.advance(100)
    pressure.begin()
    clock.advance(10)
    pressure.end()
    expect(pressure.stats()).toEqual({ episodes: 2, totalMs: 60, longestMs: 50, waiting: false })
  })

  it('takes explicit times, and a time before the start counts as none', () => {
    const pressure = new BackPressure()
    pressure.begin(1_000)
    pressure.end(990)
    pressure.begin(2_000)
    expect(pressure.stats(2_500)).toMatchObject({ episodes: 2, totalMs: 500, longestMs: 500 })
  })
})

/** The policy with a fake clock: times are plain numbers (ms) handed to offer(). */
import { describe, expect, it } from 'vitest'
import { type InFrame, MAX_HELD_BYTES, MAX_TOPICS, ThrottlePolicy, TOPIC_IDLE_MS } from './policy.js'
import { type Rule, ruleValue } from './rules.js'

const rule = (kind: 'rate' | 'latest', text: string) => ruleValue(kind).parse(text) as Rule
const frame = (topic: string, n = 0, bytes = 4): InFrame => ({
  topic,
  fingerprint: 7,
  payload: new Uint8Array(bytes).fill(n),
})

describe('--rate', () => {
  it('lets the first frame of each 1/HZ window through and drops the rest as rate', () => {
    const policy = new ThrottlePolicy([rule('rate', 'imu=10')], 'pass')
    // 100 Hz for one second (10 ms apart) → 10 windows of 100 ms
    const out = [...Array(100).keys()].filter((i) => policy.offer(frame('imu', i), i * 10) !== undefined)
    expect(out).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90])
    expect(policy.stats().dropped.rate).toBe(90)
  })

  it('passes everything slower than the rate, and throttles each matched topic on its own', () => {
    const policy = new ThrottlePolicy([rule('rate', 'sensors/*=2')], 'pass')
    let passed = 0
    for (let t = 0; t < 5_000; t += 100) {
      if (policy.offer(frame('sensors/a'), t)) passed++
      if (policy.offer(frame('sensors/b'), t)) passed++
    }
    expect(passed).toBe(2 * 10) // 2 Hz × 5 s, per topic
    const slow = new ThrottlePolicy([rule('rate', 'gps=2')], 'pass')
    for (let t = 0; t < 5_000; t += 600) expect(slow.offer(frame('gps'), t)).toBeDefined()
  })

  it('does not let a frame through twice in a window when the clock jitters', () => {
    const policy = new ThrottlePolicy([rule('rate', 'imu=1')], 'pass')
    const times = [0, 999, 1_000, 1_001, 1_999.9, 2_000, 5_500, 5_999]
    expect(times.map((t) => policy.offer(frame('imu'), t) !== undefined)).toEqual([
      true,
      false,
      true,
      false,
      false,
      true,
      true,
      false,
    ])
  })
})

describe('--latest', () => {
  it('holds the newest frame and publishes it at the tick; the ones it replaced are superseded', () => {
    const latest = rule('latest', 'camera=2')
    const policy = new ThrottlePolicy([latest], 'pass')
    for (let i = 0; i < 5; i++) expect(policy.offer(frame('camera', i), i)).toBeUndefined()
    expect(policy.stats()).toMatchObject({ heldFrames: 1, heldBytes: 4, dropped: { superseded: 4 } })
    expect(policy.tick(latest).map((f) => f.payload[0])).toEqual([4])
    expect(policy.tick(latest)).toEqual([]) // nothing new since
    expect(policy.stats()).toMatchObject({ heldFrames: 0, heldBytes: 0 })
  })

  it('publishes one frame per matched topic per tick, and only its own rule’s topics', () => {
    const cams = rule('latest', 'cam/*=1')
    const gps = rule('latest', 'gps=5')
    const policy = new ThrottlePolicy([cams, gps], 'pass')
    policy.offer(frame('cam/front', 1), 0)
    policy.offer(frame('cam/rear', 2), 0)
    policy.offer(frame('cam/front', 3), 1)
    policy.offer(frame('gps', 9), 1)
    expect(
      policy
        .tick(cams)
        .map((f) => `${f.topic}:${f.payload[0]}`)
        .sort(),
    ).toEqual(['cam/front:3', 'cam/rear:2'])
    expect(policy.tick(gps).map((f) => f.payload[0])).toEqual([9])
  })

  it('drops a frame that would take held bytes past MAX_HELD_BYTES (memory), and held ones at stop', () => {
    const latest = rule('latest', '*')
    const policy = new ThrottlePolicy([latest], 'pass')
    const half = MAX_HELD_BYTES / 2
    policy.offer(frame('a', 1, half), 0)
    policy.offer(frame('b', 1, half), 0)
    policy.offer(frame('c', 1, 1), 0)
    // replacing a held frame by one of the same size fits
    policy.offer(frame('a', 2, half), 0)
    expect(policy.stats()).toMatchObject({ heldBytes: MAX_HELD_BYTES, dropped: { memory: 1, superseded: 1 } })
    policy.stop()
    expect(policy.stats()).toMatchObject({ heldFrames: 0, heldBytes: 0, dropped: { stopped: 2 } })
    expect(policy.tick(latest)).toEqual([])
  })

  it('holds a frame’s own bytes, not the datagram its payload is a view of (MAX_HELD_BYTES is what is kept)', () => {
    const latest = rule('latest', '*')
    const policy = new ThrottlePolicy([latest], 'pass')
    // As a subscriber hands it: a 1-byte payload in a 60 KB datagram (a stranger's header extension).
    const datagram = new Uint8Array(60_000)
    datagram[59_995] = 9
    const received = { topic: 'a', fingerprint: 7, payload: datagram.subarray(59_995, 59_996), source: {} }
    policy.offer(received, 0)
    expect(policy.stats().heldBytes).toBe(1)
    const [out] = policy.tick(latest)
    expect(out?.payload.buffer.byteLength).toBe(1)
    expect([...(out?.payload ?? [])]).toEqual([9])
    expect(out).toEqual({ topic: 'a', fingerprint: 7, payload: new Uint8Array([9]) })
    // a payload that is its whole buffer is held as it is (no copy)
    const whole = frame('b', 3, 16)
    policy.offer(whole, 1)
    expect(policy.tick(latest)[0]?.payload).toBe(whole.payload)
  })
})

describe('topics no rule matches, and the topic table', () => {
  it('passes or drops unmatched topics as --unmatched says, tracking none of them', () => {
    const rules = [rule('rate', 'imu=1')]
    const pass = new ThrottlePolicy(rules, 'pass')
    const drop = new ThrottlePolicy(rules, 'drop')
    for (let i = 0; i < 10; i++) {
      expect(pass.offer(frame(`other/${i}`), i)).toBeDefined()
      expect(drop.offer(frame(`other/${i}`), i)).toBeUndefined()
    }
    expect(pass.stats()).toMatchObject({ topics: 0, dropped: { unmatched: 0 } })
    expect(drop.stats()).toMatchObject({ topics: 0, dropped: { unmatched: 10 } })
  })

  it('tracks at most MAX_TOPICS topics, letting the least recently heard go (its held frame counted as evicted)', () => {
    const latest = rule('latest', '*')
    const policy = new ThrottlePolicy([latest], 'pass')
    for (let i = 0; i <= MAX_TOPICS; i++) policy.offer(frame(`t/${i}`), i)
    expect(policy.stats()).toMatchObject({
      topics: MAX_TOPICS,
      evictions: 1,
      heldFrames: MAX_TOPICS,
      dropped: { evicted: 1 },
    })
    expect(policy.tick(latest).some((f) => f.topic === 't/0')).toBe(false)
  })

  it('forgets topics idle for TOPIC_IDLE_MS', () => {
    const policy = new ThrottlePolicy([rule('rate', '*=1')], 'pass')
    policy.offer(frame('old'), 0)
    policy.offer(frame('new'), TOPIC_IDLE_MS)
    policy.sweep(TOPIC_IDLE_MS + 1)
    expect(policy.stats().topics).toBe(1)
  })
})

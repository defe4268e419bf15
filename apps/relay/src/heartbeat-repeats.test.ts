import { compileTopicFilter } from '@shoal/transport'
import {
  decodeFrame,
  decodeHeartbeatBody,
  encodeControlFrame,
  Flag,
  FrameKind,
  Offset,
  writeCrc,
} from '@shoal/transport/wire'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Forwarder, type ForwarderOutput } from './forwarder.js'
import {
  HEARTBEAT_REPEAT_FIRST_MS,
  HEARTBEAT_REPEATS,
  HeartbeatRepeats,
  MAX_HEARTBEAT_REPEATS_PER_SECOND,
  MAX_REPEATED_SESSIONS,
} from './heartbeat-repeats.js'
import { LoopGuard } from './loop-guard.js'

const UPSTREAM = { address: '10.77.1.2', port: 50000 }

/** A heartbeat of `session` (counter `counter`) listing imu up to `last`. */
function heartbeat(session: number, counter: number, last: number, flags = 0) {
  const topic = new TextEncoder().encode('imu')
  const payload = new Uint8Array([topic.length, ...topic, 0, 0, 0, 0])
  new DataView(payload.buffer).setUint32(1 + topic.length, last)
  const data = encodeControlFrame(
    FrameKind.HEARTBEAT,
    { sessionId: session, sequence: counter, topic: '*' },
    payload,
  )
  const decoded = decodeFrame(data)
  if (!decoded.ok) throw new Error(decoded.reason)
  if (flags !== 0) {
    // Only the flags: what a keyless relay's input hands on of a sealed heartbeat, as far as the
    // forwarder reads it (the seal fields are the receiver's to check).
    decoded.header.flags |= flags
    data[Offset.FLAGS] = decoded.header.flags >> 8
    data[Offset.FLAGS + 1] = decoded.header.flags & 0xff
    writeCrc(data, 0, data.length)
  }
  return { header: decoded.header, data, from: UPSTREAM }
}

/** The delays of every repeat, one after the other: 20, 40, 80, 160, 320 ms. */
const DELAYS = Array.from({ length: HEARTBEAT_REPEATS }, (_, i) => HEARTBEAT_REPEAT_FIRST_MS << i)
const ALL_REPEATS_MS = DELAYS.reduce((a, b) => a + b, 0)

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('HeartbeatRepeats', () => {
  function repeats() {
    const sent: { data: Uint8Array; hops: number }[] = []
    const r = new HeartbeatRepeats(
      (data, hops) => sent.push({ data, hops }),
      1_472,
      () => Date.now(),
    )
    return { r, sent }
  }

  it('sends a heartbeat again at 20, 40, 80, 160 and 320 ms after the one before, then stops', () => {
    const { r, sent } = repeats()
    const data = heartbeat(7, 3, 99).data
    r.remember(7, data, 2)
    for (const [i, delay] of DELAYS.entries()) {
      vi.advanceTimersByTime(delay - 1)
      expect(sent.length).toBe(i)
      vi.advanceTimersByTime(1)
      expect(sent.length).toBe(i + 1)
    }
    vi.advanceTimersByTime(10_000)
    expect(sent.length).toBe(HEARTBEAT_REPEATS)
    expect(r.size).toBe(0)
    expect(r.counters).toEqual({ repeated: HEARTBEAT_REPEATS, limited: 0, evicted: 0 })
    for (const s of sent) {
      expect(s.hops).toBe(2)
      expect(s.data).toEqual(data)
      expect(s.data).not.toBe(data) // a copy each: outputs write into what they are given
    }
  })

  it('a newer heartbeat of the session replaces the held one and starts over', () => {
    const { r, sent } = repeats()
    r.remember(7, heartbeat(7, 1, 10).data, 1)
    vi.advanceTimersByTime(DELAYS[0]! + DELAYS[1]!) // two repeats of the first
    const newer = heartbeat(7, 2, 20).data
    r.remember(7, newer, 1)
    vi.advanceTimersByTime(ALL_REPEATS_MS)
    expect(sent.length).toBe(2 + HEARTBEAT_REPEATS)
    for (const s of sent.slice(2)) expect(s.data).toEqual(newer)
  })

  it("raises each entry to the last sequence forwarded, and repeats only once the session's frames stop", () => {
    const { r, sent } = repeats()
    r.remember(7, heartbeat(7, 3, 10).data, 1) // the publisher's newest heartbeat says imu 10
    // Frames forwarded after it, every 10 ms for 100 ms: busy, so nothing is repeated meanwhile.
    for (let i = 11; i <= 20; i++) {
      r.forwarded(7, 'imu', i)
      vi.advanceTimersByTime(10)
    }
    r.forwarded(7, 'gps', 4)
    r.forwarded(7, 'imu', 12) // an older one (a repair) takes nothing back
    expect(sent).toEqual([])
    vi.advanceTimersByTime(ALL_REPEATS_MS)
    expect(sent.length).toBe(HEARTBEAT_REPEATS)
    const frame = decodeFrame(sent[0]!.data)
    if (!frame.ok) throw new Error(frame.reason)
    expect(frame.header).toMatchObject({ sessionId: 7, sequence: 3 })
    expect(decodeHeartbeatBody(frame.payload)).toEqual([
      { topic: 'imu', sequence: 20 },
      { topic: 'gps', sequence: 4 },
    ])
  })

  it('frames of a publisher whose heartbeat never came keep no state and make no heartbeat', () => {
    const { r, sent } = repeats()
    for (let session = 0; session < 10_000; session++) r.forwarded(session, 'imu', 5)
    expect(r.size).toBe(0)
    vi.advanceTimersByTime(ALL_REPEATS_MS)
    expect(sent).toEqual([])
  })

  it('holds at most MAX_REPEATED_SESSIONS sessions: the least recently heard go first, counted', () => {
    const { r, sent } = repeats()
    const extra = 10
    for (let s = 0; s < MAX_REPEATED_SESSIONS + extra; s++) r.remember(s, heartbeat(s, 0, 1).data, 1)
    expect(r.size).toBe(MAX_REPEATED_SESSIONS)
    expect(r.counters.evicted).toBe(extra)
    vi.advanceTimersByTime(DELAYS[0]!)
    const sessions = sent.map((s) => {
      const decoded = decodeFrame(s.data)
      return decoded.ok ? decoded.header.sessionId : -1
    })
    // The first `extra` sessions were forgotten; the others' first repeats went (up to the rate cap).
    expect(Math.min(...sessions)).toBe(extra)
    expect(sent.length + r.counters.limited).toBe(MAX_REPEATED_SESSIONS)
  })

  it('a stranger flooding heartbeats gets at most MAX_HEARTBEAT_REPEATS_PER_SECOND repeats a second', () => {
    const { r, sent } = repeats()
    // A heartbeat for each of the most sessions held: 5 repeats each within 620 ms, uncapped.
    const flood = () => {
      for (let s = 0; s < MAX_REPEATED_SESSIONS; s++) r.remember(s, heartbeat(s, 0, 1).data, 1)
      vi.advanceTimersByTime(ALL_REPEATS_MS)
    }
    flood()
    expect(sent.length).toBe(MAX_HEARTBEAT_REPEATS_PER_SECOND)
    expect(r.counters.repeated + r.counters.limited).toBe(MAX_REPEATED_SESSIONS * HEARTBEAT_REPEATS)
    // The next second has its own allowance.
    vi.advanceTimersByTime(1_000)
    flood()
    expect(sent.length).toBe(2 * MAX_HEARTBEAT_REPEATS_PER_SECOND)
  })

  it('sends nothing after close', () => {
    const { r, sent } = repeats()
    r.remember(7, heartbeat(7, 1, 10).data, 1)
    r.close()
    r.remember(8, heartbeat(8, 1, 10).data, 1)
    vi.advanceTimersByTime(ALL_REPEATS_MS)
    expect(sent).toEqual([])
  })
})

describe('Forwarder: heartbeats repeated on the outputs', () => {
  class Output implements ForwarderOutput {
    readonly spec = 'multicast://239.255.42.1:7400'
    readonly accepts = compileTopicFilter([])
    readonly budget = 1_472
    readonly got: { sequence: number; hops: number; foreign: boolean }[] = []
    async forward(frame: Uint8Array, hops: number, foreign: boolean) {
      // Read, not decoded: a sealed heartbeat's seal fields are left out here.
      const sequence = new DataView(frame.buffer, frame.byteOffset).getUint32(Offset.SEQUENCE)
      this.got.push({ sequence, hops, foreign })
    }
  }
  function relay() {
    const output = new Output()
    const input = {
      spec: 'multicast://239.255.41.1:7400',
      accepts: compileTopicFilter([]),
      reply: async () => {},
    }
    return {
      output,
      forwarder: new Forwarder([input], [output], new LoopGuard({ maxHops: 8, localAddresses: [] })),
    }
  }

  it("repeats a stream's own sender's heartbeat, with the hop count it was forwarded with", () => {
    const { output, forwarder } = relay()
    forwarder.datagram(0, heartbeat(7, 4, 99))
    vi.advanceTimersByTime(ALL_REPEATS_MS)
    expect(output.got).toEqual(Array(1 + HEARTBEAT_REPEATS).fill({ sequence: 4, hops: 1, foreign: false }))
    expect(forwarder.counters().heartbeats).toMatchObject({
      received: 1,
      forwarded: 1,
      repeated: HEARTBEAT_REPEATS,
      repeatLimited: 0,
    })
    forwarder.close()
  })

  it("never repeats a stranger's heartbeat (foreign) nor one sealed as it passes (keyless relay)", () => {
    const { output, forwarder } = relay()
    forwarder.datagram(0, { ...heartbeat(7, 4, 99), foreign: true })
    forwarder.datagram(0, heartbeat(8, 4, 99, Flag.AUTHENTICATED))
    vi.advanceTimersByTime(ALL_REPEATS_MS)
    expect(output.got.length).toBe(2) // each forwarded once
    expect(forwarder.counters().heartbeats.repeated).toBe(0)
  })

  it('stops repeating on close', () => {
    const { output, forwarder } = relay()
    forwarder.datagram(0, heartbeat(7, 4, 99))
    forwarder.close()
    vi.advanceTimersByTime(ALL_REPEATS_MS)
    expect(output.got.length).toBe(1)
  })
})

import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../test/fake-clock.js'
import { Stream } from '../stream.js'
import { Flag } from '../wire/constants.js'
import { decodeFrame } from '../wire/frame.js'
import type { FrameHeader } from '../wire/header.js'
import { decodeStatusBody, type StatusBody } from '../wire/status.js'
import {
  MAX_STATUS_SESSIONS,
  STATUS_AFTER_DATAGRAMS,
  STATUS_GIVE_UP_MS,
  STATUS_INTERVAL_MS,
  STATUS_KEEPALIVE_MS,
  STATUS_SESSION_IDLE_MS,
  StatusSender,
} from './status-sender.js'

function setup(window = 4_000, partial: ReadonlySet<number> = new Set()) {
  const clock = new FakeClock()
  const sent: StatusBody[] = []
  const status = new StatusSender({
    receiverSession: 9,
    budget: 1_472,
    windowBytes: () => window,
    partialBytes: (_session, sequence) => (partial.has(sequence) ? 1_400 : 0),
    firstFragments: true,
    clock,
    send: (datagram) => {
      const frame = decodeFrame(datagram, 0, datagram.length)
      if (!frame.ok) throw new Error(frame.reason)
      sent.push(decodeStatusBody(frame.payload)!)
    },
  })
  const stream = new Stream('00000001', '10.0.0.1:5000', 5000, 'imu')
  /** Frame `s` of the stream arrives, 100 bytes. */
  const arrive = (s: number) => {
    stream.datagrams++
    stream.tracker.observe(s, clock.now())
    status.heard(stream, 1, s, '10.0.0.1', 5000, 100, clock.now())
  }
  return { clock, status, stream, sent, arrive }
}

/** A sender's options but `send`: a window of 4,000 bytes, nothing in fragments. */
const fixedWindow = (clock: FakeClock) => ({
  receiverSession: 9,
  budget: 1_472,
  windowBytes: () => 4_000,
  partialBytes: () => 0,
  clock,
})

describe('StatusSender', () => {
  it('leave(): one last STATUS flagged LEAVING to each publisher reported on, then nothing more', () => {
    const clock = new FakeClock()
    const out: { header: FrameHeader; body: StatusBody; to: string }[] = []
    const status = new StatusSender({
      ...fixedWindow(clock),
      send: (datagram, to) => {
        const frame = decodeFrame(datagram, 0, datagram.length)
        if (!frame.ok) throw new Error(frame.reason)
        out.push({
          header: frame.header,
          body: decodeStatusBody(frame.payload)!,
          to: `${to.address}:${to.port}`,
        })
      },
    })
    for (const [session, address] of [
      [1, '10.0.0.1'],
      [2, '10.0.0.2'],
    ] as const) {
      const stream = new Stream(session.toString(16).padStart(8, '0'), `${address}:5000`, 5000, 'imu')
      for (let s = 0; s < STATUS_AFTER_DATAGRAMS + 1; s++) {
        stream.datagrams++
        stream.tracker.observe(s, clock.now())
        status.heard(stream, session, s, address, 5000, 100, clock.now())
      }
    }
    // A third publisher only heard by its heartbeat (answered with an announcement), and a fourth
    // heard so long ago that it has let this receiver go already.
    status.heartbeat(4, '10.0.0.4', 5000, 41, clock.now() - STATUS_SESSION_IDLE_MS)
    status.heartbeat(3, '10.0.0.3', 5000, 41, clock.now())
    out.length = 0
    expect(status.leave()).toBe(3)
    expect(out.map((o) => [o.header.sessionId, o.to])).toEqual([
      [1, '10.0.0.1:5000'],
      [2, '10.0.0.2:5000'],
      [3, '10.0.0.3:5000'],
    ])
    for (const { header, body } of out) {
      expect(header.flags & Flag.LEAVING).toBe(Flag.LEAVING)
      expect(body).toEqual({ receiverSession: 9, windowBytes: 0, entries: [] })
    }
    clock.advance(STATUS_KEEPALIVE_MS * 3)
    expect(out.length).toBe(3) // closed: no keepalive after it
  })

  it('leave(): publishers only answered are remembered at most MAX_STATUS_SESSIONS, the newest kept', () => {
    const clock = new FakeClock()
    const to: number[] = []
    const status = new StatusSender({
      ...fixedWindow(clock),
      send: (datagram) => {
        const frame = decodeFrame(datagram, 0, datagram.length)
        if (frame.ok && frame.header.flags & Flag.LEAVING) to.push(frame.header.sessionId)
      },
    })
    // A stranger's heartbeats from made-up publishers, each answered with an announcement.
    for (let session = 0; session < 10_000; session++)
      status.heartbeat(session, '10.0.0.66', 5000, 41, clock.now())
    expect(status.leave()).toBe(MAX_STATUS_SESSIONS)
    expect(to).toEqual(
      Array.from({ length: MAX_STATUS_SESSIONS }, (_, i) => 10_000 - MAX_STATUS_SESSIONS + i),
    )
  })

  it('says nothing about a stream of fewer than STATUS_AFTER_DATAGRAMS datagrams (one forged datagram makes no STATUS)', () => {
    const { clock, sent, arrive } = setup()
    for (let s = 0; s < STATUS_AFTER_DATAGRAMS - 1; s++) arrive(s)
    clock.advance(STATUS_KEEPALIVE_MS * 3)
    expect(sent).toEqual([])
  })

  it('reports once a quarter of the window arrived, with the next sequence not consumed', () => {
    const { sent, arrive } = setup(4_000)
    for (let s = 0; s < 14; s++) arrive(s)
    // 10 frames of 100 bytes after the stream counted: a quarter of 4,000 bytes
    expect(sent.length).toBeGreaterThanOrEqual(1)
    expect(sent.at(-1)).toMatchObject({ receiverSession: 9, windowBytes: 4_000 })
    expect(sent.at(-1)!.entries[0]!.topic).toBe('imu')
    expect(sent.at(-1)!.entries[0]!.sequence).toBeGreaterThan(0)
  })

  it('a missing frame of a repairable stream holds the position for STATUS_GIVE_UP_MS, then is given up', () => {
    const { clock, stream, sent, arrive } = setup(1_000_000)
    stream.repairing = true
    for (let s = 0; s < 10; s++) if (s !== 5) arrive(s)
    clock.advance(STATUS_INTERVAL_MS)
    expect(sent.at(-1)!.entries[0]!.sequence).toBe(5)
    clock.advance(STATUS_GIVE_UP_MS)
    arrive(10)
    clock.advance(STATUS_INTERVAL_MS)
    expect(sent.at(-1)!.entries[0]!.sequence).toBe(11)
  })

  it('a message still in fragments holds the position like a missing one (a relay tracks it by its first fragment)', () => {
    const partial = new Set([5])
    const { clock, stream, sent, arrive } = setup(1_000_000, partial)
    stream.repairing = true
    for (let s = 0; s < 10; s++) arrive(s) // frame 5's first fragment counts as arrived
    clock.advance(STATUS_INTERVAL_MS)
    expect(sent.at(-1)!.entries[0]!.sequence).toBe(5)
    // Its bytes are out of the receive buffer: added to the window.
    expect(sent.at(-1)!.windowBytes).toBe(1_001_400)
    partial.delete(5) // completed
    arrive(10)
    clock.advance(STATUS_INTERVAL_MS)
    expect(sent.at(-1)!.entries[0]!.sequence).toBe(11)
  })

  /** A sender whose window the test moves, the length of each datagram it sends, one stream. */
  function movingWindow() {
    const clock = new FakeClock()
    const state = { window: 100_000 }
    const lengths: number[] = []
    /** The topics each status listed. */
    const listed: string[][] = []
    const status = new StatusSender({
      ...fixedWindow(clock),
      windowBytes: () => state.window,
      send: (datagram) => {
        lengths.push(datagram.length)
        const frame = decodeFrame(datagram, 0, datagram.length)
        if (!frame.ok) throw new Error(frame.reason)
        listed.push(decodeStatusBody(frame.payload)!.entries.map((e) => e.topic))
      },
    })
    const stream = new Stream('00000001', '10.0.0.1:5000', 5000, 'imu')
    const arrive = (s: number, bytes: number) => {
      stream.datagrams++
      stream.tracker.observe(s, clock.now())
      status.heard(stream, 1, s, '10.0.0.1', 5000, bytes, clock.now())
    }
    return { clock, state, lengths, listed, arrive, status, stream }
  }

  const sum = (lengths: readonly number[]) => lengths.reduce((a, b) => a + b, 0)

  it('however often the window moves, a publisher gets no more STATUS bytes than it sent, and one status', () => {
    const { clock, state, lengths, arrive } = movingWindow()
    // A stranger's fewest, smallest frames that get a status: 4 of 40 bytes.
    for (let s = 0; s < STATUS_AFTER_DATAGRAMS; s++) arrive(s, 40)
    // The application's queue moves the window at every tick, for as long as the session is kept.
    for (let t = 0; t < STATUS_SESSION_IDLE_MS; t += STATUS_INTERVAL_MS) {
      state.window++
      clock.advance(STATUS_INTERVAL_MS)
    }
    expect(lengths.length).toBeGreaterThan(0)
    expect(sum(lengths)).toBeLessThanOrEqual(STATUS_AFTER_DATAGRAMS * 40 + Math.max(...lengths))
  })

  it('a publisher held back and quiet hears at once that the window opened', () => {
    const { clock, state, lengths, arrive } = movingWindow()
    state.window = 0 // the application's queue is full
    for (let s = 0; s < 20; s++) arrive(s, 1_000)
    clock.advance(STATUS_INTERVAL_MS)
    const before = lengths.length
    // The application drains its queue bit by bit; the publisher sends nothing meanwhile.
    for (let step = 1; step <= 10; step++) {
      state.window = step * 1_000
      clock.advance(STATUS_INTERVAL_MS)
      expect(lengths.length).toBe(before + step)
    }
  })

  it('answers to heartbeats are paid from the credit too: a heartbeat buys no more than its size', () => {
    const { clock, lengths, arrive, status } = movingWindow()
    for (let s = 0; s < STATUS_AFTER_DATAGRAMS; s++) arrive(s, 40)
    // 100 heartbeats of 20 bytes (shorter than a status), nothing else.
    for (let i = 0; i < 100; i++) {
      status.heartbeat(1, '10.0.0.1', 5000, 20, clock.now())
      clock.advance(STATUS_INTERVAL_MS)
    }
    expect(lengths.length).toBeGreaterThan(2)
    expect(sum(lengths)).toBeLessThanOrEqual(STATUS_AFTER_DATAGRAMS * 40 + 100 * 20 + Math.max(...lengths))
  })

  it("a stranger's streams in a publisher's session are not the publisher's: its statuses list its own", () => {
    const { clock, listed, arrive, status } = movingWindow()
    for (let s = 0; s < STATUS_AFTER_DATAGRAMS; s++) arrive(s, 100)
    // The same session id, another topic, from another address: a stranger's.
    const forged = new Stream('00000001', '10.0.0.66:5000', 5000, 'padding')
    for (let s = 0; s < STATUS_AFTER_DATAGRAMS * 2; s++) {
      forged.datagrams++
      forged.tracker.observe(s, clock.now())
      status.heard(forged, 1, s, '10.0.0.66', 5000, 100, clock.now())
    }
    arrive(STATUS_AFTER_DATAGRAMS, 100)
    clock.advance(STATUS_KEEPALIVE_MS)
    expect(forged.status).toBeUndefined()
    expect(listed.length).toBeGreaterThan(0)
    expect(new Set(listed.flat())).toEqual(new Set(['imu']))
  })

  it("a stream the table let go leaves its publisher's statuses; a session let go idle is reported on again", () => {
    const { clock, lengths, listed, arrive, status, stream } = movingWindow()
    for (let s = 0; s < STATUS_AFTER_DATAGRAMS; s++) arrive(s, 100)
    const gps = new Stream('00000001', '10.0.0.1:5000', 5000, 'gps')
    for (let s = 0; s < STATUS_AFTER_DATAGRAMS; s++) {
      gps.datagrams++
      gps.tracker.observe(s, clock.now())
      status.heard(gps, 1, s, '10.0.0.1', 5000, 100, clock.now())
    }
    clock.advance(STATUS_INTERVAL_MS)
    expect(listed.at(-1)).toEqual(['imu', 'gps'])
    expect(stream.status).toBeDefined()
    status.forget(stream)
    expect(stream.status).toBeUndefined()
    status.heartbeat(1, '10.0.0.1', 5000, 100, clock.now())
    expect(listed.at(-1)).toEqual(['gps'])
    // Heard again: a stream of the table again (as a new one would be), reported on.
    arrive(STATUS_AFTER_DATAGRAMS, 100)
    expect(stream.status).toBeDefined()
    // Quiet past the idle time: the session goes; the next frames are reported on, in a new one.
    clock.advance(STATUS_SESSION_IDLE_MS + STATUS_INTERVAL_MS)
    const before = lengths.length
    arrive(STATUS_AFTER_DATAGRAMS + 1, 100)
    clock.advance(STATUS_INTERVAL_MS)
    expect(lengths.length).toBeGreaterThan(before)
  })

  it('sends keepalives only while frames arrive; a quiet publisher gets none', () => {
    const { clock, sent, arrive } = setup(1_000_000)
    for (let s = 0; s < 6; s++) arrive(s)
    clock.advance(STATUS_INTERVAL_MS)
    const before = sent.length
    clock.advance(STATUS_KEEPALIVE_MS * 4)
    expect(sent.length).toBe(before)
    arrive(6)
    clock.advance(STATUS_INTERVAL_MS)
    expect(sent.length).toBe(before + 1)
  })
})

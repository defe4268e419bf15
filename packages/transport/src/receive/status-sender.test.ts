import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../test/fake-clock.js'
import { Stream } from '../stats.js'
import { decodeFrame } from '../wire/frame.js'
import { decodeStatusBody, type StatusBody } from '../wire/status.js'
import {
  STATUS_AFTER_DATAGRAMS,
  STATUS_GIVE_UP_MS,
  STATUS_INTERVAL_MS,
  STATUS_KEEPALIVE_MS,
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

describe('StatusSender', () => {
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

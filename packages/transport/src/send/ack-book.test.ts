import { describe, expect, it } from 'vitest'
import type { FrameHeader } from '../wire/header.js'
import { AckBook, MAX_ACK_RECEIVERS, parseExpected, RECEIVER_IDLE_MS, RECEIVER_REPIN_MS } from './ack-book.js'

const about = (sequence: number) => ({ topic: 'imu', sequence, sessionId: 1 }) as FrameHeader
const ack = (receiver: string, receiverSession = 1) => ({ receiver, receiverSession })

describe('AckBook', () => {
  it('counts an ACK only for a frame that asked for acks', async () => {
    const book = new AckBook(() => 0)
    expect(book.receive(about(0), ack('rx-1'), '10.0.0.2', 7400)).toBe('ack-unrequested')
    book.expect('imu', 0)
    expect(book.receive(about(0), ack('rx-1'), '10.0.0.2', 7400)).toBe('ack')
    expect(book.receivers()).toEqual(['rx-1'])
    const report = await book.wait({ topic: 'imu', sequence: 0 }, { timeoutMs: 1 })
    expect(report.acked.map((a) => a.receiver)).toEqual(['rx-1'])
    expect(report.missing).toEqual([])
  })

  it('pins a receiver to the address of its first ACK: one in its name from elsewhere is an impostor', () => {
    let now = 0
    const book = new AckBook(() => now)
    book.expect('imu', 0)
    expect(book.receive(about(0), ack('rx-1'), '10.0.0.2', 7400)).toBe('ack')
    book.expect('imu', 1)
    expect(book.receive(about(1), ack('rx-1', 666), '10.0.0.66', 7400)).toBe('ack-impostor')
    expect(book.receive(about(1), ack('rx-1'), '10.0.0.2', 9999)).toBe('ack-impostor')
    // a restarted receiver (new session) moves once its old place has been silent a while
    now = RECEIVER_REPIN_MS - 1
    expect(book.receive(about(1), ack('rx-1', 2), '10.0.0.3', 7400)).toBe('ack-impostor')
    now = RECEIVER_REPIN_MS
    expect(book.receive(about(1), ack('rx-1', 2), '10.0.0.3', 7400)).toBe('ack')
  })

  it('`name@address` pins before any ACK: forged ACKs from elsewhere never satisfy it', async () => {
    const book = new AckBook(() => 0)
    book.expect('imu', 0)
    const waiting = book.wait({ topic: 'imu', sequence: 0 }, { timeoutMs: 20, expected: ['rx-1@10.0.0.2'] })
    expect(book.receive(about(0), ack('rx-1'), '10.0.0.66', 7400)).toBe('ack-impostor')
    const report = await waiting
    expect(report.acked).toEqual([])
    expect(report.missing).toEqual(['rx-1@10.0.0.2'])
    book.expect('imu', 1)
    const next = book.wait({ topic: 'imu', sequence: 1 }, { timeoutMs: 1_000, expected: ['rx-1@10.0.0.2'] })
    expect(book.receive(about(1), ack('rx-1'), '10.0.0.2', 7400)).toBe('ack')
    expect((await next).missing).toEqual([])
  })

  it(`knows at most ${MAX_ACK_RECEIVERS} receivers; a new one gets in when a known one has been silent`, () => {
    let now = 0
    const book = new AckBook(() => now)
    book.expect('imu', 0)
    for (let i = 0; i < 100_000; i++) book.receive(about(0), ack(`made-up-${i}`), '10.0.0.66', 7400)
    expect(book.receivers()).toHaveLength(MAX_ACK_RECEIVERS)
    expect(book.receive(about(0), ack('rx-1'), '10.0.0.2', 7400)).toBe('ack-receivers-full')
    now = RECEIVER_IDLE_MS
    expect(book.receive(about(0), ack('rx-1'), '10.0.0.2', 7400)).toBe('ack')
    expect(book.receivers()).toHaveLength(MAX_ACK_RECEIVERS)
  })

  it('parses name@address, the last @, brackets around IPv6', () => {
    expect(parseExpected('rx-1')).toEqual({ name: 'rx-1', spec: 'rx-1' })
    expect(parseExpected('a@b@10.0.0.1')).toMatchObject({ name: 'a@b', address: '10.0.0.1' })
    expect(parseExpected('rx@[fd77::2]')).toMatchObject({ name: 'rx', address: 'fd77::2' })
    expect(parseExpected('rx@FD77:0:0::0002')).toMatchObject({ address: 'fd77::2' })
    expect(parseExpected('rx@::ffff:10.0.0.2')).toMatchObject({ address: '10.0.0.2' })
  })
})

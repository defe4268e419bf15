/** The receiving side of repair: which fragments the Reassembler asks for, and when. */
import { describe, expect, it } from 'vitest'
import { Flag, FrameKind } from '../wire/constants.js'
import { fragmentMessage, type MessageHeader } from '../wire/fragment.js'
import { decodeFrame } from '../wire/frame.js'
import { encodeTopic, type FrameHeader } from '../wire/header.js'
import { Reassembler, type RepairTarget, type RepairTiming } from './reassembler.js'

const timing: RepairTiming = { idleMs: 10, retryMs: 20, maxRetries: 2 }
const topic = 'camera'
const topicBytes = encodeTopic(topic)

/** Eight 1,000-byte fragments of message `sequence`. */
function fragments(sequence: number): Array<{ header: FrameHeader; payload: Uint8Array }> {
  const header: MessageHeader = {
    kind: FrameKind.DATA,
    flags: Flag.REPAIRABLE,
    hops: 0,
    topic,
    sessionId: 7,
    sequence,
    fingerprint: 1,
    extensionLength: 0,
  }
  return fragmentMessage(header, topicBytes, new Uint8Array(8_000).fill(sequence), 1_000 + 36 + 6 + 4).map(
    (frame) => {
      const decoded = decodeFrame(frame)
      if (!decoded.ok) throw new Error(decoded.reason)
      return decoded
    },
  )
}

function setup() {
  let now = 0
  const r = new Reassembler({ now: () => now })
  const target = (sequence: number): RepairTarget => ({
    sessionId: 7,
    topic,
    sequence,
    address: '127.0.0.1',
    port: 9,
  })
  const give = (sequence: number, indices: number[]) => {
    const all = fragments(sequence)
    return indices.map(
      (i) => r.accept(`${sequence}`, all[i]!.header, all[i]!.payload, { repair: target(sequence) }).status,
    )
  }
  const asks = () => r.repairRequests(timing).map(({ target, ranges }) => [target.sequence, ranges])
  return { r, give, asks, advance: (ms: number) => (now += ms) }
}

describe('Reassembler repair requests', () => {
  it('asks at once for a hole below the highest fragment seen, and only once', () => {
    const { r, give, asks } = setup()
    give(1, [0, 1])
    expect(r.repairDue).toBe(false)
    give(1, [4])
    expect(r.repairDue).toBe(true)
    expect(asks()).toEqual([[1, [[2, 2]]]])
    expect(r.repairDue).toBe(false)
    give(1, [5])
    expect(asks()).toEqual([])
  })

  it('asks for the missing tail once the next message starts, or after idleMs', () => {
    const { give, asks, advance } = setup()
    give(1, [0, 1, 2])
    expect(asks()).toEqual([])
    give(2, [0])
    expect(asks()).toEqual([[1, [[3, 5]]]])
    advance(timing.idleMs)
    expect(asks()).toEqual([[2, [[1, 7]]]])
  })

  it('asks again for what is still missing after retryMs, then twice as long, at most maxRetries times, and counts repairs', () => {
    const { r, give, asks, advance } = setup()
    give(1, [0, 3, 7])
    expect(asks()).toEqual([
      [
        1,
        [
          [1, 2],
          [4, 3],
        ],
      ],
    ])
    give(1, [1, 2, 4])
    expect(r.stats().repairedFragments).toBe(3)
    advance(timing.retryMs - 1)
    expect(asks()).toEqual([])
    advance(1)
    expect(asks()).toEqual([[1, [[5, 2]]]])
    // the second retry waits twice as long (backing off)
    advance(timing.retryMs)
    expect(asks()).toEqual([])
    advance(timing.retryMs)
    expect(asks()).toEqual([[1, [[5, 2]]]])
    advance(timing.retryMs * 8)
    expect(asks()).toEqual([])
    expect(give(1, [5, 6])).toEqual(['pending', 'complete'])
    expect(r.stats().repairedFragments).toBe(5)
  })

  it('never asks for a message its publisher does not hold', () => {
    let now = 0
    const r = new Reassembler({ now: () => now })
    const all = fragments(1)
    for (const i of [0, 5]) r.accept('1', all[i]!.header, all[i]!.payload)
    now += 1_000
    expect(r.repairDue).toBe(false)
    expect(r.hasRepairable()).toBe(false)
    expect(r.repairRequests(timing)).toEqual([])
  })

  it('counts every fragment of a message asked for whole as repaired, and still asks for its holes', () => {
    const r = new Reassembler({ now: () => 0 })
    const all = fragments(3)
    const target: RepairTarget = { sessionId: 7, topic, sequence: 3, address: '127.0.0.1', port: 9 }
    for (const i of [0, 1, 4])
      r.accept('3', all[i]!.header, all[i]!.payload, { repair: target, askedWhole: true })
    expect(r.stats().repairedFragments).toBe(3)
    expect(r.repairRequests(timing, 0).map(({ ranges }) => ranges)).toEqual([[[2, 2]]])
  })
})

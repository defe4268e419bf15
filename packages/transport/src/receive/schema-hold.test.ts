import { describe, expect, it } from 'vitest'
import type { Stream } from '../stream.js'
import { FrameKind } from '../wire/constants.js'
import type { FrameHeader } from '../wire/header.js'
import { SCHEMA_HOLD_BYTES, SCHEMA_HOLD_FRAMES, SCHEMA_HOLD_MS, SchemaHold } from './schema-hold.js'

const header = (fingerprint: number, sequence: number): FrameHeader => ({
  kind: FrameKind.DATA,
  flags: 0,
  hops: 0,
  topic: 'wind',
  sessionId: 1,
  sequence,
  fingerprint,
  messageLength: 0,
  fragmentOffset: 0,
  fragmentIndex: 0,
  fragmentCount: 1,
  payloadLength: 0,
  extensionLength: 0,
})

const frame = (fingerprint: number, sequence: number, bytes = 10, heldAt = 0) => ({
  header: header(fingerprint, sequence),
  message: new Uint8Array(bytes).fill(sequence & 0xff),
  stream: {} as Stream,
  address: '10.0.0.1',
  port: 1,
  receivedAt: 0,
  heldAt,
})

describe('SchemaHold', () => {
  it('holds copies, per fingerprint up to the cap, and lets them go in arrival order', () => {
    const hold = new SchemaHold()
    const message = new Uint8Array(4).fill(9)
    expect(hold.hold({ ...frame(1, 0), message })).toBe(true)
    message.fill(0)
    for (let i = 1; i < SCHEMA_HOLD_FRAMES; i++) expect(hold.hold(frame(1, i))).toBe(true)
    expect(hold.hold(frame(1, 99))).toBe(false)
    expect(hold.hold(frame(2, 0))).toBe(true)
    const released = hold.release(1)
    expect(released.map((f) => f.header.sequence)).toEqual([...Array(SCHEMA_HOLD_FRAMES).keys()])
    expect([...released[0]!.message]).toEqual([9, 9, 9, 9])
    expect(hold.release(1)).toEqual([])
    expect(hold).toMatchObject({ held: SCHEMA_HOLD_FRAMES + 1, released: SCHEMA_HOLD_FRAMES })
  })

  it('holds at most SCHEMA_HOLD_BYTES in all, and expires what waited SCHEMA_HOLD_MS', () => {
    const hold = new SchemaHold()
    const big = SCHEMA_HOLD_BYTES / 4
    for (let fingerprint = 1; fingerprint <= 4; fingerprint++)
      expect(hold.hold(frame(fingerprint, 0, big, fingerprint * 100))).toBe(true)
    expect(hold.hold(frame(5, 0, 1))).toBe(false)
    expect(hold.bytes).toBe(SCHEMA_HOLD_BYTES)
    expect(hold.expire(SCHEMA_HOLD_MS + 250).map((f) => f.header.fingerprint)).toEqual([1, 2])
    expect(hold.bytes).toBe(SCHEMA_HOLD_BYTES / 2)
    expect(hold.expire(Number.POSITIVE_INFINITY)).toHaveLength(2)
    expect(hold.bytes).toBe(0)
  })
})

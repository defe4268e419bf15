import { existsSync, mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeRecordBody,
  encodeRecord,
  type RecordedFrame,
  RecordWriter,
  readRecording,
} from './recording.js'

const dir = mkdtempSync(join(tmpdir(), 'shoal-rec-'))
let n = 0
const file = () => join(dir, `r${n++}.shoalrec`)

const frame = (i: number, size = 10): RecordedFrame => ({
  receivedAtNs: 1_700_000_000_000_000_000n + BigInt(i),
  sessionId: 0xabcdef01,
  sequence: i,
  fingerprint: 0xb16c9ed1,
  hops: 1,
  topic: 'imu',
  source: '10.77.1.1:40000',
  payload: new Uint8Array(size).fill(i & 0xff),
})

describe('recording', () => {
  it('round-trips any record', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.nat({ max: 0xffffffff }),
        fc.string({ minLength: 1, maxLength: 50 }),
        fc.uint8Array({ maxLength: 3000 }),
        (t, seq, topic, payload) => {
          const f = { ...frame(0), receivedAtNs: t, sequence: seq, topic, payload }
          const rec = encodeRecord(f)
          expect(decodeRecordBody(rec.subarray(8))).toEqual(f)
        },
      ),
    )
  })

  it('writes and reads back every frame, appending across writers', () => {
    const path = file()
    const w = new RecordWriter(path)
    for (let i = 0; i < 100; i++) w.write(frame(i))
    w.close()
    const w2 = new RecordWriter(path)
    w2.write(frame(100))
    w2.close()
    const r = readRecording(path)
    expect(r.frames.map((f) => f.sequence)).toEqual([...Array(101).keys()])
    expect(r.frames[5]).toEqual(frame(5))
    expect(r).toMatchObject({ truncatedTail: false, corrupt: false })
  })

  it('after a kill mid-record, every whole record is still readable', () => {
    const path = file()
    const w = new RecordWriter(path)
    for (let i = 0; i < 10; i++) w.write(frame(i, 1000))
    w.close()
    const full = statSync(path).size
    for (const cut of [1, 7, 8, 500, 1031]) {
      const copy = `${path}.cut${cut}`
      writeFileSync(copy, readFileSync(path))
      truncateSync(copy, full - cut)
      const r = readRecording(copy)
      expect(r.frames).toHaveLength(9)
      expect(r.truncatedTail).toBe(true)
    }
  })

  it('stops at a corrupt record instead of returning garbage', () => {
    const path = file()
    const w = new RecordWriter(path)
    for (let i = 0; i < 3; i++) w.write(frame(i))
    w.close()
    const bytes = readFileSync(path)
    bytes[bytes.length - 2]! ^= 0xff
    writeFileSync(path, bytes)
    expect(readRecording(path)).toMatchObject({ corrupt: true, frames: [frame(0), frame(1)] })
  })

  it('rotates by size, keeping N old files', () => {
    const path = file()
    const w = new RecordWriter(path, { rotateBytes: 5_000, keep: 2 })
    for (let i = 0; i < 30; i++) w.write(frame(i, 1000))
    w.close()
    expect(w.rotations).toBeGreaterThan(2)
    expect(existsSync(`${path}.1`)).toBe(true)
    expect(existsSync(`${path}.2`)).toBe(true)
    expect(existsSync(`${path}.3`)).toBe(false)
    expect(statSync(path).size).toBeLessThanOrEqual(5_000)
    const last = readRecording(path).frames
    expect(last.at(-1)!.sequence).toBe(29)
  })

  it('refuses a file that is not a recording', () => {
    const path = file()
    writeFileSync(path, 'hello world, not a recording')
    expect(() => readRecording(path)).toThrow(/not a Shoal recording/)
  })
})

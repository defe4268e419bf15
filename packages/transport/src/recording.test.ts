import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import {
  decodeRecordBody,
  encodeRecord,
  RECORDING_FILE_HEADER_LENGTH,
  RECORDING_MAX_LISTED_SKIPS,
  type RecordedFrame,
  RecordWriter,
  readRecording,
} from './recording.js'

const dir = mkdtempSync(join(tmpdir(), 'shoal-rec-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
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
  // Never 0, like the high byte of the next record's length: a cut record is never whole by chance.
  payload: new Uint8Array(size).fill((i % 255) + 1),
})

/** The size of `frame(i)`'s record: length and CRC, fixed body, "imu", the address, 10 bytes. */
const RECORD_BYTES = encodeRecord(frame(0)).length

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

  it('skips a corrupt last record instead of returning garbage', () => {
    const path = file()
    const w = new RecordWriter(path)
    for (let i = 0; i < 3; i++) w.write(frame(i))
    w.close()
    const bytes = readFileSync(path)
    bytes[bytes.length - 2]! ^= 0xff
    writeFileSync(path, bytes)
    expect(readRecording(path)).toMatchObject({
      corrupt: true,
      truncatedTail: false,
      frames: [frame(0), frame(1)],
      damagedStretches: 1,
      skippedBytes: RECORD_BYTES,
      skips: [
        { offset: RECORDING_FILE_HEADER_LENGTH + 2 * RECORD_BYTES, bytes: RECORD_BYTES, reason: 'damaged' },
      ],
    })
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

/** The bytes of a recording of `sizes.length` frames (frame i with a payload of sizes[i] bytes). */
function recording(sizes: readonly number[]): { bytes: Buffer; starts: number[]; frames: RecordedFrame[] } {
  const frames = sizes.map((size, i) => frame(i, size))
  const records = frames.map(encodeRecord)
  const starts: number[] = []
  let at = RECORDING_FILE_HEADER_LENGTH
  for (const record of records) {
    starts.push(at)
    at += record.length
  }
  const header = Buffer.alloc(RECORDING_FILE_HEADER_LENGTH)
  header.write('SHOALREC')
  header.writeUInt16BE(1, 8)
  return { bytes: Buffer.concat([header, ...records]), starts, frames }
}

/** Writes `bytes` to a new file and reads it back. */
function readBack(bytes: Uint8Array, options?: Parameters<typeof readRecording>[1]) {
  const path = file()
  writeFileSync(path, bytes)
  return readRecording(path, options)
}

/** Deterministic bytes (a linear congruential generator), so that a failure repeats. */
function garbage(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length)
  let x = seed >>> 0
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0
    out[i] = x >>> 24
  }
  return out
}

const sequences = (r: { frames: RecordedFrame[] }) => r.frames.map((f) => f.sequence)
const allBut = (n: number, ...skipped: number[]) => [...Array(n).keys()].filter((i) => !skipped.includes(i))

describe('reading a damaged recording', () => {
  const N = 200

  it('a flipped bit anywhere in a record loses that record only, whatever field it hits', () => {
    const { bytes, starts } = recording(Array(N).fill(10))
    // Length (high and low bits), CRC, receive time, topic and address lengths, reserved, payload.
    for (const at of [0, 3, 5, 9, 12, 29, 30, 31, 40, RECORD_BYTES - 1]) {
      for (const bit of [0, 7]) {
        const damaged = Buffer.from(bytes)
        damaged[starts[57]! + at]! ^= 1 << bit
        const r = readBack(damaged)
        expect(sequences(r), `byte ${at} bit ${bit}`).toEqual(allBut(N, 57))
        expect(r).toMatchObject({
          corrupt: true,
          truncatedTail: false,
          damagedStretches: 1,
          skippedBytes: RECORD_BYTES,
          skips: [{ offset: starts[57], bytes: RECORD_BYTES, reason: 'damaged' }],
        })
      }
    }
  })

  it('recovers every good record around several damaged ones, with exact counts', () => {
    const { bytes, starts, frames } = recording(Array.from({ length: N }, (_, i) => (i * 37) % 300))
    const damaged = Buffer.from(bytes)
    for (const i of [0, 10, 11, 100, N - 1]) damaged[starts[i]! + 40]! ^= 0x10
    const r = readBack(damaged)
    expect(sequences(r)).toEqual(allBut(N, 0, 10, 11, 100, N - 1))
    expect(r.frames[1]).toEqual(frames[2])
    const size = (i: number) => encodeRecord(frames[i]!).length
    expect(r).toMatchObject({
      damagedStretches: 4, // 10 and 11 are one stretch
      skippedBytes: size(0) + size(10) + size(11) + size(100) + size(N - 1),
      truncatedTail: false,
    })
    expect(r.skips.map((s) => [s.offset, s.bytes])).toEqual([
      [starts[0], size(0)],
      [starts[10], size(10) + size(11)],
      [starts[100], size(100)],
      [starts[N - 1], size(N - 1)],
    ])
  })

  it.each([
    ['random bytes', garbage(777, 1)],
    ['zeros', Buffer.alloc(5000)],
    ['a record head with a wrong CRC', Buffer.from(encodeRecord(frame(999, 50)).fill(0xee, 4, 8))],
    ['the start of a record', Buffer.from(encodeRecord(frame(999, 50)).subarray(0, 40))],
  ])('skips %s inserted between two records, and nothing else', (_, inserted) => {
    const { bytes, starts } = recording(Array(N).fill(10))
    const at = starts[100]!
    const r = readBack(Buffer.concat([bytes.subarray(0, at), inserted, bytes.subarray(at)]))
    expect(sequences(r)).toEqual(allBut(N))
    expect(r).toMatchObject({
      damagedStretches: 1,
      skippedBytes: inserted.length,
      skips: [{ offset: at, bytes: inserted.length, reason: 'damaged' }],
    })
  })

  it('skips a record with bytes inserted in its middle, and the bytes', () => {
    const { bytes, starts } = recording(Array(N).fill(10))
    const at = starts[100]! + 20
    const r = readBack(Buffer.concat([bytes.subarray(0, at), garbage(300, 2), bytes.subarray(at)]))
    expect(sequences(r)).toEqual(allBut(N, 100))
    expect(r).toMatchObject({ damagedStretches: 1, skippedBytes: RECORD_BYTES + 300 })
  })

  it('tells a truncated tail from damage, also after damage', () => {
    const { bytes, starts } = recording(Array(N).fill(10))
    const damaged = Buffer.from(bytes)
    damaged[starts[20]! + 45]! ^= 1
    const cut = damaged.subarray(0, damaged.length - 7)
    const r = readBack(cut)
    expect(sequences(r)).toEqual(allBut(N, 20, N - 1))
    expect(r).toMatchObject({
      corrupt: true,
      truncatedTail: true,
      damagedStretches: 1,
      skippedBytes: 2 * RECORD_BYTES - 7,
      skips: [
        { offset: starts[20], bytes: RECORD_BYTES, reason: 'damaged' },
        { offset: starts[N - 1], bytes: RECORD_BYTES - 7, reason: 'truncated' },
      ],
    })
  })

  it('calls bytes at the end that are no record start damage, not a truncated tail', () => {
    const { bytes } = recording(Array(10).fill(10))
    const tail = Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6])
    const r = readBack(Buffer.concat([bytes, tail]))
    expect(sequences(r)).toEqual(allBut(10))
    expect(r).toMatchObject({ truncatedTail: false, corrupt: true, damagedStretches: 1, skippedBytes: 10 })
  })

  it('stops looking once the check budget is spent, and says what it did not search', () => {
    const { bytes, starts } = recording(Array(N).fill(10))
    const damaged = Buffer.from(bytes)
    damaged[starts[50]! + 1]! ^= 0x40 // a length far past the end of the file: only a scan finds 51
    const enough = readBack(damaged, { resyncCheckBytes: RECORD_BYTES })
    expect(sequences(enough)).toEqual(allBut(N, 50))
    const none = readBack(damaged, { resyncCheckBytes: 0 })
    expect(sequences(none)).toEqual(allBut(N).slice(0, 50))
    expect(none).toMatchObject({
      corrupt: true,
      damagedStretches: 2,
      skippedBytes: bytes.length - starts[50]!,
      skips: [
        { offset: starts[50], bytes: RECORD_BYTES, reason: 'damaged' },
        { offset: starts[51], bytes: bytes.length - starts[51]!, reason: 'unsearched' },
      ],
    })
  })

  it('lists the first skips and counts them all', () => {
    const n = RECORDING_MAX_LISTED_SKIPS * 2 + 10
    const { bytes, starts } = recording(Array(n).fill(10))
    const damaged = Buffer.from(bytes)
    for (let i = 0; i < n; i += 2) damaged[starts[i]! + 40]! ^= 1
    const r = readBack(damaged)
    expect(r.frames).toHaveLength(n / 2)
    expect(r.damagedStretches).toBe(n / 2)
    expect(r.skippedBytes).toBe((n / 2) * RECORD_BYTES)
    expect(r.skips).toHaveLength(RECORDING_MAX_LISTED_SKIPS)
  })

  it('after a kill mid-record and a restart that appends, skips only the cut record', () => {
    const path = file()
    const first = new RecordWriter(path)
    first.write(frame(0))
    first.write(frame(1, 100))
    first.close()
    // Killed 50 bytes into frame 1's record: what the next two records fill up to its length.
    truncateSync(path, statSync(path).size - (encodeRecord(frame(1, 100)).length - 50))
    const second = new RecordWriter(path)
    for (let i = 2; i < 10; i++) second.write(frame(i))
    second.close()
    const r = readRecording(path)
    expect(sequences(r)).toEqual(allBut(10, 1))
    expect(r).toMatchObject({ damagedStretches: 1, skippedBytes: 50, truncatedTail: false })
  })

  it('recovers the records a second writer appended after a record cut short by a kill', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(0, 10, 50, 100), { minLength: 2, maxLength: 30 }),
        fc.nat(),
        fc.nat(),
        (sizes, which, where) => {
          const { bytes, starts, frames } = recording(sizes)
          const k = which % (sizes.length - 1) // not the last: records follow it
          const cut = 1 + (where % (encodeRecord(frames[k]!).length - 1))
          const r = readBack(
            Buffer.concat([bytes.subarray(0, starts[k]! + cut), bytes.subarray(starts[k + 1]!)]),
          )
          expect(sequences(r)).toEqual(allBut(sizes.length, k))
          expect(r).toMatchObject({
            damagedStretches: 1,
            skippedBytes: cut,
            skips: [{ offset: starts[k], bytes: cut, reason: 'damaged' }],
          })
        },
      ),
      { numRuns: Number(process.env.RUNS ?? 200) },
    )
  })

  it('recovers every record whose bytes are intact, wherever bits flip in the others', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 600 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 7 })), { maxLength: 6 }),
        (sizes, flips) => {
          const { bytes, starts, frames } = recording(sizes)
          const damaged = Buffer.from(bytes)
          const hit = new Set<number>()
          for (const [which, where, bit] of flips) {
            const i = which % sizes.length
            const size = encodeRecord(frames[i]!).length
            // A bit flipped twice is whole again: which records are damaged is decided below.
            damaged[starts[i]! + (where % size)]! ^= 1 << bit
          }
          for (const [i, start] of starts.entries()) {
            const end = start + encodeRecord(frames[i]!).length
            if (!damaged.subarray(start, end).equals(bytes.subarray(start, end))) hit.add(i)
          }
          const r = readBack(damaged)
          expect(sequences(r)).toEqual(allBut(sizes.length, ...hit))
          expect(r.skippedBytes).toBe([...hit].reduce((sum, i) => sum + encodeRecord(frames[i]!).length, 0))
          // (A last record whose length now runs past the end is indistinguishable from a cut one.)
          expect(r.corrupt || r.truncatedTail).toBe(hit.size > 0)
        },
      ),
      { numRuns: Number(process.env.RUNS ?? 200) },
    )
  })
})

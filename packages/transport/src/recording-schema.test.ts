import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  decodeRecordEntry,
  encodeRecord,
  encodeSchemaRecord,
  RECORDING_FILE_HEADER_LENGTH,
  type RecordedFrame,
  RecordWriter,
  readRecording,
} from './recording.js'
import { LITTLE_ENDIAN } from './wire/constants.js'

const dir = mkdtempSync(join(tmpdir(), 'shoal-rec-schema-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const file = () => join(dir, `r${n++}.shoalrec`)

const WIND = 0x1234abcd
const IMU = 0xb16c9ed1
const frame = (i: number, fingerprint = WIND): RecordedFrame => ({
  receivedAtNs: 1_700_000_000_000_000_000n + BigInt(i),
  sessionId: 0xabcdef01,
  sequence: i,
  fingerprint,
  hops: 0,
  topic: 'weather/wind',
  source: '127.0.0.1:40000',
  payload: new Uint8Array(20).fill((i % 255) + 1),
})
const windSet = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff)
/** Knows the wind type only, and counts what it is asked. */
function schemaSource() {
  const asked: number[] = []
  const schemaFor = (fingerprint: number) => {
    asked.push(fingerprint)
    return fingerprint === WIND ? { typeName: 'acme.v1.Wind', data: windSet } : undefined
  }
  return { asked, schemaFor }
}

describe('schema records (format version 2)', () => {
  it('round-trip: a schema record decodes as a schema, a frame record as a frame', () => {
    const schema = { receivedAtNs: 5n, fingerprint: WIND, typeName: 'acme.v1.Wind', data: windSet }
    expect(decodeRecordEntry(encodeSchemaRecord(schema).subarray(8))).toEqual({ kind: 'schema', schema })
    expect(decodeRecordEntry(encodeRecord(frame(1)).subarray(8))).toEqual({ kind: 'frame', frame: frame(1) })
  })

  it('are written once per type and file, before its first frame; frames read back unchanged', () => {
    const path = file()
    const { asked, schemaFor } = schemaSource()
    const w = new RecordWriter(path, { schemaFor })
    const frames = [frame(0), frame(1, IMU), frame(2), frame(3, IMU), frame(4)]
    for (const f of frames) w.write(f)
    w.close()
    // the wind schema once; the IMU one (unknown to this source) at each of its frames
    expect(asked).toEqual([WIND, IMU, IMU])
    const read = readRecording(path)
    expect(read.frames).toEqual(frames)
    expect(read.schemas).toEqual([
      { receivedAtNs: frame(0).receivedAtNs, fingerprint: WIND, typeName: 'acme.v1.Wind', data: windSet },
    ])
    expect(read.corrupt).toBe(false)
    const head = readFileSync(path)
    expect(new DataView(head.buffer, head.byteOffset).getUint16(8, LITTLE_ENDIAN)).toBe(2)
  })

  it('a type learnt mid-file gets its schema before its next frame', () => {
    const path = file()
    let known = false
    const w = new RecordWriter(path, {
      schemaFor: (fingerprint) =>
        known && fingerprint === WIND ? { typeName: 'acme.v1.Wind', data: windSet } : undefined,
    })
    w.write(frame(0))
    known = true
    w.write(frame(1))
    w.write(frame(2))
    w.close()
    const read = readRecording(path)
    expect(read.frames).toEqual([frame(0), frame(1), frame(2)])
    expect(read.schemas.map((s) => s.receivedAtNs)).toEqual([frame(1).receivedAtNs])
  })

  it('are written again in each file after a rotation', () => {
    const path = file()
    const { schemaFor } = schemaSource()
    const w = new RecordWriter(path, { schemaFor, rotateBytes: 500 })
    for (let i = 0; i < 10; i++) w.write(frame(i))
    w.close()
    expect(w.rotations).toBeGreaterThan(0)
    for (const name of [path, `${path}.1`]) {
      const read = readRecording(name)
      expect(
        read.schemas.map((s) => s.typeName),
        name,
      ).toEqual(['acme.v1.Wind'])
      expect(read.frames.length).toBeGreaterThan(0)
    }
  })

  it('are not appended to a version-1 file (its readers would take them for frames); it still reads', () => {
    const path = file()
    const v1 = new Uint8Array(RECORDING_FILE_HEADER_LENGTH)
    v1.set(Buffer.from('SHOALREC'), 0)
    new DataView(v1.buffer).setUint16(8, 1, LITTLE_ENDIAN)
    writeFileSync(path, Buffer.concat([v1, encodeRecord(frame(0))]))
    const w = new RecordWriter(path, schemaSource())
    w.write(frame(1))
    w.close()
    const read = readRecording(path)
    expect(read.frames).toEqual([frame(0), frame(1)])
    expect(read.schemas).toEqual([])
  })

  it('a damaged schema record is skipped like a damaged frame, and the frames after it read', () => {
    const path = file()
    const w = new RecordWriter(path, schemaSource())
    for (let i = 0; i < 5; i++) w.write(frame(i))
    w.close()
    const bytes = readFileSync(path)
    const at = RECORDING_FILE_HEADER_LENGTH + 8 + 40 // inside the schema record's body
    bytes[at] = bytes[at]! ^ 0x01
    writeFileSync(path, bytes)
    const read = readRecording(path)
    expect(read.schemas).toEqual([])
    expect(read.frames).toEqual([0, 1, 2, 3, 4].map((i) => frame(i)))
    expect(read).toMatchObject({ corrupt: true, damagedStretches: 1 })
    expect(statSync(path).size).toBe(bytes.length)
  })

  it('a file of a later version is refused, naming the versions read', () => {
    const path = file()
    const v9 = new Uint8Array(RECORDING_FILE_HEADER_LENGTH)
    v9.set(Buffer.from('SHOALREC'), 0)
    new DataView(v9.buffer).setUint16(8, 9, LITTLE_ENDIAN)
    writeFileSync(path, v9)
    expect(() => readRecording(path)).toThrow(/recording format 9; this reads 1 and 2/)
  })
})

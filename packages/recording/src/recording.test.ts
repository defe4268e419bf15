import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { RecordWriter } from '@shoal/transport'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { comparable, mixedFrames, scratch } from '../test/support.js'
import { createMcapWriter } from './mcap-recording.js'
import { openRecording, recordingFormatOf } from './recording.js'

let dir: string
let remove: () => void
beforeEach(() => {
  ;({ dir, remove } = scratch())
})
afterEach(() => remove())

describe('openRecording', () => {
  it('reads a SHOALREC file, naming each frame’s type by its fingerprint', async () => {
    const path = join(dir, 'run.rec')
    const frames = mixedFrames(9)
    const w = new RecordWriter(path)
    for (const { typeName: _, publishedAtNs: __, ...frame } of frames) w.write(frame)
    w.close()
    const recording = await openRecording(path)
    expect(recording.format).toBe('shoal')
    expect(comparable([...recording.frames()])).toEqual(
      comparable(frames.map((frame) => ({ ...frame, publishedAtNs: undefined }))),
    )
    expect(recording.report).toMatchObject({ frames: 9, complete: true, corrupt: false })
  })

  it('names a SHOALREC frame of a type it does not know from the file’s schema record', async () => {
    const path = join(dir, 'run.rec')
    const set = Uint8Array.of(10, 1, 120) // any bytes: the reader hands them on, verifySchema judges them
    const w = new RecordWriter(path, {
      schemaFor: (fingerprint) =>
        fingerprint === 0xdeadbeef ? { typeName: 'acme.v1.Wind', data: set } : undefined,
    })
    const [frame] = mixedFrames(1)
    const { typeName: _, publishedAtNs: __, ...odd } = { ...frame!, fingerprint: 0xdeadbeef }
    w.write(odd)
    w.write(odd)
    w.close()
    const read = [...(await openRecording(path)).frames()]
    expect(read.map((f) => f.typeName)).toEqual(['acme.v1.Wind', 'acme.v1.Wind'])
    expect(read.map((f) => [...(f.schemaData ?? [])])).toEqual([
      [10, 1, 120],
      [10, 1, 120],
    ])
    // a built-in type without a schema record is named by the registry, with no schemaData
    const plain = join(dir, 'plain.rec')
    const w2 = new RecordWriter(plain)
    const { typeName: ___, publishedAtNs: ____, ...imu } = frame!
    w2.write(imu)
    w2.close()
    const [one] = [...(await openRecording(plain)).frames()]
    expect(one).toMatchObject({ typeName: frame!.typeName })
    expect(one?.schemaData).toBeUndefined()
  })

  it('reads an MCAP file, afresh on every pass, whatever its name', async () => {
    const path = join(dir, 'named-like-anything.rec')
    const frames = mixedFrames(7)
    const w = await createMcapWriter(path)
    for (const frame of frames) w.write(frame)
    w.close()
    const recording = await openRecording(path)
    expect(recording.format).toBe('mcap')
    expect(comparable([...recording.frames()])).toEqual(comparable(frames))
    expect(comparable([...recording.frames()])).toEqual(comparable(frames))
    expect(recording.report).toMatchObject({ frames: 7, complete: true })
  })

  it('refuses a file of neither format, and a missing one', async () => {
    const path = join(dir, 'x.mcap')
    writeFileSync(path, '{"topic": "imu"}\n')
    expect(() => recordingFormatOf(path)).toThrow(/not a Shoal recording: neither MCAP nor SHOALREC/)
    await expect(openRecording(join(dir, 'missing.mcap'))).rejects.toThrow(/ENOENT/)
  })
})

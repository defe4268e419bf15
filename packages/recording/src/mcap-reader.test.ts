import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { comparable, indexedReader, mixedFrames, scratch } from '../test/support.js'
import { loadCodecs } from './codecs.js'
import { readMcapFrames } from './mcap-reader.js'
import { McapRecordWriter } from './mcap-writer.js'
import { emptyReport, type RecordingFrame } from './recording-frame.js'

let dir: string
let remove: () => void
beforeEach(() => {
  ;({ dir, remove } = scratch())
})
afterEach(() => remove())

const FRAMES_PER_CHUNK = 10
const CHUNKS = 4

/**
 * A whole recording of CHUNKS chunks of FRAMES_PER_CHUNK frames each (the age bound closes them),
 * and where each chunk starts and ends in the file.
 */
async function recording() {
  const path = join(dir, 'whole.mcap')
  const clock = { ms: 0 }
  const w = new McapRecordWriter(path, await loadCodecs(), { now: () => clock.ms })
  const frames = mixedFrames(FRAMES_PER_CHUNK * CHUNKS)
  for (const [i, frame] of frames.entries()) {
    w.write(frame)
    if ((i + 1) % FRAMES_PER_CHUNK === 0) {
      clock.ms += 1000
      w.tick()
    }
  }
  w.close()
  const { reader, close } = await indexedReader(path)
  await close()
  const chunks = reader.chunkIndexes.map((c) => ({
    start: Number(c.chunkStartOffset),
    end: Number(c.chunkStartOffset + c.chunkLength),
  }))
  expect(chunks).toHaveLength(CHUNKS)
  return { path, frames, chunks, bytes: readFileSync(path), dataEnd: Number(reader.dataEndOffset) }
}

async function read(bytes: Uint8Array, name = 'copy.mcap') {
  const path = join(dir, name)
  writeFileSync(path, bytes)
  const report = emptyReport()
  const frames: RecordingFrame[] = [...readMcapFrames(path, await loadCodecs(), report)]
  return { frames, report }
}

describe('readMcapFrames', () => {
  it('reads a file cut after its last whole chunk (a killed recorder) as far as it goes: no summary, no damage', async () => {
    const { frames, chunks, bytes } = await recording()
    const cut = await read(bytes.subarray(0, chunks[2]!.end))
    expect(comparable(cut.frames)).toEqual(comparable(frames.slice(0, 3 * FRAMES_PER_CHUNK)))
    expect(cut.report).toMatchObject({
      complete: false,
      truncatedTail: false,
      corrupt: false,
      skippedBytes: 0,
    })
  })

  it('reads a file cut inside a chunk up to the chunk before; the cut chunk is a truncated tail', async () => {
    const { frames, chunks, bytes } = await recording()
    for (const into of [1, 9, 20, chunks[2]!.end - chunks[2]!.start - 1]) {
      const cut = await read(bytes.subarray(0, chunks[2]!.start + into))
      expect(comparable(cut.frames)).toEqual(comparable(frames.slice(0, 2 * FRAMES_PER_CHUNK)))
      expect(cut.report).toMatchObject({
        complete: false,
        truncatedTail: true,
        corrupt: false,
        skippedBytes: into,
      })
    }
  })

  it('marks a whole file complete', async () => {
    const { frames, bytes } = await recording()
    const whole = await read(bytes)
    expect(whole.frames).toHaveLength(frames.length)
    expect(whole.report).toMatchObject({
      complete: true,
      truncatedTail: false,
      corrupt: false,
      frames: frames.length,
    })
  })

  it('skips a damaged chunk (its CRC fails) and reads the chunks after it', async () => {
    const { frames, chunks, bytes } = await recording()
    const damaged = Buffer.from(bytes)
    const middle = Math.floor((chunks[1]!.start + chunks[1]!.end) / 2)
    damaged[middle] = damaged[middle]! ^ 0xff
    const { frames: got, report } = await read(damaged)
    expect(comparable(got)).toEqual(
      comparable([...frames.slice(0, FRAMES_PER_CHUNK), ...frames.slice(2 * FRAMES_PER_CHUNK)]),
    )
    expect(report).toMatchObject({ corrupt: true, damagedStretches: 1, complete: true })
    expect(report.skips).toEqual([
      { offset: chunks[1]!.start, bytes: chunks[1]!.end - chunks[1]!.start, reason: 'damaged' },
    ])
  })

  it('loses no channel with a damaged chunk: channels and schemas are written outside chunks', async () => {
    const { frames, chunks, bytes } = await recording()
    const damaged = Buffer.from(bytes)
    const middle = Math.floor((chunks[0]!.start + chunks[0]!.end) / 2)
    damaged[middle] = damaged[middle]! ^ 0x01
    const { frames: got, report } = await read(damaged)
    expect(comparable(got)).toEqual(comparable(frames.slice(FRAMES_PER_CHUNK)))
    expect(report).toMatchObject({ damagedStretches: 1 })
  })

  it('stops at a record length no record can have, and counts the rest as unsearched', async () => {
    const { frames, chunks, bytes } = await recording()
    const damaged = Buffer.from(bytes)
    damaged.writeBigUInt64LE(1n << 40n, chunks[1]!.start + 1)
    const { frames: got, report } = await read(damaged)
    expect(got).toHaveLength(FRAMES_PER_CHUNK)
    expect(got.length).toBeLessThan(frames.length)
    expect(report.skips).toEqual([
      { offset: chunks[1]!.start, bytes: bytes.length - chunks[1]!.start, reason: 'unsearched' },
    ])
    expect(report.corrupt).toBe(true)
  })

  it('throws for a file that is not MCAP', async () => {
    const path = join(dir, 'not.mcap')
    writeFileSync(path, 'SHOALREC and more')
    const codecs = await loadCodecs()
    expect(() => [...readMcapFrames(path, codecs)]).toThrow(/not an MCAP file/)
  })
})

import { Writable } from 'node:stream'
import { MemorySink } from '@shoal/service/testing'
import { describe, expect, it } from 'vitest'
import { LineWriter, OUTPUT_BACKLOG_BYTES, OUTPUT_CHUNK_BYTES } from './line-writer.js'

/** A stream whose writes stay queued until `release()`: a reader that stalls. */
class StalledSink extends Writable {
  chunks: string[] = []
  #pending: (() => void) | undefined
  #flowing = false
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void) {
    this.chunks.push(chunk.toString())
    if (this.#flowing) callback()
    else this.#pending = callback
  }
  /** The reader catches up: everything queued is taken. */
  release() {
    this.#flowing = true
    this.#pending?.()
  }
}

describe('LineWriter', () => {
  it('writes the lines of one event-loop turn in one write', async () => {
    const sink = new MemorySink()
    const writes: string[] = []
    const write = sink.write.bind(sink)
    sink.write = (chunk: unknown, ...rest: unknown[]) => {
      writes.push(String(chunk))
      return write(chunk, ...rest)
    }
    const writer = new LineWriter(sink)
    writer.line('a')
    writer.line('b')
    expect(sink.text).toBe('')
    await new Promise((resolve) => setImmediate(resolve))
    expect(writes).toEqual(['a\nb\n'])
  })

  it('writes at once when a chunk is full', () => {
    const sink = new MemorySink()
    const writer = new LineWriter(sink)
    const line = 'x'.repeat(1000)
    for (let i = 0; i * 1001 < OUTPUT_CHUNK_BYTES; i++) writer.line(line)
    expect(sink.text.length).toBeGreaterThanOrEqual(OUTPUT_CHUNK_BYTES)
    writer.flush()
  })

  it('drops and counts lines once the stream holds too much, and drains what it took', async () => {
    const sink = new StalledSink({ highWaterMark: 1024 })
    let warned = 0
    const writer = new LineWriter(sink, () => warned++)
    const line = 'y'.repeat(64 * 1024 - 1)
    const fits = OUTPUT_BACKLOG_BYTES / (64 * 1024)
    for (let i = 0; i < fits + 10; i++) writer.line(line)
    expect(writer.dropped).toBeGreaterThan(0)
    expect(writer.dropped).toBeLessThanOrEqual(11)
    expect(warned).toBe(1)
    let drained = false
    const draining = writer.drain().then(() => {
      drained = true
    })
    await new Promise((resolve) => setImmediate(resolve))
    expect(drained).toBe(false)
    sink.release()
    await draining
    expect(sink.chunks.join('').length).toBe((fits + 10 - writer.dropped) * 64 * 1024)
  })
})

import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Temperature } from '@shoal/schema'
import { runCli } from '@shoal/service/testing'
import { readRecording } from '@shoal/transport'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SAMPLES } from './samples.js'
import { BIN, receiverWithPublisher, requireBuild, summaryLine, waitForLines } from './support.js'

beforeAll(requireBuild)

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shoal-recv-record-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const nowNs = () => BigInt(Date.now()) * 1_000_000n

describe('shoal-recv --record', () => {
  it('records every frame: topic, fingerprint, payload, session, sequence, source, receive time', async () => {
    const file = join(dir, 'run.rec')
    const before = nowNs()
    const { rx, pub } = await receiverWithPublisher(['--record', file, '--count', '12'])
    try {
      for (const _round of [0, 1]) for (const s of SAMPLES) await pub.publish(s.topic, s.type, s.message)
      const result = await rx.exited
      expect(result.code).toBe(0)
      expect(summaryLine(result.stderr)).toContain(`recorded=12 recordFile=${file}`)
      const after = nowNs()

      const recording = readRecording(file)
      expect(recording).toMatchObject({ truncatedTail: false, corrupt: false })
      expect(recording.frames).toHaveLength(12)
      recording.frames.forEach((frame, i) => {
        const sample = SAMPLES[i % SAMPLES.length]!
        const { payload, ...rest } = frame
        // Bytes compared as one Buffer: a deep equal of 300 kB element by element is slow.
        expect(Buffer.from(payload).equals(sample.type.encode(sample.type.create(sample.message)))).toBe(true)
        expect(rest).toEqual({
          receivedAtNs: expect.any(BigInt),
          sessionId: pub.info.sessionId,
          sequence: Math.floor(i / SAMPLES.length),
          fingerprint: sample.type.fingerprint,
          hops: 0,
          topic: sample.topic,
          source: `127.0.0.1:${pub.info.local.port}`,
        })
        expect(frame.receivedAtNs).toBeGreaterThanOrEqual(before)
        expect(frame.receivedAtNs).toBeLessThanOrEqual(after)
      })
      const times = recording.frames.map((frame) => frame.receivedAtNs)
      expect([...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(times)
    } finally {
      await pub.close()
    }
  })

  it('rotates at --record-max-size, keeping older files as FILE.1, FILE.2 …', async () => {
    const file = join(dir, 'rotating.rec')
    const { rx, pub } = await receiverWithPublisher([
      '--record',
      file,
      '--record-max-size',
      '1KiB',
      '--count',
      '40',
      '--output',
      'none',
    ])
    try {
      for (let i = 0; i < 40; i++) await pub.publish('temperature', Temperature, { celsius: i })
      const result = await rx.exited
      expect(result.code).toBe(0)
      const rotated = readdirSync(dir).filter((name) => name.startsWith('rotating.rec.')).length
      expect(rotated).toBeGreaterThanOrEqual(2)
      expect(summaryLine(result.stderr)).toContain(`rotations=${rotated}`)
      // Oldest first: FILE.n … FILE.1, then FILE.
      const files = [...Array.from({ length: rotated }, (_, i) => `${file}.${rotated - i}`), file]
      const sequences = files.flatMap((path) => {
        expect(statSync(path).size).toBeLessThanOrEqual(1024)
        const recording = readRecording(path)
        expect(recording).toMatchObject({ truncatedTail: false, corrupt: false })
        return recording.frames.map((frame) => frame.sequence)
      })
      expect(sequences).toEqual(Array.from({ length: 40 }, (_, i) => i))
    } finally {
      await pub.close()
    }
  })

  it('leaves a readable recording when killed mid-run (SIGKILL)', async () => {
    const file = join(dir, 'killed.rec')
    const { rx, pub } = await receiverWithPublisher(['--record', file])
    let sending = true
    const sender = (async () => {
      for (let i = 0; sending && i < 100_000; i++) {
        await pub.publish('temperature', Temperature, { celsius: i })
        if (i % 10 === 9) await new Promise((resolve) => setImmediate(resolve))
      }
    })()
    try {
      const shown = (await waitForLines(rx, 50)).length
      rx.child.kill('SIGKILL')
      const result = await rx.exited
      expect(result.signal).toBe('SIGKILL')
      sending = false
      await sender

      // Every frame shown was recorded first; all complete records read back, in order.
      const recording = readRecording(file)
      expect(recording.corrupt).toBe(false)
      const n = recording.frames.length
      expect(n).toBeGreaterThanOrEqual(shown)
      expect(recording.frames.map((frame) => frame.sequence)).toEqual(Array.from({ length: n }, (_, i) => i))

      // A kill in the middle of a write leaves part of a record: the reader stops before it.
      truncateSync(file, statSync(file).size - 3)
      const cut = readRecording(file)
      expect(cut).toMatchObject({ truncatedTail: true, corrupt: false })
      expect(cut.frames).toHaveLength(n - 1)
    } finally {
      sending = false
      await sender
      await pub.close()
    }
  })

  it('exits 1 naming the file when it cannot be opened', async () => {
    const file = join(dir, 'no-such-dir', 'x.rec')
    const result = await runCli(BIN, ['--record', file])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      new RegExp(`^shoal-recv: failed to start: cannot open recording ${file}: `, 'm'),
    )
    expect(existsSync(file)).toBe(false)
  })
})

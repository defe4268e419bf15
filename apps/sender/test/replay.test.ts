/** Replays of recordings written with the transport's RecordWriter, over 127.0.0.1. */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Imu, nowStampNs, Temperature } from '@shoal/schema'
import { startCli } from '@shoal/service/testing'
import { type RecordedFrame, RecordWriter } from '@shoal/transport'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { BIN, type Collector, collect, endpointArgs, summaryOf, uniqueEndpoint, waitFor } from './support.js'

const open: Collector[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()))
})
const scratch = mkdtempSync(join(tmpdir(), 'shoal-send-replay-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const BASE_NS = 1_700_000_000_000_000_000n
const header = { sourceId: 'recorded', stampNs: nowStampNs() }

/** Six frames 20 ms apart: three types, one fingerprint no registry knows, one 200 kB payload. */
function recordedFrames(): RecordedFrame[] {
  const payloads: Array<[string, number, Uint8Array]> = [
    ['imu', Imu.fingerprint, Imu.encode({ header, linearAcceleration: { z: 9.81 } })],
    ['temperature', Temperature.fingerprint, Temperature.encode({ header, celsius: 20.25 })],
    ['custom/blob', 0xdeadbeef, new Uint8Array([1, 2, 3, 4, 5])],
    ['imu', Imu.fingerprint, Imu.encode({ header, linearAcceleration: { z: 9.7 } })],
    ['camera/raw', 0x01020304, new Uint8Array(200_000).map((_, i) => i & 0xff)],
    ['temperature', Temperature.fingerprint, Temperature.encode({ header, celsius: 20.5 })],
  ]
  return payloads.map(([topic, fingerprint, payload], i) => ({
    receivedAtNs: BASE_NS + BigInt(i) * 20_000_000n,
    sessionId: 0x11223344,
    sequence: i,
    fingerprint,
    hops: 0,
    topic,
    source: '127.0.0.1',
    payload,
  }))
}

function writeRecording(name: string, frames: readonly RecordedFrame[]): string {
  const path = join(scratch, name)
  const writer = new RecordWriter(path)
  for (const frame of frames) writer.write(frame)
  writer.close()
  return path
}

describe('--replay', () => {
  it.each([
    ['original timing', []],
    ['--speed 0', ['--speed', '0']],
  ])('reproduces every frame in order (topic, fingerprint, payload) with %s', async (_, speed) => {
    const recorded = recordedFrames()
    const path = writeRecording(`run-${speed.length}.rec`, recorded)
    const endpoint = uniqueEndpoint()
    const rx = await collect(endpoint, { decode: false })
    open.push(rx)
    const running = startCli(BIN, [...endpointArgs(endpoint), '--replay', path, ...speed])
    await rx.follow(running)
    const result = await running.exited
    expect(result.code).toBe(0)
    await waitFor(() => rx.frames().length >= recorded.length, 5000, `${recorded.length} frames`)
    expect(
      rx
        .frames()
        .map((f) => ({ topic: f.topic, fingerprint: f.fingerprint, payload: Buffer.from(f.payload) })),
    ).toEqual(
      recorded.map((f) => ({ topic: f.topic, fingerprint: f.fingerprint, payload: Buffer.from(f.payload) })),
    )
    const summary = summaryOf(result.stderr)
    expect(summary.reason).toBe('end of recording')
    expect(summary.fields).toMatchObject({ frames: '6', recorded: '6' })
    expect(summary.fields.truncatedTail).toBeUndefined()
  })

  it('replays the whole records of a recording cut off mid-record, and reports the cut', async () => {
    const recorded = recordedFrames().slice(0, 3)
    const path = writeRecording('cut.rec', recorded)
    appendFileSync(path, Buffer.from([0, 0, 1, 0, 9, 9])) // the start of a record, killed mid-write
    const endpoint = uniqueEndpoint()
    const rx = await collect(endpoint, { decode: false })
    open.push(rx)
    const running = startCli(BIN, [...endpointArgs(endpoint), '--replay', path, '--speed', '0'])
    await rx.follow(running)
    const result = await running.exited
    expect(result.code).toBe(0)
    await waitFor(() => rx.frames().length >= 3, 5000, '3 frames')
    expect(rx.frames().map((f) => f.topic)).toEqual(recorded.map((f) => f.topic))
    expect(result.stderr).toMatch(/ends inside a record/)
    expect(summaryOf(result.stderr).fields).toMatchObject({ frames: '3', truncatedTail: 'true' })
  })

  it('exits 1 naming --replay when the file is not a recording', async () => {
    const path = join(scratch, 'not-a-recording.txt')
    appendFileSync(path, 'hello\n')
    const running = startCli(BIN, ['--interface', '127.0.0.1', '--replay', path])
    const result = await running.exited
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /^shoal-send: failed to start: --replay .*not-a-recording\.txt: .*not a Shoal recording/m,
    )
  })
})

/** Replays of recordings written with the transport's RecordWriter, over 127.0.0.1. */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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

  it('replays every good record of a damaged recording, reports what it skipped, and exits 1', async () => {
    const recorded = recordedFrames()
    const path = writeRecording('damaged.rec', recorded)
    const bytes = readFileSync(path)
    // Where each record starts: after the 12-byte file header, each is 8 bytes + its length.
    const starts: number[] = []
    for (let at = 12; at < bytes.length; at += 8 + bytes.readUInt32BE(at)) starts.push(at)
    const second = starts[2]! - starts[1]!
    bytes[starts[1]! + 30]! ^= 0x04 // a flipped bit in the second record
    const garbage = Buffer.from('not a record, inserted between the 4th and the 5th')
    writeFileSync(
      path,
      Buffer.concat([bytes.subarray(0, starts[4]), garbage, bytes.subarray(starts[4]!, -3)]),
    )
    const endpoint = uniqueEndpoint()
    const rx = await collect(endpoint, { decode: false })
    open.push(rx)
    const running = startCli(BIN, [...endpointArgs(endpoint), '--replay', path, '--speed', '0'])
    await rx.follow(running)
    const result = await running.exited
    expect(result.code).toBe(1)
    const good = [0, 2, 3, 4].map((i) => recorded[i]!) // the 2nd is damaged, the 6th cut off
    await waitFor(() => rx.frames().length >= good.length, 5000, `${good.length} frames`)
    expect(rx.frames().map((f) => [f.topic, Buffer.from(f.payload)])).toEqual(
      good.map((f) => [f.topic, Buffer.from(f.payload)]),
    )
    const skipped = second + garbage.length + (bytes.length - starts[5]! - 3)
    expect(result.stderr).toMatch(
      new RegExp(
        `^shoal-send: error: \\S*damaged\\.rec is damaged: 2 stretches with no good record, the first at byte ${starts[1]} \\(${skipped.toLocaleString('en-US')} bytes skipped in all\\); replayed the 4 good records$`,
        'm',
      ),
    )
    expect(result.stderr).toMatch(/ends inside a record/)
    expect(summaryOf(result.stderr)).toMatchObject({
      reason: 'error',
      fields: {
        frames: '4',
        recorded: '4',
        damaged: '2',
        skippedBytes: String(skipped),
        truncatedTail: 'true',
      },
    })
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

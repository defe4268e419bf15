/** Replays of MCAP recordings (written with @shoal/recording, as shoal-recv --record FILE.mcap does), over 127.0.0.1. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMcapWriter, type RecordingFrame } from '@shoal/recording'
import { Imu, loadProtoTypes, nowStampNs, Temperature } from '@shoal/schema'
import { startCli } from '@shoal/service/testing'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { BIN, type Collector, collect, endpointArgs, summaryOf, uniqueEndpoint, waitFor } from './support.js'

const open: Collector[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()))
})
const scratch = mkdtempSync(join(tmpdir(), 'shoal-send-replay-mcap-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const BASE_NS = 1_700_000_000_000_000_000n
const header = { sourceId: 'recorded', stampNs: nowStampNs() }

/** Eight frames 25 ms apart: two types, one fingerprint no registry knows, one 200 kB payload. */
function recordedFrames(): RecordingFrame[] {
  const payloads: Array<[string, number, string | undefined, Uint8Array]> = [
    ['imu', Imu.fingerprint, Imu.typeName, Imu.encode({ header, linearAcceleration: { z: 9.81 } })],
    [
      'temperature',
      Temperature.fingerprint,
      Temperature.typeName,
      Temperature.encode({ header, celsius: 20.25 }),
    ],
    ['custom/blob', 0xdeadbeef, undefined, new Uint8Array([1, 2, 3, 4, 5])],
    ['imu', Imu.fingerprint, Imu.typeName, Imu.encode({ header, linearAcceleration: { z: 9.7 } })],
    ['camera/raw', 0x01020304, undefined, new Uint8Array(200_000).map((_, i) => i & 0xff)],
    [
      'temperature',
      Temperature.fingerprint,
      Temperature.typeName,
      Temperature.encode({ header, celsius: 20.5 }),
    ],
    ['imu', Imu.fingerprint, Imu.typeName, Imu.encode({ header, linearAcceleration: { z: 9.6 } })],
    ['imu', Imu.fingerprint, Imu.typeName, Imu.encode({ header, linearAcceleration: { z: 9.5 } })],
  ]
  return payloads.map(([topic, fingerprint, typeName, payload], i) => ({
    receivedAtNs: BASE_NS + BigInt(i) * 25_000_000n,
    publishedAtNs: undefined,
    sessionId: 0x11223344,
    sequence: i,
    fingerprint,
    hops: 0,
    topic,
    source: '127.0.0.1:40000',
    typeName,
    payload,
  }))
}

/**
 * Writes `frames` to an MCAP file, one chunk each (each closes at the next write: the age bound is
 * 0), and closes it cleanly unless `killed`: then the file ends after its last chunk, as a killed
 * recorder leaves it. Returns the path and where each chunk ended.
 */
async function writeMcap(name: string, frames: readonly RecordingFrame[], killed = false) {
  const path = join(scratch, name)
  const writer = await createMcapWriter(path, { chunkMaxMs: 0 })
  const ends: number[] = []
  for (const frame of frames) {
    writer.write(frame)
    writer.tick()
    ends.push(writer.size)
  }
  if (killed) {
    const bytes = readFileSync(path)
    writer.close()
    writeFileSync(path, bytes)
  } else writer.close()
  return { path, ends }
}

async function replay(path: string, speed: readonly string[] = []) {
  const endpoint = uniqueEndpoint()
  const rx = await collect(endpoint, { decode: false })
  open.push(rx)
  const running = startCli(BIN, [...endpointArgs(endpoint), '--replay', path, ...speed])
  await rx.follow(running)
  return { rx, result: await running.exited }
}

const wire = (frames: readonly { topic: string; fingerprint: number; payload: Uint8Array }[]) =>
  frames.map((f) => ({ topic: f.topic, fingerprint: f.fingerprint, payload: Buffer.from(f.payload) }))

describe('--replay FILE.mcap', () => {
  it.each([
    ['original timing', []],
    ['--speed 4', ['--speed', '4']],
    ['--speed 0', ['--speed', '0']],
  ])('delivers every frame in order (topic, fingerprint, payload) with %s', async (_, speed) => {
    const recorded = recordedFrames()
    const { path } = await writeMcap(`run-${speed.join('')}.mcap`, recorded)
    const { rx, result } = await replay(path, speed)
    expect(result.code).toBe(0)
    await waitFor(() => rx.frames().length >= recorded.length, 5000, `${recorded.length} frames`)
    expect(wire(rx.frames())).toEqual(wire(recorded))
    const summary = summaryOf(result.stderr)
    expect(summary.reason).toBe('end of recording')
    expect(summary.fields).toMatchObject({ frames: '8', recorded: '8' })
    expect(result.stderr).toMatch(/"format":"mcap"/)
  })

  it('announces the recording’s own schemas, so a receiver without the type decodes it', async () => {
    const proto = join(scratch, 'wind.proto')
    writeFileSync(
      proto,
      'syntax = "proto3";\npackage acme.v1;\nimport "shoal/v1/header.proto";\nmessage Wind { shoal.v1.Header header = 1; double speed = 2; }\n',
    )
    const loaded = loadProtoTypes([proto])
    const Wind = loaded.types.find((t) => t.typeName === 'acme.v1.Wind')
    if (Wind === undefined) throw new Error('acme.v1.Wind not loaded')
    const path = join(scratch, 'wind.mcap')
    const writer = await createMcapWriter(path, { schemaData: (name) => loaded.descriptorSets.get(name) })
    for (let i = 0; i < 3; i++)
      writer.write({
        receivedAtNs: BASE_NS + BigInt(i) * 25_000_000n,
        publishedAtNs: undefined,
        sessionId: 0x11223344,
        sequence: i,
        fingerprint: Wind.fingerprint,
        hops: 0,
        topic: 'weather/wind',
        source: '127.0.0.1:40000',
        typeName: Wind.typeName,
        payload: Wind.encode(Wind.fromObject({ speed: i + 0.5 })),
      })
    writer.close()
    const endpoint = uniqueEndpoint()
    const rx = await collect(endpoint) // decodes, and learns types in-band
    open.push(rx)
    const running = startCli(BIN, [...endpointArgs(endpoint), '--replay', path, '--speed', '0'])
    await rx.follow(running)
    expect((await running.exited).code).toBe(0)
    await waitFor(() => rx.frames().length >= 3, 5000, '3 wind frames decoded')
    expect(rx.frames().map((f) => [f.typeName, (f.message as { speed: number }).speed])).toEqual([
      ['acme.v1.Wind', 0.5],
      ['acme.v1.Wind', 1.5],
      ['acme.v1.Wind', 2.5],
    ])
  })

  it('replays a file a killed recorder left (no summary) to its last chunk, and exits 0', async () => {
    const recorded = recordedFrames()
    const { path } = await writeMcap('killed.mcap', recorded, true)
    const { rx, result } = await replay(path, ['--speed', '0'])
    expect(result.code).toBe(0)
    await waitFor(() => rx.frames().length >= recorded.length, 5000, `${recorded.length} frames`)
    expect(wire(rx.frames())).toEqual(wire(recorded))
  })

  it('skips a damaged chunk, replays the rest, reports it and exits 1', async () => {
    const recorded = recordedFrames()
    const { path, ends } = await writeMcap('damaged.mcap', recorded)
    const bytes = readFileSync(path)
    // The 3rd frame's records start where the 2nd frame's end: its new Channel record (outside the
    // chunk), then its chunk. Each record is an opcode, a u64 length, and that many bytes. A flipped
    // bit in the middle of the chunk (opcode 0x06).
    let chunkStart = ends[1]!
    while (bytes[chunkStart] !== 0x06) chunkStart += 9 + Number(bytes.readBigUInt64LE(chunkStart + 1))
    const chunkBytes = 9 + Number(bytes.readBigUInt64LE(chunkStart + 1))
    bytes[chunkStart + Math.floor(chunkBytes / 2)]! ^= 0x10
    writeFileSync(path, bytes)
    const { rx, result } = await replay(path, ['--speed', '0'])
    expect(result.code).toBe(1)
    const good = recorded.filter((_, i) => i !== 2)
    await waitFor(() => rx.frames().length >= good.length, 5000, `${good.length} frames`)
    expect(wire(rx.frames())).toEqual(wire(good))
    expect(result.stderr).toMatch(
      new RegExp(
        `^shoal-send: error: \\S*damaged\\.mcap is damaged: 1 stretch with no good record, the first at byte ${chunkStart.toLocaleString('en-US')} \\(${chunkBytes.toLocaleString('en-US')} bytes skipped in all\\); replayed the 7 good records$`,
        'm',
      ),
    )
    expect(summaryOf(result.stderr).fields).toMatchObject({ frames: '7', recorded: '7', damaged: '1' })
  })
})

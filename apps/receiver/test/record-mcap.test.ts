/**
 * `--record FILE.mcap` and `--from FILE` end to end on 127.0.0.1: live traffic recorded to MCAP, read
 * back by MCAP's own libraries (@mcap/core, @mcap/support) and protobufjs with nothing but the
 * schemas in the file, and printed again by `--from` exactly as the live receiver printed it.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type IReadable, McapIndexedReader, McapStreamReader } from '@mcap/core'
import { loadDecompressHandlers } from '@mcap/support'
import { Temperature } from '@shoal/schema'
import { runCli } from '@shoal/service/testing'
import protobuf from 'protobufjs'
import 'protobufjs/ext/descriptor.js'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { expectedObject, SAMPLES } from './samples.js'
import {
  BIN,
  jsonLines,
  lines,
  receiverWithPublisher,
  requireBuild,
  summaryLine,
  until,
  WAIT_MS,
} from './support.js'

beforeAll(requireBuild)

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shoal-recv-mcap-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

/** ProtoJSON-like conversion, as Shoal's JSON lines write messages. */
const AS_JSON = { longs: String, enums: String, bytes: String, defaults: true, arrays: true, json: true }
const MCAP_HEADER_BYTES = 64

/** A finished MCAP file through @mcap/core's indexed reader (summary, footer, CRCs checked). */
async function indexed(path: string): Promise<{ reader: McapIndexedReader; close: () => Promise<void> }> {
  const handle = await open(path, 'r')
  const size = (await handle.stat()).size
  const readable: IReadable = {
    size: async () => BigInt(size),
    read: async (offset, length) => {
      const out = new Uint8Array(Number(length))
      await handle.read(out, 0, out.length, Number(offset))
      return out
    },
  }
  const reader = await McapIndexedReader.Initialize({
    readable,
    decompressHandlers: await loadDecompressHandlers(),
  })
  return { reader, close: () => handle.close() }
}

/** Decodes a message with protobufjs from its schema's FileDescriptorSet alone (types cached per schema). */
function decoderOf(): (schema: { id: number; name: string; data: Uint8Array }, data: Uint8Array) => unknown {
  const types = new Map<number, protobuf.Type>()
  return (schema, data) => {
    let type = types.get(schema.id)
    if (type === undefined) {
      type = protobuf.Root.fromDescriptor(schema.data).lookupType(schema.name)
      types.set(schema.id, type)
    }
    return JSON.parse(JSON.stringify(type.toObject(type.decode(data), AS_JSON)))
  }
}

describe('shoal-recv --record FILE.mcap', () => {
  it('records live frames that any MCAP reader decodes with the schemas in the file: values as sent', async () => {
    const file = join(dir, 'run.mcap')
    const before = BigInt(Date.now()) * 1_000_000n
    const n = 2 * SAMPLES.length
    const { rx, pub } = await receiverWithPublisher([
      '--record',
      file,
      '--count',
      String(n),
      '--output',
      'json',
    ])
    try {
      for (const _round of [0, 1]) for (const s of SAMPLES) await pub.publish(s.topic, s.type, s.message)
      const result = await rx.exited
      expect(result.code).toBe(0)
      expect(summaryLine(result.stderr)).toContain(`recorded=${n} recordFile=${file}`)
      const live = jsonLines(result.stdout)
      expect(live).toHaveLength(n)

      const { reader, close } = await indexed(file)
      try {
        expect(reader.statistics?.messageCount).toBe(BigInt(n))
        expect(reader.header.library).toMatch(/^shoal-recv \d+\.\d+\.\d+$/)
        const decode = decoderOf()
        let i = 0
        for await (const message of reader.readMessages()) {
          const sample = SAMPLES[i % SAMPLES.length]!
          const channel = reader.channelsById.get(message.channelId)!
          const schema = reader.schemasById.get(channel.schemaId)!
          expect(channel).toMatchObject({ topic: sample.topic, messageEncoding: 'protobuf' })
          expect(Object.fromEntries(channel.metadata)).toEqual({
            'shoal.session': pub.info.sessionId.toString(16).padStart(8, '0'),
            'shoal.source': `127.0.0.1:${pub.info.local.port}`,
            'shoal.fingerprint': `0x${sample.type.fingerprint.toString(16).padStart(8, '0')}`,
            'shoal.hops': '0',
          })
          expect(schema).toMatchObject({ name: sample.type.typeName, encoding: 'protobuf' })
          expect(decode(schema, message.data)).toEqual(expectedObject(sample))
          expect(message.sequence).toBe(Math.floor(i / SAMPLES.length))
          expect(message.publishTime).toBe(1_700_000_000_123_456_789n) // the header's stamp
          expect(message.logTime).toBeGreaterThanOrEqual(before)
          // the log time is in the millisecond the live line printed
          expect(message.logTime / 1_000_000n).toBe(BigInt(Date.parse(live[i]!.receivedAt as string)))
          i++
        }
        expect(i).toBe(n)
      } finally {
        await close()
      }
    } finally {
      await pub.close()
    }
  })

  it('after kill -9 mid-stream, reads with McapStreamReader up to its last whole chunk: every message decodes', async () => {
    const file = join(dir, 'killed.mcap')
    const { rx, pub } = await receiverWithPublisher(['--record', file, '--output', 'json'])
    let sending = true
    const sender = (async () => {
      for (let i = 0; sending && i < 100_000; i++) {
        await pub.publish('temperature', Temperature, { header: { sourceId: 't0' }, celsius: i })
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
    })()
    try {
      // Chunks are written when 1 s old: wait for two, so some are whole and one is open.
      await until(() => statSync(file).size > MCAP_HEADER_BYTES + 2000, WAIT_MS, 'chunks on disk')
      rx.child.kill('SIGKILL')
      const result = await rx.exited
      expect(result.signal).toBe('SIGKILL')
      sending = false
      await sender

      const bytes = new Uint8Array(readFileSync(file))
      const reader = new McapStreamReader({ decompressHandlers: await loadDecompressHandlers() })
      reader.append(bytes)
      const decode = decoderOf()
      const schemas = new Map<number, { id: number; name: string; data: Uint8Array }>()
      const channels = new Map<number, number>()
      const celsius: number[] = []
      const sequences: number[] = []
      let chunks = 0
      for (let record = reader.nextRecord(); record !== undefined; record = reader.nextRecord()) {
        if (record.type === 'Schema') schemas.set(record.id, record)
        if (record.type === 'Channel') channels.set(record.id, record.schemaId)
        if (record.type === 'MessageIndex') chunks++ // one per channel per chunk: one channel here
        if (record.type === 'Message') {
          const schema = schemas.get(channels.get(record.channelId)!)!
          celsius.push((decode(schema, record.data) as { celsius: number }).celsius)
          sequences.push(record.sequence)
        }
      }
      expect(reader.done()).toBe(false) // no footer: the recorder never closed the file
      expect(chunks).toBeGreaterThanOrEqual(1)
      // every message up to the last whole chunk, in order, none missing; the open chunk is lost
      const n = sequences.length
      expect(n).toBeGreaterThan(0)
      expect(sequences).toEqual(Array.from({ length: n }, (_, i) => i))
      expect(celsius).toEqual(Array.from({ length: n }, (_, i) => i))
      // what remains unread is at most one record cut by the kill
      expect(reader.bytesRemaining()).toBeLessThan(bytes.length)

      // --from reads it too, exits 0, and prints the n messages as the live receiver printed them.
      // The live receiver's last lines may still have been in its stdout buffer (a busy reader of
      // the pipe) when it was killed: what it did print is a prefix of what --from prints.
      const from = await runCli(BIN, ['--from', file])
      expect(from.code).toBe(0)
      const replayed = lines(from.stdout)
      expect(replayed).toHaveLength(n)
      const live = lines(result.stdout).slice(0, n)
      expect(live.length).toBeGreaterThan(0)
      expect(replayed.slice(0, live.length)).toEqual(live)
      expect(from.stderr).toMatch(/has no summary \(the recorder was killed\)/)
    } finally {
      sending = false
      await sender
      await pub.close()
    }
  })

  it('writes the summary and footer on SIGTERM', async () => {
    const file = join(dir, 'stopped.mcap')
    const { rx, pub } = await receiverWithPublisher(['--record', file, '--output', 'json'])
    try {
      for (let i = 0; i < 5; i++) await pub.publish('temperature', Temperature, { celsius: i })
      await rx.waitFor(/^(?:.*\n){5}/, 'stdout')
      rx.child.kill('SIGTERM')
      const result = await rx.exited
      expect(result.code).toBe(0)
      const { reader, close } = await indexed(file)
      await close()
      expect(reader.statistics).toMatchObject({ messageCount: 5n, channelCount: 1, schemaCount: 1 })
      expect(reader.chunkIndexes.length).toBeGreaterThanOrEqual(1)
    } finally {
      await pub.close()
    }
  })
})

describe('shoal-recv --from FILE', () => {
  it.each(['run.mcap', 'run.rec'])(
    'prints %s exactly as the live receiver printed it, and exits 0 at its end',
    async (name) => {
      const file = join(dir, name)
      const n = 3 * SAMPLES.length
      const { rx, pub } = await receiverWithPublisher([
        '--record',
        file,
        '--count',
        String(n),
        '--output',
        'json',
      ])
      try {
        for (const _round of [0, 1, 2]) for (const s of SAMPLES) await pub.publish(s.topic, s.type, s.message)
        const live = await rx.exited
        expect(live.code).toBe(0)
        const from = await runCli(BIN, ['--from', file])
        expect(from.code).toBe(0)
        expect(from.stdout).toBe(live.stdout)
        expect(lines(from.stdout)).toHaveLength(n)
        expect(summaryLine(from.stderr)).toContain('(end of recording)')
        expect(summaryLine(from.stderr)).toContain(`frames=${n} from=${file}`)

        // --topic and --count apply as they do live
        const imu = await runCli(BIN, ['--from', file, '--topic', 'imu', '--count', '2'])
        expect(imu.code).toBe(0)
        expect(lines(imu.stdout)).toEqual(
          lines(live.stdout)
            .filter((l) => l.includes('"topic":"imu"'))
            .slice(0, 2),
        )
      } finally {
        await pub.close()
      }
    },
  )

  it('prints every good frame of a damaged MCAP file, then exits 1 naming the damage', async () => {
    const file = join(dir, 'damaged.mcap')
    const { rx, pub } = await receiverWithPublisher([
      '--record',
      file,
      '--count',
      String(SAMPLES.length),
      '--output',
      'json',
    ])
    try {
      for (const s of SAMPLES) await pub.publish(s.topic, s.type, s.message)
      const live = await rx.exited
      expect(live.code).toBe(0)
    } finally {
      await pub.close()
    }
    // All the frames are in one chunk; damage its middle: nothing good is left, but the file reads.
    const { reader, close } = await indexed(file)
    await close()
    const chunk = reader.chunkIndexes[0]!
    const bytes = readFileSync(file)
    const middle = Number(chunk.chunkStartOffset + chunk.chunkLength / 2n)
    bytes[middle]! ^= 0x20
    writeFileSync(file, bytes)
    const from = await runCli(BIN, ['--from', file])
    expect(from.code).toBe(1)
    expect(from.stdout).toBe('')
    expect(from.stderr).toMatch(
      /damaged\.mcap is damaged: 1 stretch with no good record, the first at byte [\d,]+/,
    )
  })

  it('exits 1 naming --from when the file is missing or not a recording', async () => {
    const missing = await runCli(BIN, ['--from', join(dir, 'missing.mcap')])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^shoal-recv: failed to start: --from \S*missing\.mcap: ENOENT/m)
    const text = join(dir, 'notes.mcap')
    writeFileSync(text, 'just text\n')
    const foreign = await runCli(BIN, ['--from', text])
    expect(foreign.code).toBe(1)
    expect(foreign.stderr).toMatch(/--from \S*notes\.mcap: \S*notes\.mcap is not a Shoal recording/)
  })

  it('exits 2 naming a network flag given with --from', async () => {
    const result = await runCli(BIN, ['--from', 'x.mcap', '--group', '239.1.2.3'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/--group is for receiving from the network; --from reads a file/)
  })
})

describe('shoal-recv --from, with no network to reach', () => {
  /**
   * `unshare -n`: a new network namespace, where nothing but loopback exists (brought up, because
   * the default `--interface 127.0.0.1` is checked when flags are read, even with `--from`).
   */
  const probe = spawnSync('unshare', ['-n', 'true'])
  const missing =
    probe.status === 0
      ? undefined
      : `unshare -n not possible: ${probe.stderr?.toString().trim() || probe.error?.message}`

  it('prints a recording inside a network namespace of its own as it does outside', async (ctx) => {
    if (missing !== undefined) {
      if (process.env.CI === 'true') throw new Error(`${missing} (needed when CI=true)`)
      ctx.skip(missing)
    }
    const file = join(dir, 'offline.mcap')
    const { rx, pub } = await receiverWithPublisher(['--record', file, '--count', '3', '--output', 'json'])
    try {
      for (let i = 0; i < 3; i++) await pub.publish('temperature', Temperature, { celsius: i })
      expect((await rx.exited).code).toBe(0)
    } finally {
      await pub.close()
    }
    const outside = await runCli(BIN, ['--from', file])
    const inside = spawnSync(
      'unshare',
      ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, BIN, '--from', file],
      { encoding: 'utf8' },
    )
    expect(inside.status).toBe(0)
    expect(inside.stdout).toBe(outside.stdout)
    expect(lines(inside.stdout)).toHaveLength(3)
  })
})

import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createDynamicRegistry, Imu, loadProtoTypes, registry } from '@shoal/schema'
import protobuf from 'protobufjs'
import 'protobufjs/ext/descriptor.js'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { comparable, frameOf, indexedReader, mixedFrames, scratch } from '../test/support.js'
import { loadCodecs } from './codecs.js'
import { readMcapFrames } from './mcap-reader.js'
import { MCAP_MAX_CHANNELS_PER_FILE, McapRecordWriter, rotatedPath } from './mcap-writer.js'
import { emptyReport } from './recording-frame.js'

/** The JSON-friendly conversion `MessageType.toObject` makes, for comparing with it. */
const AS_JSON = { longs: String, enums: String, bytes: String, defaults: true, arrays: true, json: true }

let dir: string
let remove: () => void
beforeEach(() => {
  ;({ dir, remove } = scratch())
})
afterEach(() => remove())

/** A writer with a clock the test moves. */
async function writer(name: string, options: ConstructorParameters<typeof McapRecordWriter>[2] = {}) {
  const clock = { ms: 0 }
  const path = join(dir, name)
  const w = new McapRecordWriter(path, await loadCodecs(), { now: () => clock.ms, ...options })
  return { w, path, clock }
}

function readAll(path: string) {
  return loadCodecs().then((codecs) => {
    const report = emptyReport()
    const frames = [...readMcapFrames(path, codecs, report)]
    return { frames, report }
  })
}

describe('McapRecordWriter, closed cleanly', () => {
  it('writes a summary that @mcap/core’s indexed reader checks and reads: schemas, channels, statistics', async () => {
    const { w, path } = await writer('run.mcap', { library: 'test 1.0' })
    const frames = mixedFrames(30)
    for (const frame of frames) w.write(frame)
    w.close()

    const { reader, close } = await indexedReader(path)
    try {
      expect(reader.header.library).toBe('test 1.0')
      expect(reader.statistics?.messageCount).toBe(30n)
      expect([...reader.schemasById.values()].map((s) => [s.name, s.encoding]).sort()).toEqual([
        ['shoal.v1.Heartbeat', 'protobuf'],
        ['shoal.v1.Imu', 'protobuf'],
        ['shoal.v1.Temperature', 'protobuf'],
      ])
      // imu from two sessions: two channels of one topic, told apart by their metadata
      const channels = [...reader.channelsById.values()]
      expect(channels.map((c) => c.topic).sort()).toEqual(['heartbeat', 'imu', 'imu', 'temperature'])
      const imu = channels.filter((c) => c.topic === 'imu').map((c) => Object.fromEntries(c.metadata))
      expect(imu).toEqual(
        expect.arrayContaining([
          {
            'shoal.session': '1234abcd',
            'shoal.source': '127.0.0.1:40000',
            'shoal.fingerprint': `0x${Imu.fingerprint.toString(16).padStart(8, '0')}`,
            'shoal.hops': '0',
          },
          expect.objectContaining({ 'shoal.session': '0badcafe' }),
        ]),
      )
      for (const channel of channels) expect(channel.messageEncoding).toBe('protobuf')

      const messages = []
      for await (const message of reader.readMessages()) messages.push(message)
      expect(messages.map((m) => m.sequence)).toEqual(frames.map((f) => f.sequence))
      expect(messages.map((m) => m.logTime)).toEqual(frames.map((f) => f.receivedAtNs))
      expect(messages.map((m) => m.publishTime)).toEqual(frames.map((f) => f.publishedAtNs))
      expect(reader.chunkIndexes.every((c) => c.compression === 'zstd')).toBe(true)
    } finally {
      await close()
    }
  })

  it('holds schemas that decode every message without Shoal: protobufjs from the schema bytes alone', async () => {
    const { w, path } = await writer('run.mcap')
    const frames = mixedFrames(12)
    for (const frame of frames) w.write(frame)
    w.close()
    const { reader, close } = await indexedReader(path)
    try {
      let i = 0
      for await (const message of reader.readMessages()) {
        const channel = reader.channelsById.get(message.channelId)!
        const schema = reader.schemasById.get(channel.schemaId)!
        const type = protobuf.Root.fromDescriptor(schema.data).lookupType(schema.name)
        const decoded = type.toObject(type.decode(message.data), AS_JSON)
        const shoal = registry.byName(schema.name)!
        expect(JSON.parse(JSON.stringify(decoded))).toEqual(shoal.toObject(shoal.decode(frames[i]!.payload)))
        i++
      }
      expect(i).toBe(12)
    } finally {
      await close()
    }
  })

  it('reads back with readMcapFrames as written, every field', async () => {
    const { w, path } = await writer('run.mcap', { compression: 'none' })
    const frames = mixedFrames(50)
    for (const frame of frames) w.write(frame)
    w.close()
    const { frames: read, report } = await readAll(path)
    expect(comparable(read)).toEqual(comparable(frames))
    expect(report).toMatchObject({ frames: 50, complete: true, corrupt: false, truncatedTail: false })
  })

  it('stores a frame of an unknown type on a channel without a schema, and reads it back', async () => {
    const { w, path } = await writer('run.mcap')
    const odd = frameOf(Imu, Imu.create({}), {
      index: 0,
      typeName: undefined,
      fingerprint: 0xdeadbeef,
      topic: 'odd',
    })
    w.write(odd)
    w.close()
    const { reader, close } = await indexedReader(path)
    try {
      expect([...reader.channelsById.values()][0]).toMatchObject({ schemaId: 0, topic: 'odd' })
      expect(reader.schemasById.size).toBe(0)
    } finally {
      await close()
    }
    const { frames } = await readAll(path)
    expect(frames[0]).toMatchObject({ fingerprint: 0xdeadbeef, typeName: undefined, topic: 'odd' })
  })

  it('describes a type a registry learns while recording (schemaData), for readers without Shoal', async () => {
    const types = createDynamicRegistry(registry)
    const { w, path } = await writer('run.mcap', { schemaData: (name) => types.descriptorSet(name) })
    w.write(frameOf(Imu, Imu.create({}), { index: 0 }))
    // learnt after the writer opened: from a .proto that is not built in
    const proto = join(dir, 'wind.proto')
    writeFileSync(
      proto,
      'syntax = "proto3";\npackage acme.v1;\nmessage Wind { double speed = 1; string site = 2; }\n',
    )
    const Wind = loadProtoTypes([proto]).types[0]!
    expect(types.add(Wind)).toBe('added')
    w.write(frameOf(Wind, Wind.fromObject({ speed: 7.5, site: 'pier' }), { index: 1, topic: 'wind' }))
    w.close()
    const { reader, close } = await indexedReader(path)
    try {
      const schemas = [...reader.schemasById.values()]
      expect(schemas.map((s) => s.name).sort()).toEqual(['acme.v1.Wind', 'shoal.v1.Imu'])
      const schema = schemas.find((s) => s.name === 'acme.v1.Wind')!
      const channel = [...reader.channelsById.values()].find((c) => c.topic === 'wind')!
      expect(channel.schemaId).toBe(schema.id)
      const type = protobuf.Root.fromDescriptor(schema.data).lookupType('acme.v1.Wind')
      const messages = []
      for await (const message of reader.readMessages({ topics: ['wind'] })) messages.push(message)
      expect(type.toObject(type.decode(messages[0]!.data))).toEqual({ speed: 7.5, site: 'pier' })
    } finally {
      await close()
    }
    // readMcapFrames hands each frame its channel's schema, for readers that do not know the type
    const { frames } = await readAll(path)
    expect(frames.map((f) => f.typeName)).toEqual(['shoal.v1.Imu', 'acme.v1.Wind'])
    const hex = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('hex')
    expect(hex(frames[1]?.schemaData)).toBe(hex(types.descriptorSet('acme.v1.Wind')))
    expect(hex(frames[0]?.schemaData)).toBe(hex(types.descriptorSet('shoal.v1.Imu')))
  })

  it('gives frames of a type learnt mid-file a new channel with the schema', async () => {
    const { w, path } = await writer('run.mcap')
    w.write(frameOf(Imu, Imu.create({}), { index: 0, typeName: undefined })) // not known yet
    w.write(frameOf(Imu, Imu.create({}), { index: 1 })) // known now
    w.close()
    const { reader, close } = await indexedReader(path)
    try {
      const channels = [...reader.channelsById.values()]
      expect(channels.map((c) => c.schemaId === 0)).toEqual([true, false])
      expect(reader.schemasById.get(channels[1]!.schemaId)?.name).toBe('shoal.v1.Imu')
    } finally {
      await close()
    }
  })

  it('moves an existing file to FILE.1.mcap instead of overwriting it', async () => {
    const path = join(dir, 'run.mcap')
    writeFileSync(path, 'an older recording')
    const { w } = await writer('run.mcap')
    w.close()
    expect(readFileSync(rotatedPath(path, 1), 'utf8')).toBe('an older recording')
  })
})

describe('chunks', () => {
  it('closes a chunk at the byte bound and on tick() at the age bound; a chunk reaches disk before close', async () => {
    const { w, path, clock } = await writer('run.mcap', { chunkMaxBytes: 2000, chunkMaxMs: 1000 })
    const frames = mixedFrames(40)
    const before = w.size
    w.write(frames[0]!)
    expect(w.size).toBe(before) // open chunk: in memory
    clock.ms = 999
    w.tick()
    expect(w.size).toBe(before)
    clock.ms = 1000
    w.tick()
    expect(w.size).toBeGreaterThan(before) // on disk, without close
    expect((await readAll(path)).frames).toHaveLength(1)
    for (const frame of frames.slice(1)) w.write(frame)
    w.close()
    const { reader, close } = await indexedReader(path)
    try {
      expect(reader.chunkIndexes.length).toBeGreaterThan(2)
      for (const chunk of reader.chunkIndexes.slice(1, -1))
        expect(chunk.uncompressedSize).toBeGreaterThanOrEqual(2000n)
    } finally {
      await close()
    }
  })

  it('stores an incompressible chunk uncompressed', async () => {
    const { w, path } = await writer('run.mcap')
    const noise = new Uint8Array(randomBytes(50_000))
    w.write(frameOf(Imu, Imu.create({}), { index: 0, payload: noise }))
    w.close()
    const { reader, close } = await indexedReader(path)
    try {
      expect(reader.chunkIndexes[0]?.compression).toBe('')
    } finally {
      await close()
    }
  })
})

describe('rotation', () => {
  it('starts a new file past the size, keeps the last ones, and every file is whole and readable', async () => {
    const { w, path } = await writer('run.mcap', { rotateBytes: 4000, keep: 2, chunkMaxBytes: 1500 })
    const frames = mixedFrames(300)
    for (const frame of frames) w.write(frame)
    w.close()
    expect(w.rotations).toBeGreaterThan(2)
    expect(existsSync(rotatedPath(path, 1))).toBe(true)
    expect(existsSync(rotatedPath(path, 2))).toBe(true)
    expect(existsSync(rotatedPath(path, 3))).toBe(false)
    expect(rotatedPath(path, 2)).toBe(join(dir, 'run.2.mcap'))
    // the newest files hold the last frames, in order, each with its own schemas and channels
    const newest = (await readAll(path)).frames
    const older = (await readAll(rotatedPath(path, 1))).frames
    expect(comparable([...older, ...newest])).toEqual(
      comparable(frames.slice(-(older.length + newest.length))),
    )
    for (const file of [path, rotatedPath(path, 1), rotatedPath(path, 2)]) {
      const { reader, close } = await indexedReader(file)
      await close()
      expect(reader.statistics?.messageCount).toBeGreaterThan(0n)
    }
  })

  it('starts a new file when one would hold more than MCAP_MAX_CHANNELS_PER_FILE channels', async () => {
    const { w, path } = await writer('run.mcap', { rotateBytes: 0 })
    for (let i = 0; i <= MCAP_MAX_CHANNELS_PER_FILE; i++)
      w.write(frameOf(Imu, Imu.create({}), { index: i, sessionId: i + 1 }))
    w.close()
    expect(w.rotations).toBe(1)
    const { reader, close } = await indexedReader(rotatedPath(path, 1))
    await close()
    expect(reader.channelsById.size).toBe(MCAP_MAX_CHANNELS_PER_FILE)
    expect((await readAll(path)).frames.map((f) => f.sessionId)).toEqual([MCAP_MAX_CHANNELS_PER_FILE + 1])
  })
})

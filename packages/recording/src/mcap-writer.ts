import { closeSync, existsSync, openSync, renameSync, writeSync } from 'node:fs'
import {
  type Channel,
  type ChunkIndex,
  McapChunkBuilder,
  McapRecordBuilder,
  type Schema,
  type Statistics,
} from '@mcap/core'
import { fileDescriptorSet, formatFingerprint, PROTOBUF_SCHEMA_ENCODING } from '@shoal/schema'
import { DEFAULT_ROTATE_BYTES, DEFAULT_ROTATE_KEEP, sessionHex } from '@shoal/transport'
import { crc32 } from '@shoal/transport/wire'
import type { Codecs } from './codecs.js'
import {
  isMcapPath,
  MCAP_SUFFIX,
  META_FINGERPRINT,
  META_HOPS,
  META_SESSION,
  META_SOURCE,
  PROTOBUF_ENCODING,
} from './mcap-layout.js'
import { writeSummary } from './mcap-summary.js'
import type { RecordingFrame } from './recording-frame.js'

/**
 * A chunk is closed and written once it holds this many bytes (uncompressed). With
 * {@link MCAP_CHUNK_MAX_MS} it bounds what a crash loses: the open chunk, which lives in memory.
 */
export const MCAP_CHUNK_MAX_BYTES = 1024 * 1024
/** A chunk is closed and written once its first message is this old, ms (quiet streams too: see `tick`). */
export const MCAP_CHUNK_MAX_MS = 1000
/**
 * Channels in one file (each new topic × sender makes one, and every one is listed in the summary):
 * the next new one closes the file and starts the next, so a stranger making sessions cannot grow
 * the writer's tables without bound.
 */
export const MCAP_MAX_CHANNELS_PER_FILE = 4096
/** Chunks in one file (each has an index entry held until the summary): the next starts a new file. */
export const MCAP_MAX_CHUNKS_PER_FILE = 100_000

export interface McapRecordWriterOptions {
  /** Close the file and start a new one once it holds this many bytes; 0 never. Default 256 MiB. */
  rotateBytes?: number
  /** Closed files kept: FILE.1.mcap … FILE.N.mcap, oldest dropped. Default 5. */
  keep?: number
  /** Chunk compression. Default `'zstd'`. */
  compression?: 'zstd' | 'none'
  /** Chunk bounds: see {@link MCAP_CHUNK_MAX_BYTES}, {@link MCAP_CHUNK_MAX_MS}. */
  chunkMaxBytes?: number
  chunkMaxMs?: number
  /** The MCAP header's `library`, e.g. `shoal-recv 0.1.0`. */
  library?: string
  /** Monotonic clock for chunk ages, ms. Default `performance.now`. */
  now?: () => number
  /**
   * A type's binary `FileDescriptorSet` for its Schema record, or undefined (its channels then have
   * no schema). Asked on the first frame of a type in each file, so types a registry learns while
   * recording (`--proto`, schemas from the network) are described too: pass the receiver's
   * `DynamicTypeRegistry#descriptorSet`. Default: the built-in types' (`fileDescriptorSet`).
   */
  schemaData?: (typeName: string) => Uint8Array | undefined
}

/** `run.mcap` rotates to `run.1.mcap` (the suffix kept, so viewers still open it); other names to `name.1`. */
export function rotatedPath(path: string, n: number): string {
  if (!isMcapPath(path)) return `${path}.${n}`
  const stem = path.slice(0, -MCAP_SUFFIX.length)
  return `${stem}.${n}${path.slice(-MCAP_SUFFIX.length)}`
}

/**
 * Writes frames to an MCAP file: chunked (zstd), indexed, with a summary on `close()`. Synchronous:
 * every chunk goes out with one write(2) as it closes, so a kill loses at most the open chunk (at
 * most {@link MCAP_CHUNK_MAX_BYTES} or {@link MCAP_CHUNK_MAX_MS} of frames), and what is on disk
 * reads up to its last whole chunk. Built from @mcap/core's record and chunk builders rather than
 * its `McapWriter`, which can neither close a chunk on a timer nor write synchronously.
 * Layout: see mcap-layout.ts.
 */
export class McapRecordWriter {
  readonly path: string
  /** Frames written (all files). */
  records = 0
  /** Files closed and rotated away. */
  rotations = 0
  readonly #codecs: Codecs
  readonly #rotateBytes: number
  readonly #keep: number
  readonly #compress: boolean
  readonly #chunkMaxBytes: number
  readonly #chunkMaxMs: number
  readonly #library: string
  readonly #now: () => number
  readonly #schemaData: (typeName: string) => Uint8Array | undefined
  readonly #records = new McapRecordBuilder()
  readonly #chunk = new McapChunkBuilder({ useMessageIndex: true })
  #chunkOpenedAt = 0
  #file!: OpenFile
  /** The file is full: the next frame goes to a new one (never an empty file left at close). */
  #rotateDue = false
  #closed = false

  constructor(path: string, codecs: Codecs, options: McapRecordWriterOptions = {}) {
    this.path = path
    this.#codecs = codecs
    this.#rotateBytes = options.rotateBytes ?? DEFAULT_ROTATE_BYTES
    this.#keep = options.keep ?? DEFAULT_ROTATE_KEEP
    this.#compress = (options.compression ?? 'zstd') === 'zstd'
    this.#chunkMaxBytes = options.chunkMaxBytes ?? MCAP_CHUNK_MAX_BYTES
    this.#chunkMaxMs = options.chunkMaxMs ?? MCAP_CHUNK_MAX_MS
    this.#library = options.library ?? 'shoal'
    this.#now = options.now ?? (() => performance.now())
    this.#schemaData = options.schemaData ?? fileDescriptorSet
    // An existing file is a previous recording: it moves to FILE.1.mcap rather than be overwritten.
    if (existsSync(path)) this.#shiftOlder()
    this.#open()
  }

  /** Appends one frame. Throws on a write error (disk full); the file then stays as it was written. */
  write(frame: RecordingFrame): void {
    if (this.#closed) throw new Error(`${this.path}: recording already closed`)
    this.tick()
    if (this.#rotateDue) this.#rotate()
    const channelId = this.#channelFor(frame)
    if (this.#chunk.numMessages === 0) this.#chunkOpenedAt = this.#now()
    this.#chunk.addMessage({
      channelId,
      sequence: frame.sequence >>> 0,
      logTime: frame.receivedAtNs,
      publishTime: frame.publishedAtNs ?? frame.receivedAtNs,
      data: frame.payload,
    })
    this.#file.count(channelId, frame.receivedAtNs)
    this.records++
    if (this.#chunk.byteLength >= this.#chunkMaxBytes) this.#flushChunk()
  }

  /** Writes the open chunk if it is {@link MCAP_CHUNK_MAX_MS} old: call it now and then (a timer). */
  tick(): void {
    if (this.#chunk.numMessages > 0 && this.#now() - this.#chunkOpenedAt >= this.#chunkMaxMs)
      this.#flushChunk()
  }

  /** Writes the open chunk, the summary and the footer, and closes the file. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    try {
      this.#finishFile()
    } finally {
      closeSync(this.#file.fd)
    }
  }

  /** Bytes in the current file so far. */
  get size(): number {
    return this.#file.size
  }

  #channelFor(frame: RecordingFrame): number {
    // The type name too: frames of a type not known yet go on a channel without a schema, and once
    // a registry learns the type (a schema from the network), its frames go on a new, described one.
    const key = `${frame.topic}\0${frame.fingerprint}\0${frame.typeName ?? ''}\0${frame.sessionId}\0${frame.source}\0${frame.hops}`
    let id = this.#file.channelIds.get(key)
    if (id !== undefined) return id
    if (this.#file.channels.length >= MCAP_MAX_CHANNELS_PER_FILE) this.#rotate()
    const file = this.#file
    const schemaId = this.#schemaFor(frame.typeName)
    id = file.channels.length + 1
    const channel: Channel = {
      id,
      schemaId,
      topic: frame.topic,
      messageEncoding: PROTOBUF_ENCODING,
      metadata: new Map([
        [META_SESSION, sessionHex(frame.sessionId)],
        [META_SOURCE, frame.source],
        [META_FINGERPRINT, formatFingerprint(frame.fingerprint)],
        [META_HOPS, String(frame.hops)],
      ]),
    }
    file.channelIds.set(key, id)
    file.channels.push(channel)
    file.unwritten.push(channel)
    return id
  }

  /** The schema id of a type in this file (0: none), adding its Schema record on first use. */
  #schemaFor(typeName: string | undefined): number {
    if (typeName === undefined) return 0
    const file = this.#file
    const known = file.schemaIds.get(typeName)
    if (known !== undefined) return known
    const data = this.#schemaData(typeName)
    if (data === undefined) return 0
    const schema: Schema = {
      id: file.schemas.length + 1,
      name: typeName,
      encoding: PROTOBUF_SCHEMA_ENCODING,
      data,
    }
    file.schemas.push(schema)
    file.schemaIds.set(typeName, schema.id)
    file.unwritten.push(schema)
    return schema.id
  }

  #flushChunk(): void {
    const chunk = this.#chunk
    if (chunk.numMessages === 0) return
    const file = this.#file
    const data = chunk.buffer
    let records = data
    let compression = ''
    if (this.#compress) {
      const packed = this.#codecs.zstd(data)
      // Incompressible (already compressed images, say): stored as it is, cheaper to read back.
      if (packed.byteLength < data.byteLength) {
        records = packed
        compression = 'zstd'
      }
    }
    const out = this.#records
    // New schemas and channels go just before the chunk, outside it (unlike @mcap/core's McapWriter,
    // which puts them inside): a damaged chunk then costs its own messages only, never the channel
    // definitions later chunks need.
    for (const record of file.unwritten.splice(0))
      if ('schemaId' in record) out.writeChannel(record)
      else out.writeSchema(record)
    const chunkStartOffset = BigInt(file.size + out.length)
    const chunkLength = out.writeChunk({
      messageStartTime: chunk.messageStartTime,
      messageEndTime: chunk.messageEndTime,
      uncompressedSize: BigInt(data.byteLength),
      uncompressedCrc: crc32(data),
      compression,
      records,
    })
    const messageIndexOffsets = new Map<number, bigint>()
    let messageIndexLength = 0n
    for (const index of chunk.indices) {
      messageIndexOffsets.set(index.channelId, chunkStartOffset + chunkLength + messageIndexLength)
      messageIndexLength += out.writeMessageIndex(index)
    }
    const index: ChunkIndex = {
      messageStartTime: chunk.messageStartTime,
      messageEndTime: chunk.messageEndTime,
      chunkStartOffset,
      chunkLength,
      messageIndexOffsets,
      messageIndexLength,
      compression,
      compressedSize: BigInt(records.byteLength),
      uncompressedSize: BigInt(data.byteLength),
    }
    // Schemas, channels, the chunk and its message indexes in one write(2): a kill leaves all of
    // them or a cut tail.
    file.append(out.buffer)
    out.reset()
    chunk.reset()
    file.chunkIndexes.push(index)
    this.#rotateDue =
      (this.#rotateBytes > 0 && file.size >= this.#rotateBytes) ||
      file.chunkIndexes.length >= MCAP_MAX_CHUNKS_PER_FILE
  }

  #finishFile(): void {
    this.#flushChunk()
    const file = this.#file
    const statistics: Statistics = {
      messageCount: file.messageCount,
      schemaCount: file.schemas.length,
      channelCount: file.channels.length,
      attachmentCount: 0,
      metadataCount: 0,
      chunkCount: file.chunkIndexes.length,
      messageStartTime: file.startTime ?? 0n,
      messageEndTime: file.endTime ?? 0n,
      channelMessageCounts: file.channelCounts,
    }
    writeSummary(this.#records, file, statistics)
  }

  /** Closes the current file (summary and all), shifts the older ones, and opens a new one. */
  #rotate(): void {
    this.#finishFile()
    closeSync(this.#file.fd)
    this.#shiftOlder()
    this.#open()
    this.#rotateDue = false
    this.rotations++
  }

  /** FILE.1 → FILE.2 …, the oldest beyond `keep` dropped, and FILE itself → FILE.1. */
  #shiftOlder(): void {
    for (let i = this.#keep - 1; i >= 1; i--)
      if (existsSync(rotatedPath(this.path, i)))
        renameSync(rotatedPath(this.path, i), rotatedPath(this.path, i + 1))
    if (this.#keep >= 1) renameSync(this.path, rotatedPath(this.path, 1))
  }

  #open(): void {
    let fd: number
    try {
      fd = openSync(this.path, 'w')
    } catch (error) {
      throw new Error(`cannot open recording ${this.path}: ${(error as Error).message}`, { cause: error })
    }
    this.#file = new OpenFile(fd)
    const out = this.#records
    out.writeMagic()
    out.writeHeader({ profile: '', library: this.#library })
    this.#file.append(out.buffer)
    out.reset()
  }
}

/** One file being written: its descriptor, size, data-section CRC, and what its summary will list. */
export class OpenFile {
  readonly fd: number
  size = 0
  /** CRC-32 of every byte written so far, before the summary: the DataEnd record's. */
  dataCrc = 0
  readonly schemas: Schema[] = []
  readonly schemaIds = new Map<string, number>()
  readonly channels: Channel[] = []
  readonly channelIds = new Map<string, number>()
  /** Schemas and channels not written yet: they go out with the next chunk. */
  readonly unwritten: Array<Schema | Channel> = []
  readonly channelCounts = new Map<number, bigint>()
  readonly chunkIndexes: ChunkIndex[] = []
  messageCount = 0n
  startTime: bigint | undefined
  endTime: bigint | undefined

  constructor(fd: number) {
    this.fd = fd
  }

  count(channelId: number, logTime: bigint): void {
    this.messageCount++
    this.channelCounts.set(channelId, (this.channelCounts.get(channelId) ?? 0n) + 1n)
    if (this.startTime === undefined || logTime < this.startTime) this.startTime = logTime
    if (this.endTime === undefined || logTime > this.endTime) this.endTime = logTime
  }

  /**
   * Writes all of `bytes` at the end of the file. Everything before the DataEnd record (magic and
   * header included, as @mcap/core's writer counts it) goes into the data CRC; the summary does not.
   */
  append(bytes: Uint8Array, summary = false): void {
    let done = 0
    while (done < bytes.byteLength) done += writeSync(this.fd, bytes, done, bytes.byteLength - done)
    if (!summary) this.dataCrc = crc32(bytes, this.dataCrc)
    this.size += bytes.byteLength
  }
}

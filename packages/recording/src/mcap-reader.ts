import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import {
  type Channel,
  MCAP_MAGIC,
  McapRecordBuilder,
  McapStreamReader,
  Opcode,
  type Schema,
  type TypedMcapRecord,
} from '@mcap/core'
import { PROTOBUF_SCHEMA_ENCODING, registry } from '@shoal/schema'
import { RECORDING_MAX_LISTED_SKIPS, type RecordingSkip } from '@shoal/transport'
import { type Codecs, MAX_CHUNK_UNCOMPRESSED_BYTES } from './codecs.js'
import { META_FINGERPRINT, META_HOPS, META_SESSION, META_SOURCE } from './mcap-layout.js'
import { emptyReport, type RecordingFrame, type RecordingReport } from './recording-frame.js'

/** An MCAP record's opcode (1 byte) and content length (8 bytes, little-endian). */
const RECORD_HEAD_BYTES = 9
/**
 * Largest record a reader takes in, bytes (checked before reading it): a chunk of the largest size
 * the decompressor accepts. A longer length is damage: the rest of the file cannot be framed.
 */
export const MCAP_MAX_RECORD_BYTES = MAX_CHUNK_UNCOMPRESSED_BYTES + 1024 * 1024
/** Channels and schemas a reader keeps at once (a file's claims): past it, the file is damaged. */
export const MCAP_MAX_READ_CHANNELS = 65_536

/** Whether the file at `path` starts with the MCAP magic. */
export function hasMcapMagic(head: Uint8Array): boolean {
  return head.length >= MCAP_MAGIC.length && MCAP_MAGIC.every((byte, i) => head[i] === byte)
}

/** What a channel's metadata says about its Shoal stream, read once per channel. */
interface ChannelInfo {
  readonly topic: string
  readonly typeName: string | undefined
  /** The schema's data when it is protobuf: the type's FileDescriptorSet. */
  readonly schemaData: Uint8Array | undefined
  readonly fingerprint: number
  readonly sessionId: number
  readonly source: string
  readonly hops: number
}

/**
 * Reads an MCAP file from the start, record by record, without its index: a file from a killed
 * recorder (no summary) reads as well as a whole one, up to its last whole record. Frames come in
 * file order; `report` is filled as they do (whole once the generator is done).
 *
 * Damage: a record whose CRC, compression or layout is wrong is skipped (counted, its bytes listed)
 * and reading goes on at the next record, where its length says. A length that cannot be (past
 * {@link MCAP_MAX_RECORD_BYTES}) ends reading: the rest is skipped as `unsearched`. A file that ends
 * inside a record is a truncated tail. Memory: one record and its decompressed chunk at a time.
 */
export function* readMcapFrames(
  path: string,
  codecs: Codecs,
  report: RecordingReport = emptyReport(),
): Generator<RecordingFrame, RecordingReport, undefined> {
  const fd = openSync(path, 'r')
  try {
    const size = fstatSync(fd).size
    const magic = new Uint8Array(MCAP_MAGIC.length)
    if (readSync(fd, magic, 0, magic.length, 0) < magic.length || !hasMcapMagic(magic))
      throw new Error(`${path} is not an MCAP file (no MCAP magic at its start)`)
    const state = new ReaderState(codecs)
    const head = new Uint8Array(RECORD_HEAD_BYTES)
    const headView = new DataView(head.buffer)
    let at = MCAP_MAGIC.length
    while (at < size) {
      if (size - at < RECORD_HEAD_BYTES) {
        skip(report, at, size, 'truncated')
        break
      }
      readSync(fd, head, 0, RECORD_HEAD_BYTES, at)
      const opcode = head[0]!
      const length = headView.getBigUint64(1, true)
      if (length > BigInt(MCAP_MAX_RECORD_BYTES)) {
        skip(report, at, size, 'unsearched')
        break
      }
      const end = at + RECORD_HEAD_BYTES + Number(length)
      if (end > size) {
        skip(report, at, size, 'truncated')
        break
      }
      if (opcode === Opcode.DATA_END) {
        // Only the summary follows (schemas and channels again, statistics, indexes): no messages.
        report.complete = endsWithMagic(fd, size)
        break
      }
      const record = new Uint8Array(end - at)
      readSync(fd, record, 0, record.length, at)
      const frames = state.feed(record)
      if (frames === undefined) skip(report, at, end, 'damaged')
      else
        for (const frame of frames) {
          report.frames++
          yield frame
        }
      at = end
    }
    return report
  } finally {
    closeSync(fd)
  }
}

function endsWithMagic(fd: number, size: number): boolean {
  const tail = new Uint8Array(MCAP_MAGIC.length)
  return (
    size >= 2 * MCAP_MAGIC.length &&
    readSync(fd, tail, 0, tail.length, size - tail.length) === tail.length &&
    hasMcapMagic(tail)
  )
}

function skip(report: RecordingReport, from: number, to: number, reason: RecordingSkip['reason']): void {
  if (to <= from) return
  if (reason === 'truncated') report.truncatedTail = true
  else {
    report.corrupt = true
    report.damagedStretches++
  }
  report.skippedBytes += to - from
  if (report.skips.length < RECORDING_MAX_LISTED_SKIPS)
    report.skips.push({ offset: from, bytes: to - from, reason })
}

/**
 * @mcap/core's stream reader, fed one top-level record at a time, with the schemas and channels it
 * has seen. After damage the stream reader is in an unknown state: a new one is made and told the
 * schemas and channels again, so later chunks still find theirs.
 */
class ReaderState {
  readonly #codecs: Codecs
  #reader: McapStreamReader
  readonly #schemas = new Map<number, Schema>()
  readonly #channels = new Map<number, Channel>()
  readonly #info = new Map<number, ChannelInfo>()

  constructor(codecs: Codecs) {
    this.#codecs = codecs
    this.#reader = this.#newReader()
  }

  /** The frames in one record, or undefined when it is damaged. */
  feed(record: Uint8Array): RecordingFrame[] | undefined {
    const frames: RecordingFrame[] = []
    try {
      this.#reader.append(record)
      for (let next = this.#reader.nextRecord(); next !== undefined; next = this.#reader.nextRecord()) {
        const frame = this.#take(next)
        if (frame !== undefined) frames.push(frame)
      }
      if (this.#reader.bytesRemaining() !== 0) throw new Error('record not consumed whole')
      return frames
    } catch {
      this.#reader = this.#newReader()
      this.#retell()
      return undefined
    }
  }

  #newReader(): McapStreamReader {
    return new McapStreamReader({
      noMagicPrefix: true,
      validateCrcs: true,
      decompressHandlers: this.#codecs.decompressHandlers,
    })
  }

  /** Gives a fresh stream reader the schemas and channels known so far. */
  #retell(): void {
    const out = new McapRecordBuilder()
    for (const schema of this.#schemas.values()) out.writeSchema(schema)
    for (const channel of this.#channels.values()) out.writeChannel(channel)
    if (out.length === 0) return
    this.#reader.append(out.buffer)
    while (this.#reader.nextRecord() !== undefined) {}
  }

  #take(record: TypedMcapRecord): RecordingFrame | undefined {
    switch (record.type) {
      case 'Schema':
        this.#keep(this.#schemas, record.id, record)
        return undefined
      case 'Channel':
        this.#keep(this.#channels, record.id, record)
        this.#info.delete(record.id)
        return undefined
      case 'Message': {
        const info = this.#infoOf(record.channelId)
        return {
          receivedAtNs: record.logTime,
          publishedAtNs: record.publishTime,
          sessionId: info.sessionId,
          sequence: record.sequence,
          fingerprint: info.fingerprint,
          hops: info.hops,
          topic: info.topic,
          source: info.source,
          typeName: info.typeName,
          ...(info.schemaData === undefined ? {} : { schemaData: info.schemaData }),
          // A view into the reader's buffer, which the next record may overwrite.
          payload: record.data.slice(),
        }
      }
      default:
        return undefined
    }
  }

  #keep<T>(map: Map<number, T>, id: number, value: T): void {
    if (!map.has(id) && map.size >= MCAP_MAX_READ_CHANNELS)
      throw new Error(`more than ${MCAP_MAX_READ_CHANNELS} channels or schemas`)
    map.set(id, value)
  }

  #infoOf(channelId: number): ChannelInfo {
    let info = this.#info.get(channelId)
    if (info !== undefined) return info
    // The stream reader refuses a message on a channel it has not seen, so the channel is here.
    const channel = this.#channels.get(channelId)!
    const schema = this.#schemas.get(channel.schemaId)
    const typeName = schema?.name
    const meta = channel.metadata
    info = {
      topic: channel.topic,
      typeName,
      schemaData: schema?.encoding === PROTOBUF_SCHEMA_ENCODING ? schema.data : undefined,
      fingerprint:
        parseHex(meta.get(META_FINGERPRINT)) ??
        (typeName === undefined ? undefined : registry.byName(typeName)?.fingerprint) ??
        0,
      sessionId: parseHex(meta.get(META_SESSION)) ?? 0,
      source: meta.get(META_SOURCE) ?? '',
      hops: parseSmall(meta.get(META_HOPS)) ?? 0,
    }
    this.#info.set(channelId, info)
    return info
  }
}

/** A u32 written as hex (`0x1a2b3c4d` or `1a2b3c4d`), or undefined. */
function parseHex(text: string | undefined): number | undefined {
  const match = text === undefined ? null : /^(?:0x)?([0-9a-f]{1,8})$/i.exec(text)
  return match === null ? undefined : Number.parseInt(match[1]!, 16)
}

/** A hop count (0–255), or undefined. */
function parseSmall(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,3}$/.test(text)) return undefined
  const n = Number(text)
  return n <= 255 ? n : undefined
}

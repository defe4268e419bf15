import {
  createMcapWriter,
  isMcapPath,
  MCAP_CHUNK_MAX_MS,
  type McapRecordWriter,
  type RecordingFrame,
} from '@shoal/recording'
import { type DynamicTypeRegistry, fileDescriptorSet, registry, uint64ToBigInt } from '@shoal/schema'
import { type ReceivedFrame, RecordWriter } from '@shoal/transport'

/** How often the MCAP recorder looks for a chunk old enough to write, ms (a quarter of its age bound). */
export const CHUNK_TICK_MS = MCAP_CHUNK_MAX_MS / 4

/** `--record`: every frame received, appended to a file. */
export interface Recorder {
  readonly path: string
  readonly format: 'mcap' | 'shoal'
  readonly records: number
  readonly rotations: number
  /** Throws on a write error (disk full): the caller stops the receiver. */
  write(frame: ReceivedFrame): void
  close(): void
}

export interface RecorderOptions {
  /** Rotate at this size, bytes; 0 never. */
  readonly maxBytes: number
  /** MCAP chunk compression. */
  readonly compression: 'zstd' | 'none'
  /** A frame's receive time in ns, from its `receivedAt` (see `createReceiveClock`). */
  readonly receiveTimeNs: (receivedAtMs: number) => bigint
  /** The MCAP header's library: `shoal-recv <version>`. */
  readonly library: string
  /** A write error found outside `write` (the chunk timer): stop the receiver with it. */
  readonly onError: (error: unknown) => void
  /**
   * The receiver's types: each type's `FileDescriptorSet` is written into the file, asked on the
   * type's first frame in each file (MCAP: its Schema record; Shoal's own format: a schema record),
   * so `--proto` types and types learnt while recording are described too. Default: built-in only.
   */
  readonly types?: DynamicTypeRegistry
}

/** Opens `--record FILE`: MCAP when the name ends in `.mcap`, else Shoal's own format (SHOALREC). */
export async function openRecorder(path: string, options: RecorderOptions): Promise<Recorder> {
  if (!isMcapPath(path)) return new ShoalRecorder(path, options)
  const writer = await createMcapWriter(path, {
    rotateBytes: options.maxBytes,
    compression: options.compression,
    library: options.library,
    ...(options.types === undefined
      ? {}
      : { schemaData: (name: string) => options.types?.descriptorSet(name) }),
  })
  return new McapRecorder(writer, options)
}

/** The fields both formats record, from a received frame. */
function recordedFrame(frame: ReceivedFrame, receiveTimeNs: (ms: number) => bigint): RecordingFrame {
  const { address, port } = frame.source
  return {
    receivedAtNs: receiveTimeNs(frame.receivedAt),
    publishedAtNs: stampOf(frame.message),
    sessionId: frame.source.sessionId,
    sequence: frame.sequence,
    fingerprint: frame.fingerprint,
    hops: frame.hops,
    topic: frame.topic,
    source: address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`,
    typeName: frame.typeName,
    payload: frame.payload,
  }
}

type Uint64 = Parameters<typeof uint64ToBigInt>[0]

/** The message header's `stamp_ns` (every frame type has a `Header`), when it is set. */
function stampOf(message: unknown): bigint | undefined {
  const ns = uint64ToBigInt((message as { header?: { stampNs?: Uint64 } } | undefined)?.header?.stampNs)
  return ns === 0n ? undefined : ns
}

/**
 * SHOALREC (`@shoal/transport`'s recording.ts): one length-prefixed, CRC-checked record per frame,
 * written with one write(2), so a kill loses at most the record being written. Rotates at
 * `maxBytes`, keeping the transport's default number of older files (FILE.1 … FILE.5).
 */
class ShoalRecorder implements Recorder {
  readonly path: string
  readonly format = 'shoal'
  readonly #writer: RecordWriter
  readonly #receiveTimeNs: (ms: number) => bigint

  constructor(path: string, options: RecorderOptions) {
    this.path = path
    const { types } = options
    this.#writer = new RecordWriter(path, {
      rotateBytes: options.maxBytes,
      schemaFor(fingerprint) {
        const typeName = (types ?? registry).byFingerprint(fingerprint)?.typeName
        const data =
          typeName === undefined ? undefined : (types?.descriptorSet(typeName) ?? fileDescriptorSet(typeName))
        return data === undefined || typeName === undefined ? undefined : { typeName, data }
      },
    })
    this.#receiveTimeNs = options.receiveTimeNs
  }

  get records(): number {
    return this.#writer.records
  }

  get rotations(): number {
    return this.#writer.rotations
  }

  write(frame: ReceivedFrame): void {
    const { typeName: _, publishedAtNs: __, ...fields } = recordedFrame(frame, this.#receiveTimeNs)
    this.#writer.write(fields)
  }

  close(): void {
    this.#writer.close()
  }
}

/**
 * MCAP (`@shoal/recording`): chunked, zstd, indexed; a chunk is written when it holds 1 MiB or is
 * 1 s old (a timer checks every {@link CHUNK_TICK_MS}), so a kill loses at most that; `close()`
 * writes the summary. Rotates at `maxBytes` to FILE.1.mcap … FILE.5.mcap.
 */
class McapRecorder implements Recorder {
  readonly format = 'mcap'
  readonly #writer: McapRecordWriter
  readonly #receiveTimeNs: (ms: number) => bigint
  readonly #timer: NodeJS.Timeout
  #failed = false

  constructor(writer: McapRecordWriter, options: RecorderOptions) {
    this.#writer = writer
    this.#receiveTimeNs = options.receiveTimeNs
    this.#timer = setInterval(() => {
      if (this.#failed) return
      try {
        this.#writer.tick()
      } catch (error) {
        this.#failed = true
        options.onError(error)
      }
    }, CHUNK_TICK_MS)
    this.#timer.unref()
  }

  get path(): string {
    return this.#writer.path
  }

  get records(): number {
    return this.#writer.records
  }

  get rotations(): number {
    return this.#writer.rotations
  }

  write(frame: ReceivedFrame): void {
    this.#writer.write(recordedFrame(frame, this.#receiveTimeNs))
  }

  close(): void {
    clearInterval(this.#timer)
    this.#writer.close()
  }
}

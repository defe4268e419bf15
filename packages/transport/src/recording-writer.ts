import { closeSync, existsSync, fstatSync, openSync, readSync, renameSync, writeSync } from 'node:fs'
import { transportError } from './errors.js'
import {
  DEFAULT_ROTATE_BYTES,
  DEFAULT_ROTATE_KEEP,
  encodeRecord,
  encodeSchemaRecord,
  fileHeader,
  RECORDING_FILE_HEADER_LENGTH,
  RECORDING_VERSION,
  type RecordedFrame,
  type RecordedSchema,
} from './recording-format.js'
import { LITTLE_ENDIAN } from './wire/constants.js'

export interface RecordWriterOptions {
  /** Rotate when the file reaches this size, bytes. Default 256 MiB; 0 never rotates. */
  rotateBytes?: number
  /** Rotated files kept. Default 5. */
  keep?: number
  /**
   * A type's schema by fingerprint (its full name and binary `FileDescriptorSet`), or undefined. Asked
   * before each frame of a fingerprint until it gives one, once per file; a schema given is written as a record
   * of its own just before that frame (format version 2), so readers decode types they do not know.
   * Not asked when appending to a version-1 file (whose readers would take a schema for a frame).
   */
  schemaFor?: (fingerprint: number) => Pick<RecordedSchema, 'typeName' | 'data'> | undefined
}

/**
 * Appends records with one write(2) each, so a record that was written survives a kill of the
 * process; at most the record being written is lost.
 */
export class RecordWriter {
  readonly path: string
  readonly #rotateBytes: number
  readonly #keep: number
  readonly #schemaFor: RecordWriterOptions['schemaFor']
  /** Fingerprints described in the open file (bounded by the types `schemaFor` knows). */
  readonly #described = new Set<number>()
  /** The open file takes schema records: written by this version, not appended to a version-1 file. */
  #schemas = true
  #fd: number
  #size: number
  records = 0
  rotations = 0

  constructor(path: string, options: RecordWriterOptions = {}) {
    this.path = path
    this.#rotateBytes = options.rotateBytes ?? DEFAULT_ROTATE_BYTES
    this.#keep = options.keep ?? DEFAULT_ROTATE_KEEP
    this.#schemaFor = options.schemaFor
    ;[this.#fd, this.#size] = this.#open()
  }

  write(frame: RecordedFrame): void {
    const record = encodeRecord(frame)
    if (
      this.#rotateBytes > 0 &&
      this.#size > RECORDING_FILE_HEADER_LENGTH &&
      this.#size + record.length > this.#rotateBytes
    )
      this.#rotate()
    this.#describe(frame.fingerprint, frame.receivedAtNs)
    writeSync(this.#fd, record)
    this.#size += record.length
    this.records++
  }

  close(): void {
    closeSync(this.#fd)
  }

  /** Writes the schema of `fingerprint` before its first frame in this file, when there is one. */
  #describe(fingerprint: number, receivedAtNs: bigint): void {
    if (this.#schemaFor === undefined || !this.#schemas || this.#described.has(fingerprint)) return
    // Asked again on later frames while unknown: a registry may learn the type meanwhile.
    const schema = this.#schemaFor(fingerprint)
    if (schema === undefined || Buffer.byteLength(schema.typeName) > 255) return
    this.#described.add(fingerprint)
    const record = encodeSchemaRecord({ ...schema, fingerprint, receivedAtNs })
    writeSync(this.#fd, record)
    this.#size += record.length
  }

  #open(): [number, number] {
    let fd: number
    try {
      fd = openSync(this.path, 'a')
    } catch (error) {
      throw transportError(
        'SHOAL_BAD_OPTION',
        `cannot open recording ${this.path}: ${(error as Error).message}`,
        error,
      )
    }
    let size = fstatSync(fd).size
    this.#described.clear()
    this.#schemas = true
    if (size === 0) {
      writeSync(fd, fileHeader())
      size = RECORDING_FILE_HEADER_LENGTH
    } else {
      this.#schemas = versionOf(this.path) === RECORDING_VERSION
    }
    return [fd, size]
  }

  #rotate(): void {
    closeSync(this.#fd)
    for (let i = this.#keep - 1; i >= 1; i--)
      if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`)
    if (this.#keep >= 1) renameSync(this.path, `${this.path}.1`)
    ;[this.#fd, this.#size] = this.#open()
    this.rotations++
  }
}

/** The format version in a file's header (0 when it has none). The writer's own fd is write-only. */
function versionOf(path: string): number {
  const fd = openSync(path, 'r')
  try {
    const head = new Uint8Array(RECORDING_FILE_HEADER_LENGTH)
    if (readSync(fd, head, 0, head.length, 0) < head.length) return 0
    return new DataView(head.buffer).getUint16(8, LITTLE_ENDIAN)
  } finally {
    closeSync(fd)
  }
}

/**
 * The recording format: received frames appended to a file, one record each, so a receiver can
 * record and a sender can replay. Append-only; each record is length-prefixed and CRC-checked, so
 * after a kill at most the record being written is lost and readers stop cleanly before it.
 *
 * File   = "SHOALREC" (8 bytes) · u16 format version (1) · u16 reserved (0) · record*
 * Record = u32 body length · u32 CRC-32 of body · body
 * Body   = u64 receive time, ns since the Unix epoch · u32 session · u32 sequence · u32 fingerprint
 *          · u8 hops · u8 topic length T · u8 source address length A · u8 reserved
 *          · topic (T bytes UTF-8) · source address (A bytes ASCII) · payload (the rest)
 * All integers big-endian.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, renameSync, writeSync } from 'node:fs'
import { transportError } from './errors.js'
import { LITTLE_ENDIAN } from './wire/constants.js'
import { crc32 } from './wire/crc.js'

export const RECORDING_MAGIC = 'SHOALREC'
export const RECORDING_VERSION = 1
export const RECORDING_FILE_HEADER_LENGTH = 12
export const RECORD_PREFIX_LENGTH = 8
export const RECORD_FIXED_BODY_LENGTH = 24
/** Largest record body a reader accepts (a 64 MiB message plus its metadata). */
export const MAX_RECORD_BODY = 64 * 1024 * 1024 + 1024
/** Default size at which a recording rotates to a new file. */
export const DEFAULT_ROTATE_BYTES = 256 * 1024 * 1024
/** Rotated files kept: FILE.1 … FILE.N, oldest dropped. */
export const DEFAULT_ROTATE_KEEP = 5

export interface RecordedFrame {
  /** Receive time, ns since the Unix epoch. */
  receivedAtNs: bigint
  sessionId: number
  sequence: number
  fingerprint: number
  hops: number
  topic: string
  source: string
  payload: Uint8Array
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeRecord(frame: RecordedFrame): Uint8Array {
  const topic = encoder.encode(frame.topic)
  const source = encoder.encode(frame.source)
  if (topic.length > 255 || source.length > 255) throw new RangeError('topic or source longer than 255 bytes')
  const bodyLength = RECORD_FIXED_BODY_LENGTH + topic.length + source.length + frame.payload.length
  const out = new Uint8Array(RECORD_PREFIX_LENGTH + bodyLength)
  const view = new DataView(out.buffer)
  const b = RECORD_PREFIX_LENGTH
  view.setUint32(0, bodyLength, LITTLE_ENDIAN)
  view.setBigUint64(b, frame.receivedAtNs, LITTLE_ENDIAN)
  view.setUint32(b + 8, frame.sessionId, LITTLE_ENDIAN)
  view.setUint32(b + 12, frame.sequence, LITTLE_ENDIAN)
  view.setUint32(b + 16, frame.fingerprint, LITTLE_ENDIAN)
  view.setUint8(b + 20, frame.hops)
  view.setUint8(b + 21, topic.length)
  view.setUint8(b + 22, source.length)
  out.set(topic, b + RECORD_FIXED_BODY_LENGTH)
  out.set(source, b + RECORD_FIXED_BODY_LENGTH + topic.length)
  out.set(frame.payload, b + RECORD_FIXED_BODY_LENGTH + topic.length + source.length)
  view.setUint32(4, crc32(out.subarray(b)), LITTLE_ENDIAN)
  return out
}

/** Decodes one record body (after its length and CRC were checked). */
export function decodeRecordBody(body: Uint8Array): RecordedFrame | undefined {
  if (body.length < RECORD_FIXED_BODY_LENGTH) return undefined
  const view = new DataView(body.buffer, body.byteOffset, body.length)
  const t = view.getUint8(21)
  const a = view.getUint8(22)
  if (RECORD_FIXED_BODY_LENGTH + t + a > body.length) return undefined
  try {
    const topicStart = RECORD_FIXED_BODY_LENGTH
    return {
      receivedAtNs: view.getBigUint64(0, LITTLE_ENDIAN),
      sessionId: view.getUint32(8, LITTLE_ENDIAN),
      sequence: view.getUint32(12, LITTLE_ENDIAN),
      fingerprint: view.getUint32(16, LITTLE_ENDIAN),
      hops: view.getUint8(20),
      topic: decoder.decode(body.subarray(topicStart, topicStart + t)),
      source: decoder.decode(body.subarray(topicStart + t, topicStart + t + a)),
      payload: body.slice(topicStart + t + a),
    }
  } catch {
    return undefined
  }
}

function fileHeader(): Uint8Array {
  const out = new Uint8Array(RECORDING_FILE_HEADER_LENGTH)
  out.set(encoder.encode(RECORDING_MAGIC), 0)
  new DataView(out.buffer).setUint16(8, RECORDING_VERSION, LITTLE_ENDIAN)
  return out
}

export interface RecordWriterOptions {
  /** Rotate when the file reaches this size, bytes. Default 256 MiB; 0 never rotates. */
  rotateBytes?: number
  /** Rotated files kept. Default 5. */
  keep?: number
}

/**
 * Appends records with one write(2) each, so a record that was written survives a kill of the
 * process; at most the record being written is lost.
 */
export class RecordWriter {
  readonly path: string
  readonly #rotateBytes: number
  readonly #keep: number
  #fd: number
  #size: number
  records = 0
  rotations = 0

  constructor(path: string, options: RecordWriterOptions = {}) {
    this.path = path
    this.#rotateBytes = options.rotateBytes ?? DEFAULT_ROTATE_BYTES
    this.#keep = options.keep ?? DEFAULT_ROTATE_KEEP
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
    writeSync(this.#fd, record)
    this.#size += record.length
    this.records++
  }

  close(): void {
    closeSync(this.#fd)
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
    if (size === 0) {
      writeSync(fd, fileHeader())
      size = RECORDING_FILE_HEADER_LENGTH
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

export interface ReadRecordingResult {
  frames: RecordedFrame[]
  /** True when the file ended inside a record (a kill mid-write): that record was skipped. */
  truncatedTail: boolean
  /** Records whose CRC or layout was wrong; reading stopped at the first. */
  corrupt: boolean
}

/** Reads a whole recording file. Stops cleanly at a truncated or corrupt record. */
export function readRecording(path: string): ReadRecordingResult {
  const fd = openSync(path, 'r')
  try {
    const size = fstatSync(fd).size
    const head = new Uint8Array(RECORDING_FILE_HEADER_LENGTH)
    if (
      readSync(fd, head, 0, head.length, 0) < head.length ||
      decoder.decode(head.subarray(0, 8)) !== RECORDING_MAGIC
    )
      throw transportError(
        'SHOAL_BAD_OPTION',
        `${path} is not a Shoal recording (no ${RECORDING_MAGIC} header)`,
      )
    const version = new DataView(head.buffer).getUint16(8, LITTLE_ENDIAN)
    if (version !== RECORDING_VERSION)
      throw transportError(
        'SHOAL_BAD_OPTION',
        `${path} is recording format ${version}; this reads ${RECORDING_VERSION}`,
      )
    const frames: RecordedFrame[] = []
    let at = RECORDING_FILE_HEADER_LENGTH
    const prefix = new Uint8Array(RECORD_PREFIX_LENGTH)
    const prefixView = new DataView(prefix.buffer)
    while (at < size) {
      if (size - at < RECORD_PREFIX_LENGTH) return { frames, truncatedTail: true, corrupt: false }
      readSync(fd, prefix, 0, RECORD_PREFIX_LENGTH, at)
      const length = prefixView.getUint32(0, LITTLE_ENDIAN)
      if (length < RECORD_FIXED_BODY_LENGTH || length > MAX_RECORD_BODY)
        return { frames, truncatedTail: false, corrupt: true }
      if (size - at - RECORD_PREFIX_LENGTH < length) return { frames, truncatedTail: true, corrupt: false }
      const body = new Uint8Array(length)
      readSync(fd, body, 0, length, at + RECORD_PREFIX_LENGTH)
      const frame =
        crc32(body) === prefixView.getUint32(4, LITTLE_ENDIAN) ? decodeRecordBody(body) : undefined
      if (frame === undefined) return { frames, truncatedTail: false, corrupt: true }
      frames.push(frame)
      at += RECORD_PREFIX_LENGTH + length
    }
    return { frames, truncatedTail: false, corrupt: false }
  } finally {
    closeSync(fd)
  }
}

/**
 * The recording format: received frames appended to a file, one record each, so a receiver can
 * record and a sender can replay. Append-only; each record is length-prefixed and CRC-checked, so
 * after a kill at most the record being written is lost, and a reader skips a damaged record (or
 * bytes that are no record) and goes on at the next good one.
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
import { crc32, crc32Range } from './wire/crc.js'

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

/** A stretch of a recording that held no good record, skipped by {@link readRecording}. */
export interface RecordingSkip {
  /** Byte offset in the file where the stretch starts. */
  offset: number
  /** Its length, bytes. */
  bytes: number
  /**
   * `damaged`: a record whose length, CRC or layout is wrong, or bytes that are no record at all;
   * reading went on at the next good record (or the stretch runs to the end of the file).
   * `truncated`: the file ends inside a record whose start looks whole (a kill mid-write).
   * `unsearched`: the rest of the file after damage, not searched because the reader had spent
   * {@link RECORDING_RESYNC_CHECK_BYTES} on candidates that were not records.
   */
  reason: 'damaged' | 'truncated' | 'unsearched'
}

export interface ReadRecordingResult {
  /** Every good record, in file order. */
  frames: RecordedFrame[]
  /** True when the file ended inside a record (a kill mid-write): that record was skipped. */
  truncatedTail: boolean
  /** True when damaged stretches were skipped (anything but a truncated tail). */
  corrupt: boolean
  /** Stretches skipped for damage (`damaged` and `unsearched`; a truncated tail is not counted). */
  damagedStretches: number
  /** Bytes skipped in all: damaged stretches and a truncated tail. */
  skippedBytes: number
  /** The first {@link RECORDING_MAX_LISTED_SKIPS} stretches skipped, in file order. */
  skips: RecordingSkip[]
}

export interface ReadRecordingOptions {
  /**
   * Most record bytes CRC-checked in all while looking for the next good record after damage.
   * Default {@link RECORDING_RESYNC_CHECK_BYTES}.
   */
  resyncCheckBytes?: number
}

/**
 * Most record bytes a reader CRC-checks, over a whole file, while it looks for the next good record
 * after damage (a candidate is any offset whose length, reserved byte and layout look right). Once
 * spent, the rest of the file is skipped as `unsearched`: a file full of record-like garbage costs
 * about a second of checking, not hours.
 */
export const RECORDING_RESYNC_CHECK_BYTES = 1024 * 1024 * 1024
/** Skipped stretches listed one by one in {@link ReadRecordingResult.skips}; all are counted. */
export const RECORDING_MAX_LISTED_SKIPS = 100
/** Bytes read at a time while scanning for the next record. */
const SCAN_CHUNK_BYTES = 64 * 1024
/** A record's length, CRC and fixed body: what a candidate's first checks read. */
const RECORD_HEAD_LENGTH = RECORD_PREFIX_LENGTH + RECORD_FIXED_BODY_LENGTH
/** Offsets in a record (from its length prefix) of the topic length, address length, reserved byte. */
const TOPIC_LENGTH_AT = RECORD_PREFIX_LENGTH + 21
const SOURCE_LENGTH_AT = RECORD_PREFIX_LENGTH + 22
const RESERVED_AT = RECORD_PREFIX_LENGTH + 23
/** Bytes CRC-checked per read while checking a candidate record. */
const CHECK_CHUNK_BYTES = 1024 * 1024

/**
 * Reads a whole recording file: every good record, skipping damage. After a record whose length,
 * CRC or layout is wrong, reading goes on at the next good record: the one its length points to, or
 * else the first offset after it where a record's length, layout and CRC all check out (at most
 * `resyncCheckBytes` of candidates checked in all). What was skipped is in the result; a file ending
 * inside a record (a kill mid-write) is a truncated tail. Throws for a file that is not a recording.
 */
export function readRecording(path: string, options: ReadRecordingOptions = {}): ReadRecordingResult {
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
    return new RecordingReader(fd, size, options.resyncCheckBytes ?? RECORDING_RESYNC_CHECK_BYTES).read()
  } finally {
    closeSync(fd)
  }
}

/**
 * The cheap checks of a record's head at `i` (its first {@link RECORD_HEAD_LENGTH} bytes): a length
 * a record can have, the reserved byte 0, topic and address inside the body.
 */
function looksLikeRecordHead(bytes: Uint8Array, view: DataView, i: number): boolean {
  if (bytes[i + RESERVED_AT] !== 0) return false // first: it rules out most offsets of most bytes
  const length = view.getUint32(i, LITTLE_ENDIAN)
  return (
    length >= RECORD_FIXED_BODY_LENGTH &&
    length <= MAX_RECORD_BODY &&
    RECORD_FIXED_BODY_LENGTH + bytes[i + TOPIC_LENGTH_AT]! + bytes[i + SOURCE_LENGTH_AT]! <= length
  )
}

type ScanResult =
  | { readonly kind: 'good'; readonly at: number; readonly frame: RecordedFrame; readonly end: number }
  | { readonly kind: 'unsearched'; readonly at: number }

/** A record at an offset: read whole, or why not. */
type RecordAt =
  | { readonly kind: 'good'; readonly frame: RecordedFrame; readonly end: number }
  /** Its length is plausible and inside the file, but its CRC or layout is wrong. */
  | { readonly kind: 'bad'; readonly end: number }
  /** Its length is not a record's, or runs past the end of the file. */
  | { readonly kind: 'no-record' }

class RecordingReader {
  readonly #fd: number
  readonly #size: number
  #checkBytesLeft: number
  readonly #frames: RecordedFrame[] = []
  readonly #skips: RecordingSkip[] = []
  #damaged = 0
  #skippedBytes = 0
  #truncatedTail = false
  readonly #head = new Uint8Array(RECORD_HEAD_LENGTH + 2 * 255)
  readonly #headView = new DataView(this.#head.buffer)
  #scanBuffer = new Uint8Array(0)

  constructor(fd: number, size: number, checkBytes: number) {
    this.#fd = fd
    this.#size = size
    this.#checkBytesLeft = checkBytes
  }

  read(): ReadRecordingResult {
    let at = RECORDING_FILE_HEADER_LENGTH
    while (at < this.#size) {
      const record = this.#recordAt(at)
      if (record.kind === 'good') {
        this.#frames.push(record.frame)
        at = record.end
        continue
      }
      const found = this.#resync(at, record)
      if (found === undefined) {
        this.#skip(at, this.#size, this.#looksCut(at) ? 'truncated' : 'damaged')
        break
      }
      this.#skip(at, found.at, 'damaged')
      if (found.kind === 'unsearched') {
        this.#skip(found.at, this.#size, 'unsearched')
        break
      }
      this.#frames.push(found.frame)
      at = found.end
    }
    return {
      frames: this.#frames,
      truncatedTail: this.#truncatedTail,
      corrupt: this.#damaged > 0,
      damagedStretches: this.#damaged,
      skippedBytes: this.#skippedBytes,
      skips: this.#skips,
    }
  }

  /** Where reading goes on after the damaged record at `at`: see {@link readRecording}. */
  #resync(at: number, record: RecordAt): ScanResult | undefined {
    if (record.kind === 'bad' && record.end < this.#size) {
      const next = this.#recordAt(record.end)
      if (next.kind === 'good') {
        // A damaged body behind an intact length: the next record is where the length says, unless
        // the length is what was damaged, or this is a record cut short by a kill and the records
        // after it were appended by the next writer. Then good records run from inside it up to
        // that one, each ending where the next begins: look for those, and only those.
        const inside = this.#scan(at + 1, record.end)
        return inside?.kind === 'good'
          ? inside
          : { kind: 'good', at: record.end, frame: next.frame, end: next.end }
      }
    }
    return this.#scan(at + 1)
  }

  #skip(from: number, to: number, reason: RecordingSkip['reason']): void {
    if (to <= from) return
    if (reason === 'truncated') this.#truncatedTail = true
    else this.#damaged++
    this.#skippedBytes += to - from
    if (this.#skips.length < RECORDING_MAX_LISTED_SKIPS)
      this.#skips.push({ offset: from, bytes: to - from, reason })
  }

  /** Reads the record at `at` whole: the normal path, one record after another. */
  #recordAt(at: number): RecordAt {
    const length = this.#plausibleLength(at)
    if (length === undefined) return { kind: 'no-record' }
    const end = at + RECORD_PREFIX_LENGTH + length
    const body = new Uint8Array(length)
    readSync(this.#fd, body, 0, length, at + RECORD_PREFIX_LENGTH)
    const frame =
      crc32(body) === this.#headView.getUint32(4, LITTLE_ENDIAN) ? decodeRecordBody(body) : undefined
    return frame === undefined ? { kind: 'bad', end } : { kind: 'good', frame, end }
  }

  /**
   * Reads a record's length prefix into the head buffer; the length when it is one a record can
   * have and the record ends inside the file.
   */
  #plausibleLength(at: number): number | undefined {
    if (this.#size - at < RECORD_PREFIX_LENGTH) return undefined
    readSync(this.#fd, this.#head, 0, RECORD_PREFIX_LENGTH, at)
    const length = this.#headView.getUint32(0, LITTLE_ENDIAN)
    if (length < RECORD_FIXED_BODY_LENGTH || length > MAX_RECORD_BODY) return undefined
    if (this.#size - at - RECORD_PREFIX_LENGTH < length) return undefined
    return length
  }

  /**
   * The first good record that starts in [`from`, `until`), undefined when there is none, or
   * `unsearched` where the check budget ran out. With `until` inside the file, only records that
   * end by `until` and are followed by `until` itself or by something that looks like a record are
   * considered. Offsets are tried in order; the cheap checks (length, reserved byte, topic and
   * address inside the body) run on a buffer, the CRC only on the offsets that pass them.
   */
  #scan(from: number, until = this.#size): ScanResult | undefined {
    const chained = until < this.#size
    if (this.#scanBuffer.length === 0)
      this.#scanBuffer = new Uint8Array(SCAN_CHUNK_BYTES + RECORD_HEAD_LENGTH)
    const scan = this.#scanBuffer
    const view = new DataView(scan.buffer)
    for (let base = from; base < until && this.#size - base >= RECORD_HEAD_LENGTH; base += SCAN_CHUNK_BYTES) {
      const filled = readSync(this.#fd, scan, 0, Math.min(scan.length, this.#size - base), base)
      const last = Math.min(SCAN_CHUNK_BYTES, filled - RECORD_HEAD_LENGTH + 1, until - base)
      for (let i = 0; i < last; i++) {
        if (!looksLikeRecordHead(scan, view, i)) continue
        const at = base + i
        const end = at + RECORD_PREFIX_LENGTH + view.getUint32(i, LITTLE_ENDIAN)
        if (end > (chained ? until : this.#size)) continue
        if (chained && end < until && !this.#headAt(end)) continue
        const checked = this.#check(at, end - at - RECORD_PREFIX_LENGTH)
        if (checked === 'unsearched') return { kind: 'unsearched', at }
        if (!checked) continue
        const record = this.#recordAt(at)
        if (record.kind === 'good') return { kind: 'good', at, frame: record.frame, end: record.end }
      }
    }
    return undefined
  }

  /** Whether the bytes at `at` look like the head of a record (see {@link looksLikeRecordHead}). */
  #headAt(at: number): boolean {
    if (this.#size - at < RECORD_HEAD_LENGTH) return false
    readSync(this.#fd, this.#head, 0, RECORD_HEAD_LENGTH, at)
    return looksLikeRecordHead(this.#head, this.#headView, 0)
  }

  /**
   * Whether a candidate record's address is ASCII and its CRC right, read in pieces so that a
   * candidate claiming 64 MiB allocates nothing; `unsearched` once the check budget is spent.
   */
  #check(at: number, length: number): boolean | 'unsearched' {
    const head = this.#head
    readSync(this.#fd, head, 0, RECORD_HEAD_LENGTH, at)
    const t = head[TOPIC_LENGTH_AT]!
    const a = head[SOURCE_LENGTH_AT]!
    readSync(this.#fd, head, RECORD_HEAD_LENGTH, t + a, at + RECORD_HEAD_LENGTH)
    for (let i = RECORD_HEAD_LENGTH + t; i < RECORD_HEAD_LENGTH + t + a; i++)
      if (head[i]! > 0x7e) return false
    if (length > this.#checkBytesLeft) return 'unsearched'
    this.#checkBytesLeft -= length
    const expected = this.#headView.getUint32(4, LITTLE_ENDIAN)
    const piece = new Uint8Array(Math.min(length, CHECK_CHUNK_BYTES))
    let crc = 0
    for (let done = 0; done < length; ) {
      const n = readSync(
        this.#fd,
        piece,
        0,
        Math.min(piece.length, length - done),
        at + RECORD_PREFIX_LENGTH + done,
      )
      crc = crc32Range(piece, 0, n, crc)
      done += n
    }
    return crc === expected
  }

  /**
   * Whether the bytes from `at` to the end of the file are the start of one record cut short: fewer
   * than a length prefix, or a plausible length that runs past the end with a fixed body (as far as
   * it goes) that looks right.
   */
  #looksCut(at: number): boolean {
    const left = this.#size - at
    if (left < RECORD_PREFIX_LENGTH) return true
    readSync(this.#fd, this.#head, 0, Math.min(left, RECORD_HEAD_LENGTH), at)
    const length = this.#headView.getUint32(0, LITTLE_ENDIAN)
    if (length < RECORD_FIXED_BODY_LENGTH || length > MAX_RECORD_BODY) return false
    if (left >= RECORD_PREFIX_LENGTH + length) return false
    return left < RECORD_HEAD_LENGTH || looksLikeRecordHead(this.#head, this.#headView, 0)
  }
}

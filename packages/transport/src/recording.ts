/**
 * Reading the recording format (recording-format.ts has the layout): every good record of a file,
 * damage skipped. The format and the writer live in recording-format.ts and recording-writer.ts,
 * re-exported here.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { transportError } from './errors.js'
import {
  decodeRecordEntry,
  MAX_RECORD_BODY,
  RECORD_FIXED_BODY_LENGTH,
  RECORD_KIND_SCHEMA,
  RECORD_PREFIX_LENGTH,
  RECORDING_FILE_HEADER_LENGTH,
  RECORDING_MAGIC,
  RECORDING_READ_VERSIONS,
  type RecordedEntry,
  type RecordedFrame,
  type RecordedSchema,
} from './recording-format.js'
import { LITTLE_ENDIAN } from './wire/constants.js'
import { crc32, crc32Range } from './wire/crc.js'

export * from './recording-format.js'
export * from './recording-writer.js'

const decoder = new TextDecoder('utf-8', { fatal: true })

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
  /** Every good frame record, in file order. */
  frames: RecordedFrame[]
  /**
   * Schema records (version 2), in file order, at most {@link RECORDING_MAX_SCHEMAS}: the schemas of
   * the types of `frames` that the recorder knew.
   */
  schemas: RecordedSchema[]
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
/**
 * Schema records kept by a reader (a recorder writes one per type and file, and a registry holds at
 * most a few hundred types); any further ones in a file that lies are skipped like damage is not:
 * silently, they are no frames.
 */
export const RECORDING_MAX_SCHEMAS = 4096
/** Skipped stretches listed one by one in {@link ReadRecordingResult.skips}; all are counted. */
export const RECORDING_MAX_LISTED_SKIPS = 100
/** Bytes read at a time while scanning for the next record. */
const SCAN_CHUNK_BYTES = 64 * 1024
/** A record's length, CRC and fixed body: what a candidate's first checks read. */
const RECORD_HEAD_LENGTH = RECORD_PREFIX_LENGTH + RECORD_FIXED_BODY_LENGTH
/** Offsets in a record (from its length prefix) of the topic length, address length, kind byte. */
const TOPIC_LENGTH_AT = RECORD_PREFIX_LENGTH + 21
const SOURCE_LENGTH_AT = RECORD_PREFIX_LENGTH + 22
const KIND_AT = RECORD_PREFIX_LENGTH + 23
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
    if (!RECORDING_READ_VERSIONS.includes(version))
      throw transportError(
        'SHOAL_BAD_OPTION',
        `${path} is recording format ${version}; this reads ${RECORDING_READ_VERSIONS.join(' and ')}`,
      )
    return new RecordingReader(fd, size, options.resyncCheckBytes ?? RECORDING_RESYNC_CHECK_BYTES).read()
  } finally {
    closeSync(fd)
  }
}

/**
 * The cheap checks of a record's head at `i` (its first {@link RECORD_HEAD_LENGTH} bytes): a length
 * a record can have, a known kind byte (0 or 1), topic and address inside the body.
 */
function looksLikeRecordHead(bytes: Uint8Array, view: DataView, i: number): boolean {
  if (bytes[i + KIND_AT]! > RECORD_KIND_SCHEMA) return false // first: it rules out most offsets of most bytes
  const length = view.getUint32(i, LITTLE_ENDIAN)
  return (
    length >= RECORD_FIXED_BODY_LENGTH &&
    length <= MAX_RECORD_BODY &&
    RECORD_FIXED_BODY_LENGTH + bytes[i + TOPIC_LENGTH_AT]! + bytes[i + SOURCE_LENGTH_AT]! <= length
  )
}

type ScanResult =
  | { readonly kind: 'good'; readonly at: number; readonly entry: RecordedEntry; readonly end: number }
  | { readonly kind: 'unsearched'; readonly at: number }

/** A record at an offset: read whole, or why not. */
type RecordAt =
  | { readonly kind: 'good'; readonly entry: RecordedEntry; readonly end: number }
  /** Its length is plausible and inside the file, but its CRC or layout is wrong. */
  | { readonly kind: 'bad'; readonly end: number }
  /** Its length is not a record's, or runs past the end of the file. */
  | { readonly kind: 'no-record' }

class RecordingReader {
  readonly #fd: number
  readonly #size: number
  #checkBytesLeft: number
  readonly #frames: RecordedFrame[] = []
  readonly #schemas: RecordedSchema[] = []
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
        this.#take(record.entry)
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
      this.#take(found.entry)
      at = found.end
    }
    return {
      frames: this.#frames,
      schemas: this.#schemas,
      truncatedTail: this.#truncatedTail,
      corrupt: this.#damaged > 0,
      damagedStretches: this.#damaged,
      skippedBytes: this.#skippedBytes,
      skips: this.#skips,
    }
  }

  #take(entry: RecordedEntry): void {
    if (entry.kind === 'frame') this.#frames.push(entry.frame)
    else if (this.#schemas.length < RECORDING_MAX_SCHEMAS) this.#schemas.push(entry.schema)
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
          : { kind: 'good', at: record.end, entry: next.entry, end: next.end }
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
    const entry =
      crc32(body) === this.#headView.getUint32(4, LITTLE_ENDIAN) ? decodeRecordEntry(body) : undefined
    return entry === undefined ? { kind: 'bad', end } : { kind: 'good', entry, end }
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
        if (record.kind === 'good') return { kind: 'good', at, entry: record.entry, end: record.end }
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

/**
 * Splitting a message into datagrams that each fit the datagram budget (so IP never fragments),
 * and putting it back together on the receiving side. See WIRE.md (“Fragmentation”).
 */
import { transportError } from '../errors.js'
import { CRC_LENGTH, Limits, MAX_FRAGMENTS, MIN_DATAGRAM_BUDGET } from './constants.js'
import { crc32 } from './crc.js'
import { encodeHeaderInto, type FrameHeader, headerLength } from './header.js'
import { type FragmentRange, MAX_NACK_RANGES, missingRanges } from './nack.js'

/** Header fields a publisher chooses; the fragment fields are filled in by {@link fragmentMessage}. */
export type MessageHeader = Omit<
  FrameHeader,
  'messageLength' | 'fragmentOffset' | 'fragmentIndex' | 'fragmentCount' | 'payloadLength'
>

/** Payload bytes one datagram of this budget carries for a header of this size. */
export function fragmentCapacity(budget: number, topicBytes: number, extensionLength = 0): number {
  return budget - headerLength(topicBytes, extensionLength) - CRC_LENGTH
}

/** How many datagrams a message of `length` bytes needs. */
export function fragmentCountFor(length: number, capacity: number): number {
  return Math.max(1, Math.ceil(length / capacity))
}

/**
 * Encodes `message` as one or more frames of at most `budget` bytes each. The frames are views
 * into one allocation, in order.
 */
export function fragmentMessage(
  header: MessageHeader,
  topicBytes: Uint8Array,
  message: Uint8Array,
  budget: number,
): Uint8Array[] {
  return fragmentParts(header, topicBytes, message, budget).map(([head, body, crc]) => {
    const frame = new Uint8Array(head.length + body.length + crc.length)
    frame.set(head)
    frame.set(body, head.length)
    frame.set(crc, head.length + body.length)
    return frame
  })
}

/** One fragment as the three pieces a datagram is gathered from: header, payload view, CRC. */
export type FragmentParts = [head: Uint8Array, body: Uint8Array, crc: Uint8Array]

/**
 * Like {@link fragmentMessage}, without copying the message: each fragment is its own header, a
 * view into `message`, and its CRC, for a scatter-gather send. `message` must stay unchanged
 * until the datagrams are sent.
 */
export function fragmentParts(
  header: MessageHeader,
  topicBytes: Uint8Array,
  message: Uint8Array,
  budget: number,
): FragmentParts[] {
  if (budget < MIN_DATAGRAM_BUDGET)
    throw transportError(
      'SHOAL_BUDGET_OUT_OF_RANGE',
      `datagram budget ${budget} is below ${MIN_DATAGRAM_BUDGET}`,
    )
  const capacity = Math.min(fragmentCapacity(budget, topicBytes.length, header.extensionLength), 0xffff)
  const count = fragmentCountFor(message.length, capacity)
  if (count > MAX_FRAGMENTS)
    throw transportError(
      'SHOAL_FRAME_TOO_LARGE',
      `message of ${message.length} bytes needs ${count} fragments of ${capacity} bytes; the wire allows ${MAX_FRAGMENTS}`,
    )
  const headLength = headerLength(topicBytes.length, header.extensionLength)
  // Every header and CRC in one allocation; the payloads stay where they are.
  const small = new Uint8Array(count * (headLength + CRC_LENGTH))
  const parts: FragmentParts[] = []
  // One header object, its fragment fields set per fragment: an object spread with extra
  // properties costs microseconds per call on V8 11 (measured in tools/bench).
  const fragment: FrameHeader = {
    kind: header.kind,
    flags: header.flags,
    hops: header.hops,
    topic: header.topic,
    sessionId: header.sessionId,
    sequence: header.sequence,
    fingerprint: header.fingerprint,
    extensionLength: header.extensionLength,
    messageLength: message.length,
    fragmentOffset: 0,
    fragmentIndex: 0,
    fragmentCount: count,
    payloadLength: 0,
  }
  for (let index = 0; index < count; index++) {
    const start = index * capacity
    const body = message.subarray(start, Math.min(start + capacity, message.length))
    fragment.fragmentOffset = start
    fragment.fragmentIndex = index
    fragment.payloadLength = body.length
    const at = index * (headLength + CRC_LENGTH)
    const head = small.subarray(at, at + headLength)
    encodeHeaderInto(fragment, topicBytes, head, 0)
    const crc = small.subarray(at + headLength, at + headLength + CRC_LENGTH)
    const value = crc32(body, crc32(head))
    crc[0] = value >>> 24
    crc[1] = value >>> 16
    crc[2] = value >>> 8
    crc[3] = value
    parts.push([head, body, crc])
  }
  return parts
}

/**
 * A buffer for a message being reassembled, without zero-filling it first (a 1 MiB image costs a
 * full memset otherwise). Buffer is a Uint8Array; this is the codec's one use of it.
 */
function allocateUninitialised(length: number): Uint8Array {
  const memory = Buffer.allocUnsafeSlow(length)
  // A plain Uint8Array view: the codec hands out Uint8Arrays, whose slice() copies (Buffer's does not).
  return new Uint8Array(memory.buffer, memory.byteOffset, length)
}

/** Completed fragmented messages remembered, so their late duplicate fragments are recognised. */
export const RECENTLY_COMPLETED = 1024

/**
 * Spare reassembly buffers kept for reuse, at most this many. Only the buffer of a partial message
 * that was given up (expired, evicted, or complete with the wrong byte count) is kept: it was never
 * handed out. A completed message's buffer never is: it is the payload the subscriber delivers (and
 * a decoded message's `bytes` fields are views into it), which the user may keep for as long as
 * they like.
 */
export const SPARE_BUFFERS_MAX = 8
/** Bytes of spare reassembly buffers kept, at most (see {@link SPARE_BUFFERS_MAX}). */
export const SPARE_BYTES_MAX = 16 * 1024 * 1024

export interface ReassemblerOptions {
  /** Largest message accepted, bytes. Default {@link Limits.MAX_MESSAGE_BYTES} (64 MiB). */
  maxMessageBytes?: number
  /** Partial messages held at once; the oldest is evicted past it. Default 64. */
  maxPartialMessages?: number
  /** Bytes held by partial messages; the oldest are evicted past it. Default 256 MiB. */
  maxPartialBytes?: number
  /** A partial message with no new fragment for this long expires, ms. Default 2,000. */
  timeoutMs?: number
  /** Clock in ms; injectable for tests. */
  now?: () => number
}

export interface ReassemblerStats {
  completed: number
  duplicateFragments: number
  expired: number
  evicted: number
  mismatched: number
  tooLarge: number
  partialMessages: number
  partialBytes: number
  /** Spare buffers kept from given-up messages, and their bytes (see {@link SPARE_BUFFERS_MAX}). */
  spareBuffers: number
  spareBytes: number
  /** Messages reassembled into a spare buffer instead of a new one. */
  reusedBuffers: number
  /** Fragments that arrived after they had been asked for (NACKed). */
  repairedFragments: number
}

/**
 * Whom to ask for a fragmented message's missing pieces, and which message it is: given for frames
 * marked `REPAIRABLE` when the receiver repairs.
 */
export interface RepairTarget {
  readonly sessionId: number
  readonly topic: string
  readonly sequence: number
  readonly address: string
  readonly port: number
}

/** When a receiver asks for missing fragments (see WIRE.md “Repair”). */
export interface RepairTiming {
  /** A partial message with no new fragment for this long has its missing tail asked for, ms. */
  idleMs: number
  /** Fragments asked for and still missing are asked for again after this long, ms. */
  retryMs: number
  /**
   * Times what is still missing of one message is asked for again, at most; after that it waits
   * for the reassembly timeout. (Fragments newly found missing are always asked for once.)
   */
  maxRetries: number
}

/** One NACK to send: the fragments of `target` that are missing. */
export interface RepairRequest {
  target: RepairTarget
  ranges: FragmentRange[]
}

interface Partial {
  buffer: Uint8Array
  seen: Uint8Array
  received: number
  bytes: number
  count: number
  fingerprint: number
  /** Payload bytes of every fragment but the last (all fragments of a message are cut alike). */
  fragmentSize: number
  lastActivity: number
  /** Highest fragment index seen; fragments missing below it are holes. */
  highest: number
  /** Set when the message may be repaired (the publisher holds it). */
  repair: RepairTarget | undefined
  /** Fragments below this index have been asked for once. */
  nackedUpTo: number
  /** Asked for whole before any of it came: every fragment of it is a repair. */
  askedWhole: boolean
  /** When it was first asked for, or last asked again; undefined until then. */
  askedAt: number | undefined
  /** Times everything still missing was asked for again. */
  retries: number
  /** A later message of the same stream has started: this one's missing tail is lost, not late. */
  overtaken: boolean
}

/**
 * The fragment size a fragment implies, or 0 when it is malformed. Fragment i sits at
 * i × size; every fragment but the last carries exactly `size` bytes; the last ends the message.
 * Holding every fragment to this makes them tile the message exactly, with no gap or overlap,
 * so a completed buffer has every byte written.
 */
function impliedFragmentSize(header: FrameHeader): number {
  const { fragmentIndex: i, fragmentCount: n, fragmentOffset: offset, payloadLength: length } = header
  const size = i === 0 ? length : offset / i
  if (!Number.isInteger(size) || size <= 0 || offset !== i * size) return 0
  if (i < n - 1 ? length !== size : offset + length !== header.messageLength || length > size) return 0
  return size
}

export type ReassemblyResult =
  | { status: 'complete'; message: Uint8Array }
  | { status: 'pending' }
  | { status: 'duplicate' }
  | { status: 'dropped'; reason: 'too-large' | 'fragment-mismatch' }

/** Why partial messages were given up, reported to the caller so it can count them per stream. */
export interface AbandonedMessage {
  key: string
  reason: 'reassembly-expired' | 'reassembly-evicted' | 'reassembly-unfinished'
}

/**
 * Collects fragments into whole messages. Tolerates reordering and duplicates (a duplicated
 * fragment never completes a message), expires stale partial messages, and caps memory by
 * message count and bytes, evicting the oldest. Every expiry and eviction is counted.
 */
export class Reassembler {
  readonly #maxMessageBytes: number
  readonly #maxPartialMessages: number
  readonly #maxPartialBytes: number
  readonly #timeoutMs: number
  readonly #now: () => number
  // Map iteration order is insertion order: the first entry is the oldest partial message.
  readonly #partials = new Map<string, Partial>()
  #partialBytes = 0
  // Messages completed lately: a late duplicate fragment of one must not start it over.
  readonly #recentlyCompleted = new Set<string>()
  // Buffers of given-up partial messages, never handed out; reused for a message of the same length.
  readonly #spare: Uint8Array[] = []
  #spareBytes = 0
  readonly #stats = {
    completed: 0,
    duplicateFragments: 0,
    expired: 0,
    evicted: 0,
    mismatched: 0,
    tooLarge: 0,
    reusedBuffers: 0,
    repairedFragments: 0,
  }
  /** Set when a fragment shows a hole, or a later message overtook an incomplete one. */
  #repairDue = false
  /** Called for every partial message given up (expired or evicted). */
  onAbandon: ((abandoned: AbandonedMessage) => void) | undefined

  constructor(options: ReassemblerOptions = {}) {
    this.#maxMessageBytes = options.maxMessageBytes ?? Limits.MAX_MESSAGE_BYTES
    this.#maxPartialMessages = options.maxPartialMessages ?? Limits.MAX_PARTIAL_MESSAGES
    this.#maxPartialBytes = options.maxPartialBytes ?? Limits.MAX_PARTIAL_BYTES
    this.#timeoutMs = options.timeoutMs ?? Limits.REASSEMBLY_TIMEOUT_MS
    this.#now = options.now ?? (() => performance.now())
  }

  /**
   * Adds one fragment (`header` from a validated frame, `payload` its bytes). `key` identifies the
   * message: source, session, topic and sequence. `repair`: whom to ask for its missing fragments;
   * `askedWhole`: it was asked for whole (its fragments count as repaired).
   */
  accept(
    key: string,
    header: FrameHeader,
    payload: Uint8Array,
    repair?: RepairTarget,
    askedWhole = false,
  ): ReassemblyResult {
    if (header.fragmentCount === 1) {
      this.#stats.completed++
      return { status: 'complete', message: payload }
    }
    const now = this.#now()
    let partial = this.#partials.get(key)
    if (partial === undefined && this.#recentlyCompleted.has(key)) {
      this.#stats.duplicateFragments++
      return { status: 'duplicate' }
    }
    if (partial === undefined) {
      if (header.messageLength > this.#maxMessageBytes || header.messageLength > this.#maxPartialBytes) {
        this.#stats.tooLarge++
        return { status: 'dropped', reason: 'too-large' }
      }
      const fragmentSize = impliedFragmentSize(header)
      if (fragmentSize === 0) {
        this.#stats.mismatched++
        return { status: 'dropped', reason: 'fragment-mismatch' }
      }
      this.#makeRoom(header.messageLength)
      partial = {
        // Uninitialised memory (or a given-up message's) is safe here: the fragments tile the
        // message exactly (checked per fragment), so it completes only when every byte is written.
        buffer: this.#buffer(header.messageLength),
        fragmentSize,
        seen: new Uint8Array(header.fragmentCount),
        received: 0,
        bytes: 0,
        count: header.fragmentCount,
        fingerprint: header.fingerprint,
        lastActivity: now,
        highest: -1,
        repair,
        nackedUpTo: 0,
        askedWhole,
        askedAt: undefined,
        retries: 0,
        overtaken: false,
      }
      if (repair !== undefined) this.#overtake(repair)
      this.#partials.set(key, partial)
      this.#partialBytes += header.messageLength
    } else if (
      partial.count !== header.fragmentCount ||
      partial.buffer.length !== header.messageLength ||
      partial.fingerprint !== header.fingerprint ||
      impliedFragmentSize(header) !== partial.fragmentSize
    ) {
      this.#stats.mismatched++
      return { status: 'dropped', reason: 'fragment-mismatch' }
    }
    if (partial.seen[header.fragmentIndex] === 1) {
      this.#stats.duplicateFragments++
      return { status: 'duplicate' }
    }
    const index = header.fragmentIndex
    partial.seen[index] = 1
    if (partial.askedWhole || index < partial.nackedUpTo) this.#stats.repairedFragments++
    if (index > partial.highest) {
      if (index > partial.highest + 1 && partial.repair !== undefined) this.#repairDue = true
      partial.highest = index
    }
    partial.received++
    partial.bytes += payload.length
    partial.lastActivity = now
    partial.buffer.set(payload, header.fragmentOffset)
    if (partial.received < partial.count) return { status: 'pending' }
    this.#remove(key, partial)
    if (partial.bytes !== partial.buffer.length) {
      this.#keepSpare(partial.buffer)
      this.#stats.mismatched++
      return { status: 'dropped', reason: 'fragment-mismatch' }
    }
    this.#stats.completed++
    this.#rememberCompleted(key)
    return { status: 'complete', message: partial.buffer }
  }

  /** Whether a hole or an overtaken message was seen since the last {@link repairRequests}. */
  get repairDue(): boolean {
    return this.#repairDue
  }

  /** Whether any partial message held may be repaired (so there is something to watch). */
  hasRepairable(): boolean {
    for (const partial of this.#partials.values()) if (partial.repair !== undefined) return true
    return false
  }

  /**
   * The NACKs due now: for each repairable partial message, its missing fragments below the
   * highest seen (holes), or all of them once it is overtaken or idle for `idleMs`. A fragment is
   * asked for once when first found missing, then with every retry (`retryMs` apart, at most
   * `maxRetries`) while still missing.
   */
  repairRequests(timing: RepairTiming, now = this.#now()): RepairRequest[] {
    this.#repairDue = false
    const requests: RepairRequest[] = []
    for (const partial of this.#partials.values()) {
      const target = partial.repair
      if (target === undefined) continue
      const end =
        partial.overtaken || now - partial.lastActivity >= timing.idleMs ? partial.count : partial.highest
      // A retry asks again for everything still missing; otherwise only what is newly found missing.
      const retry =
        partial.askedAt !== undefined &&
        partial.retries < timing.maxRetries &&
        now - partial.askedAt >= timing.retryMs
      const from = retry ? 0 : partial.nackedUpTo
      if (end <= from) continue
      const ranges = missingRanges(partial.seen, from, end)
      const last = ranges[ranges.length - 1]
      // Ranges past the most one NACK carries are found again by the next call.
      const reached = ranges.length === MAX_NACK_RANGES && last !== undefined ? last[0] + last[1] : end
      partial.nackedUpTo = Math.max(partial.nackedUpTo, reached)
      if (ranges.length === 0) continue
      if (retry) partial.retries++
      if (retry || partial.askedAt === undefined) partial.askedAt = now
      requests.push({ target, ranges })
    }
    return requests
  }

  /** Whether the message under `key` is being reassembled. */
  isPartial(key: string): boolean {
    return this.#partials.has(key)
  }

  /** Expires partial messages idle longer than the timeout; returns how many. */
  sweep(now = this.#now()): number {
    let expired = 0
    for (const [key, partial] of this.#partials) {
      if (now - partial.lastActivity < this.#timeoutMs) continue
      this.#remove(key, partial)
      this.#keepSpare(partial.buffer)
      this.#stats.expired++
      expired++
      this.onAbandon?.({ key, reason: 'reassembly-expired' })
    }
    return expired
  }

  /**
   * Gives up every partial message (on close): each is reported to `onAbandon` as
   * `reassembly-unfinished`, so that a frame seen in part is never silently lost.
   */
  giveUpAll(): number {
    const keys = [...this.#partials.keys()]
    this.clear()
    for (const key of keys) this.onAbandon?.({ key, reason: 'reassembly-unfinished' })
    return keys.length
  }

  /** Drops every partial message without counting it. */
  clear(): void {
    this.#partials.clear()
    this.#recentlyCompleted.clear()
    this.#partialBytes = 0
    this.#spare.length = 0
    this.#spareBytes = 0
  }

  stats(): ReassemblerStats {
    return {
      ...this.#stats,
      partialMessages: this.#partials.size,
      partialBytes: this.#partialBytes,
      spareBuffers: this.#spare.length,
      spareBytes: this.#spareBytes,
    }
  }

  /** Marks the repairable partial messages of `repair`'s stream that are older than it overtaken. */
  #overtake(repair: RepairTarget): void {
    for (const partial of this.#partials.values()) {
      const older = partial.repair
      if (
        older === undefined ||
        older.sessionId !== repair.sessionId ||
        older.topic !== repair.topic ||
        ((repair.sequence - older.sequence) | 0) <= 0
      )
        continue
      if (!partial.overtaken && partial.received < partial.count) this.#repairDue = true
      partial.overtaken = true
    }
  }

  #rememberCompleted(key: string): void {
    if (this.#recentlyCompleted.size >= RECENTLY_COMPLETED) {
      const oldest = this.#recentlyCompleted.values().next().value
      if (oldest !== undefined) this.#recentlyCompleted.delete(oldest)
    }
    this.#recentlyCompleted.add(key)
  }

  #makeRoom(incoming: number): void {
    for (const [key, partial] of this.#partials) {
      if (
        this.#partials.size < this.#maxPartialMessages &&
        this.#partialBytes + incoming <= this.#maxPartialBytes
      )
        return
      this.#remove(key, partial)
      this.#keepSpare(partial.buffer)
      this.#stats.evicted++
      this.onAbandon?.({ key, reason: 'reassembly-evicted' })
    }
  }

  /** A buffer for a new partial message: a spare of that exact length, else a new one. */
  #buffer(length: number): Uint8Array {
    const spare = this.#spare
    for (let i = 0; i < spare.length; i++) {
      const buffer = spare[i]!
      if (buffer.length !== length) continue
      spare.splice(i, 1)
      this.#spareBytes -= length
      this.#stats.reusedBuffers++
      return buffer
    }
    return allocateUninitialised(length)
  }

  /**
   * Keeps the buffer of a partial message given up, for reuse, within the caps; the oldest spare
   * makes room. Never called with a buffer that was handed out.
   */
  #keepSpare(buffer: Uint8Array): void {
    if (buffer.length > SPARE_BYTES_MAX) return
    const spare = this.#spare
    while (
      spare.length > 0 &&
      (spare.length >= SPARE_BUFFERS_MAX || this.#spareBytes + buffer.length > SPARE_BYTES_MAX)
    )
      this.#spareBytes -= spare.shift()!.length
    spare.push(buffer)
    this.#spareBytes += buffer.length
  }

  #remove(key: string, partial: Partial): void {
    this.#partials.delete(key)
    this.#partialBytes -= partial.buffer.length
  }
}

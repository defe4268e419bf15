/**
 * Putting fragmented messages back together on the receiving side (WIRE.md “Fragmentation”), at a
 * cost that follows what arrives, never what a header declares (WIRE.md “Security”):
 *
 * - a partial message's buffer is allocated only once {@link ALLOCATE_AT_FRACTION} of it has arrived;
 *   before that its fragments are kept as they came (views of their datagrams), so a first fragment
 *   declaring 64 MiB costs its own bytes, and memory is at most twice what was received;
 * - caps on partial messages and bytes per sender address beside the global ones; when a cap is
 *   reached, a partial message of the address holding the most goes, its oldest first, so a flood
 *   from one host pushes out its own partial messages, not another host's;
 * - every message given up (expired, evicted, unfinished) is reported to `onAbandon` and counted.
 */
import { CRC_LENGTH, Limits } from '../wire/constants.js'
import { impliedFragmentSize } from '../wire/fragment.js'
import type { FrameHeader } from '../wire/header.js'
import { MAX_NACK_RANGES, missingRanges } from '../wire/nack.js'
import type {
  AbandonedMessage,
  AcceptOptions,
  ReassemblerOptions,
  ReassemblerStats,
  ReassemblyResult,
  RepairRequest,
  RepairTarget,
  RepairTiming,
} from './reassembly-types.js'
import { retryDelay } from './reassembly-types.js'
import { SpareBuffers } from './spare-buffers.js'

export * from './reassembly-types.js'

export { SPARE_BUFFERS_MAX, SPARE_BYTES_MAX } from './spare-buffers.js'

/** Completed fragmented messages remembered, so their late duplicate fragments are recognised. */
export const RECENTLY_COMPLETED = 1024

/**
 * A partial message's buffer is allocated once this share of its bytes has arrived. Before, its
 * fragments are held as they came, so memory is at most 1 / this of the bytes received.
 */
export const ALLOCATE_AT_FRACTION = 0.5
/** Memory a held fragment costs beyond its datagram's bytes, for the caps: the objects that keep it. */
export const FRAGMENT_OVERHEAD_BYTES = 64

/** What the partial messages of one sender address hold. */
interface SourceUsage {
  readonly address: string
  messages: number
  bytes: number
}

interface Partial {
  readonly key: string
  readonly source: SourceUsage
  readonly length: number
  /** The message's buffer, once {@link ALLOCATE_AT_FRACTION} of it has arrived. */
  buffer: Uint8Array | undefined
  /** Before that: the fragments' payloads as they came, and where each goes. */
  staged: Uint8Array[] | undefined
  stagedAt: number[] | undefined
  /** One bit per fragment: arrived or not. */
  readonly seen: number[]
  received: number
  /** Payload bytes received. */
  bytes: number
  /** Memory this message holds, for the caps. */
  held: number
  readonly count: number
  readonly fingerprint: number
  /** Payload bytes of every fragment but the last (all fragments of a message are cut alike). */
  readonly fragmentSize: number
  lastActivity: number
  /** Highest fragment index seen; fragments missing below it are holes. */
  highest: number
  /** Set when the message may be repaired (the publisher holds it). */
  readonly repair: RepairTarget | undefined
  /** Fragments below this index have been asked for once. */
  nackedUpTo: number
  /** Asked for whole before any of it came: every fragment of it is a repair. */
  readonly askedWhole: boolean
  /** When it was first asked for, or last asked again; undefined until then. */
  askedAt: number | undefined
  /** Times everything still missing was asked for again. */
  retries: number
  /** A later message of the same stream has started: this one's missing tail is lost, not late. */
  overtaken: boolean
}

const isSeen = (seen: number[], index: number) => ((seen[index >>> 5]! >>> (index & 31)) & 1) === 1

/**
 * Collects fragments into whole messages. Tolerates reordering and duplicates (a duplicated
 * fragment never completes a message), expires stale partial messages, and caps memory by
 * message count and bytes, globally and per sender address. Every expiry and eviction is counted.
 */
export class Reassembler {
  readonly #maxMessageBytes: number
  readonly #maxPartialMessages: number
  readonly #maxPartialBytes: number
  readonly #maxMessagesPerSource: number
  readonly #maxBytesPerSource: number
  readonly #timeoutMs: number
  readonly #now: () => number
  // Map iteration order is insertion order: the first entry is the oldest partial message.
  readonly #partials = new Map<string, Partial>()
  readonly #sources = new Map<string, SourceUsage>()
  #partialBytes = 0
  // Messages completed lately: a late duplicate fragment of one must not start it over.
  readonly #recentlyCompleted = new Set<string>()
  // Buffers of given-up partial messages, never handed out; reused for a message of the same length.
  readonly #spare = new SpareBuffers()
  readonly #stats = {
    completed: 0,
    duplicateFragments: 0,
    expired: 0,
    evicted: 0,
    mismatched: 0,
    tooLarge: 0,
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
    this.#maxMessagesPerSource = options.maxPartialMessagesPerSource ?? Limits.MAX_PARTIAL_MESSAGES_PER_SOURCE
    this.#maxBytesPerSource = options.maxPartialBytesPerSource ?? Limits.MAX_PARTIAL_BYTES_PER_SOURCE
    this.#timeoutMs = options.timeoutMs ?? Limits.REASSEMBLY_TIMEOUT_MS
    this.#now = options.now ?? (() => performance.now())
  }

  /**
   * Adds one fragment (`header` from a validated frame, `payload` its bytes). `key` identifies the
   * message: session, topic and sequence.
   */
  accept(
    key: string,
    header: FrameHeader,
    payload: Uint8Array,
    options: AcceptOptions = {},
  ): ReassemblyResult {
    const { repair, askedWhole = false, source = '' } = options
    if (header.fragmentCount === 1) {
      this.#stats.completed++
      return { status: 'complete', message: payload }
    }
    const now = this.#now()
    let partial = this.#partials.get(key)
    if (partial === undefined) {
      if (this.#recentlyCompleted.has(key)) {
        this.#stats.duplicateFragments++
        return { status: 'duplicate' }
      }
      const started = this.#start(key, header, repair, askedWhole, source, now)
      if (!('key' in started)) return started
      partial = started
    } else if (
      partial.count !== header.fragmentCount ||
      partial.length !== header.messageLength ||
      partial.fingerprint !== header.fingerprint ||
      impliedFragmentSize(header) !== partial.fragmentSize
    ) {
      this.#stats.mismatched++
      return { status: 'dropped', reason: 'fragment-mismatch' }
    }
    const index = header.fragmentIndex
    if (isSeen(partial.seen, index)) {
      this.#stats.duplicateFragments++
      return { status: 'duplicate' }
    }
    partial.seen[index >>> 5]! |= 1 << (index & 31)
    if (partial.askedWhole || index < partial.nackedUpTo) this.#stats.repairedFragments++
    if (index > partial.highest) {
      if (index > partial.highest + 1 && partial.repair !== undefined) this.#repairDue = true
      partial.highest = index
      // The publisher is still sending it (it was held back, by flow control say): what was asked
      // for meanwhile was only late, so the retries start again.
      partial.retries = 0
    }
    partial.received++
    partial.bytes += payload.length
    partial.lastActivity = now
    this.#store(partial, payload, header.fragmentOffset, options.datagramBytes)
    if (partial.received < partial.count) return { status: 'pending' }
    this.#remove(partial)
    const buffer = partial.buffer!
    if (partial.bytes !== partial.length) {
      this.#spare.keep(buffer)
      this.#stats.mismatched++
      return { status: 'dropped', reason: 'fragment-mismatch' }
    }
    this.#stats.completed++
    this.#rememberCompleted(key)
    return { status: 'complete', message: buffer }
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
        now - partial.askedAt >= retryDelay(timing.retryMs, partial.retries)
      const from = retry ? 0 : partial.nackedUpTo
      if (end <= from) continue
      const seen = partial.seen
      const ranges = missingRanges((i) => isSeen(seen, i), from, end)
      const last = ranges[ranges.length - 1]
      // Ranges past the most one NACK carries are found again by the next call.
      const reached = ranges.length === MAX_NACK_RANGES && last !== undefined ? last[0] + last[1] : end
      partial.nackedUpTo = Math.max(partial.nackedUpTo, reached)
      if (ranges.length === 0) continue
      if (retry) partial.retries++
      if (retry || partial.askedAt === undefined) partial.askedAt = now
      requests.push({ target, ranges, fragmentSize: partial.fragmentSize })
    }
    return requests
  }

  /** Payload bytes of the message under `key` that arrived so far (0 when it is not partial). */
  partialBytes(key: string): number {
    return this.#partials.get(key)?.bytes ?? 0
  }

  /** Whether the message under `key` is being reassembled. */
  isPartial(key: string): boolean {
    return this.#partials.has(key)
  }

  /** Expires partial messages idle longer than the timeout; returns how many. */
  sweep(now = this.#now()): number {
    let expired = 0
    for (const partial of this.#partials.values()) {
      if (now - partial.lastActivity < this.#timeoutMs) continue
      this.#giveUp(partial, 'reassembly-expired')
      expired++
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
    this.#sources.clear()
    this.#recentlyCompleted.clear()
    this.#partialBytes = 0
    this.#spare.clear()
  }

  stats(): ReassemblerStats {
    return {
      ...this.#stats,
      partialMessages: this.#partials.size,
      partialBytes: this.#partialBytes,
      spareBuffers: this.#spare.count,
      spareBytes: this.#spare.bytes,
      reusedBuffers: this.#spare.reused,
    }
  }

  /** A new partial message for the first fragment of it that arrived, or why there is none. */
  #start(
    key: string,
    header: FrameHeader,
    repair: RepairTarget | undefined,
    askedWhole: boolean,
    address: string,
    now: number,
  ): Partial | ReassemblyResult {
    const length = header.messageLength
    if (
      length > this.#maxMessageBytes ||
      length > this.#maxPartialBytes ||
      length > this.#maxBytesPerSource
    ) {
      this.#stats.tooLarge++
      return { status: 'dropped', reason: 'too-large' }
    }
    const fragmentSize = impliedFragmentSize(header)
    if (fragmentSize === 0) {
      this.#stats.mismatched++
      return { status: 'dropped', reason: 'fragment-mismatch' }
    }
    let source = this.#sources.get(address)
    if (source !== undefined && source.messages >= this.#maxMessagesPerSource)
      this.#evictOldest(source, undefined)
    if (this.#partials.size >= this.#maxPartialMessages)
      this.#evictOldest(this.#busiest('messages'), undefined)
    source = this.#sources.get(address)
    if (source === undefined) {
      source = { address, messages: 0, bytes: 0 }
      this.#sources.set(address, source)
    }
    const words = (header.fragmentCount + 31) >>> 5
    const partial: Partial = {
      key,
      source,
      length,
      buffer: undefined,
      staged: [],
      stagedAt: [],
      seen: new Array<number>(words).fill(0),
      received: 0,
      bytes: 0,
      held: 0,
      count: header.fragmentCount,
      fingerprint: header.fingerprint,
      fragmentSize,
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
    source.messages++
    this.#hold(partial, words * 4)
    return partial
  }

  /**
   * Keeps one fragment's payload: in the message's buffer, or as it came until enough has arrived
   * (then the whole datagram it is a view of stays in memory: `datagramBytes` is charged for it).
   */
  #store(partial: Partial, payload: Uint8Array, offset: number, datagramBytes: number | undefined): void {
    if (partial.buffer !== undefined) {
      partial.buffer.set(payload, offset)
      return
    }
    if (partial.bytes < partial.length * ALLOCATE_AT_FRACTION) {
      partial.staged!.push(payload)
      partial.stagedAt!.push(offset)
      this.#hold(partial, Math.max(datagramBytes ?? 0, payload.length + CRC_LENGTH) + FRAGMENT_OVERHEAD_BYTES)
      return
    }
    // Enough has arrived to be worth the message's whole buffer: it takes the place of the pieces.
    const pieces = partial.held - partial.seen.length * 4
    this.#hold(partial, partial.length - pieces)
    // Uninitialised memory (or a given-up message's) is safe here: the fragments tile the message
    // exactly (checked per fragment), so it completes only when every byte is written.
    const buffer = this.#spare.take(partial.length)
    const staged = partial.staged!
    const stagedAt = partial.stagedAt!
    for (let i = 0; i < staged.length; i++) buffer.set(staged[i]!, stagedAt[i]!)
    buffer.set(payload, offset)
    partial.buffer = buffer
    partial.staged = undefined
    partial.stagedAt = undefined
  }

  /** Adds `bytes` to what `partial` holds, making room first within the caps (never by evicting it). */
  #hold(partial: Partial, bytes: number): void {
    const source = partial.source
    while (source.bytes + bytes > this.#maxBytesPerSource) if (!this.#evictOldest(source, partial)) break
    while (this.#partialBytes + bytes > this.#maxPartialBytes)
      if (!this.#evictOldest(this.#busiest('bytes', partial), partial)) break
    partial.held += bytes
    source.bytes += bytes
    this.#partialBytes += bytes
  }

  /** The sender address holding the most partial messages or bytes (other than `except`'s alone). */
  #busiest(by: 'messages' | 'bytes', except?: Partial): SourceUsage | undefined {
    let busiest: SourceUsage | undefined
    for (const source of this.#sources.values()) {
      if (source === except?.source && source.messages === 1) continue
      if (busiest === undefined || source[by] > busiest[by]) busiest = source
    }
    return busiest
  }

  /** Evicts the oldest partial message of `source` other than `except`; false when there is none. */
  #evictOldest(source: SourceUsage | undefined, except: Partial | undefined): boolean {
    if (source === undefined) return false
    for (const partial of this.#partials.values()) {
      if (partial.source !== source || partial === except) continue
      this.#giveUp(partial, 'reassembly-evicted')
      return true
    }
    return false
  }

  #giveUp(partial: Partial, reason: AbandonedMessage['reason']): void {
    this.#remove(partial)
    if (partial.buffer !== undefined) this.#spare.keep(partial.buffer)
    if (reason === 'reassembly-expired') this.#stats.expired++
    else this.#stats.evicted++
    this.onAbandon?.({ key: partial.key, reason })
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

  #remove(partial: Partial): void {
    this.#partials.delete(partial.key)
    this.#partialBytes -= partial.held
    const source = partial.source
    source.messages--
    source.bytes -= partial.held
    if (source.messages === 0) this.#sources.delete(source.address)
  }
}

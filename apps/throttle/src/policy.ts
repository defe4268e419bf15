/**
 * The throttle's policy, apart from any socket or timer: `offer(frame, now)` says whether a frame
 * goes out now, `tick(rule)` gives what a `--latest` rule publishes at one of its ticks. Time is an
 * argument (ms), so the tests drive it with a fake clock.
 *
 * - `--rate TOPIC=HZ`: time is cut into windows of 1/HZ s (aligned to the clock); the first frame
 *   of a topic in a window goes out, the others of that window are dropped (`rate`).
 * - `--latest TOPIC[=HZ]`: the newest frame of a topic is held; a newer one replaces it (the older
 *   is dropped, `superseded`); at each of the rule's ticks the held frame goes out.
 * - A topic no rule matches goes out as it came (`--unmatched pass`) or is dropped (`unmatched`).
 *
 * Bounded: at most `MAX_TOPICS` topics are tracked (the least recently heard is let go first,
 * counted, its held frame dropped as `evicted`), a topic not heard for `TOPIC_IDLE_MS` is
 * forgotten, and held frames take at most `MAX_HELD_BYTES` (past it a frame is dropped, `memory`).
 * A held frame keeps only its own bytes (see {@link heldCopy}), so the cap is what it holds.
 */
import { type Rule, ruleFor } from './rules.js'

/** Topics tracked at once (a stranger can send on any number of topics). */
export const MAX_TOPICS = 4_096
/** A topic not heard for this long is forgotten (its window starts afresh), ms. */
export const TOPIC_IDLE_MS = 60_000
/** Bytes of held `--latest` frames at most, over every topic. */
export const MAX_HELD_BYTES = 64 * 1024 * 1024

export const UNMATCHED_ACTIONS = ['pass', 'drop'] as const
export type UnmatchedAction = (typeof UNMATCHED_ACTIONS)[number]

/** Why the policy did not publish a frame it was offered. */
export const POLICY_DROP_REASONS = [
  'rate',
  'superseded',
  'unmatched',
  'evicted',
  'memory',
  'stopped',
] as const
export type PolicyDropReason = (typeof POLICY_DROP_REASONS)[number]

/** A frame as it came in: its topic, its type's fingerprint and the encoded message. */
export interface InFrame {
  readonly topic: string
  readonly fingerprint: number
  readonly payload: Uint8Array
}

interface TopicState {
  readonly topic: string
  readonly rule: Rule
  /** The last window a frame went out in (`--rate`). */
  window: number
  /** The newest frame since the last tick (`--latest`). */
  held: InFrame | undefined
  lastHeard: number
}

export interface PolicyStats {
  dropped: Record<PolicyDropReason, number>
  topics: number
  evictions: number
  heldFrames: number
  heldBytes: number
}

export class ThrottlePolicy {
  readonly rules: readonly Rule[]
  readonly #unmatched: UnmatchedAction
  /** Least recently heard first (a topic heard again moves to the end). */
  readonly #topics = new Map<string, TopicState>()
  /** The topics holding a frame, per `--latest` rule: what its tick publishes. */
  readonly #held = new Map<Rule, Set<TopicState>>()
  readonly #dropped = Object.fromEntries(POLICY_DROP_REASONS.map((r) => [r, 0])) as Record<
    PolicyDropReason,
    number
  >
  #evictions = 0
  #heldFrames = 0
  #heldBytes = 0

  constructor(rules: readonly Rule[], unmatched: UnmatchedAction) {
    this.rules = rules
    this.#unmatched = unmatched
    for (const rule of rules) if (rule.kind === 'latest') this.#held.set(rule, new Set())
  }

  /** The frame to publish now, or undefined when it is dropped or held for a tick. */
  offer(frame: InFrame, now: number): InFrame | undefined {
    const state = this.#state(frame.topic, now)
    if (state === undefined) {
      if (this.#unmatched === 'pass') return frame
      this.#dropped.unmatched++
      return undefined
    }
    if (state.rule.kind === 'rate') {
      const window = Math.floor(now / state.rule.periodMs)
      if (window <= state.window) {
        this.#dropped.rate++
        return undefined
      }
      state.window = window
      return frame
    }
    const before = state.held?.payload.length ?? 0
    if (this.#heldBytes - before + frame.payload.length > MAX_HELD_BYTES) {
      this.#dropped.memory++
      return undefined
    }
    if (state.held !== undefined) {
      this.#dropped.superseded++
      this.#release(state)
    }
    state.held = heldCopy(frame)
    this.#heldFrames++
    this.#heldBytes += frame.payload.length
    this.#held.get(state.rule)?.add(state)
    return undefined
  }

  /** A tick of a `--latest` rule: the frame each of its topics holds, now let go. */
  tick(rule: Rule): InFrame[] {
    const holding = this.#held.get(rule)
    if (holding === undefined || holding.size === 0) return []
    const out: InFrame[] = []
    for (const state of holding) if (state.held !== undefined) out.push(state.held)
    for (const state of [...holding]) this.#release(state)
    return out
  }

  /** Forgets topics not heard for `TOPIC_IDLE_MS` (holding nothing). */
  sweep(now: number): void {
    for (const state of this.#topics.values()) {
      if (now - state.lastHeard < TOPIC_IDLE_MS) break
      if (state.held === undefined) this.#topics.delete(state.topic)
    }
  }

  /** Drops every held frame (`stopped`): nothing goes out after this. */
  stop(): void {
    for (const holding of this.#held.values())
      for (const state of [...holding]) {
        this.#dropped.stopped++
        this.#release(state)
      }
  }

  stats(): PolicyStats {
    return {
      dropped: { ...this.#dropped },
      topics: this.#topics.size,
      evictions: this.#evictions,
      heldFrames: this.#heldFrames,
      heldBytes: this.#heldBytes,
    }
  }

  #state(topic: string, now: number): TopicState | undefined {
    let state = this.#topics.get(topic)
    if (state !== undefined) {
      this.#topics.delete(topic)
    } else {
      const rule = ruleFor(this.rules, topic)
      if (rule === undefined) return undefined
      if (this.#topics.size >= MAX_TOPICS) this.#evictOldest()
      state = { topic, rule, window: Number.NEGATIVE_INFINITY, held: undefined, lastHeard: now }
    }
    state.lastHeard = now
    this.#topics.set(topic, state)
    return state
  }

  #evictOldest(): void {
    const oldest = this.#topics.values().next().value
    if (oldest === undefined) return
    if (oldest.held !== undefined) {
      this.#dropped.evicted++
      this.#release(oldest)
    }
    this.#topics.delete(oldest.topic)
    this.#evictions++
  }

  #release(state: TopicState): void {
    if (state.held === undefined) return
    this.#heldFrames--
    this.#heldBytes -= state.held.payload.length
    state.held = undefined
    this.#held.get(state.rule)?.delete(state)
  }
}

/**
 * What a `--latest` rule holds of a frame: its topic, fingerprint and payload, the payload copied
 * when it is a view into a larger buffer. A subscriber's payload is a view into the datagram it came
 * in (zero-copy), and a stranger's datagram can be 64 KiB with a 1-byte payload (a header extension,
 * or a batch's other entries): held as it came, 4,096 topics kept 256 MiB alive while `heldBytes`
 * said 4 KiB. Nor is the rest of the received frame (source, stamps) kept.
 */
function heldCopy(frame: InFrame): InFrame {
  const { payload } = frame
  const own = payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength
  return { topic: frame.topic, fingerprint: frame.fingerprint, payload: own ? payload : payload.slice() }
}

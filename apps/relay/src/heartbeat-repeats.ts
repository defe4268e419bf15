/**
 * A relay's answer to a lost tail on its own segment: when a publisher's streams go quiet, the
 * relay sends its heartbeat again a few times, backing off, with each stream's last sequence as
 * far as the relay forwarded it.
 *
 * Why: a receiver beyond a relay learns that a stream's last frames exist only from those frames
 * or from a heartbeat naming them. The publisher keeps beating on close only until its own
 * receivers (the relay, whose input reports STATUS) hold everything, often a single heartbeat, and
 * that one may be lost on the relay's own input: then the newest heartbeat the relay has names an
 * older sequence. If the last batch is also lost on the relay's far segment, the receiver never
 * asks for it and never counts it. The relay owns its segment's repair (hop by hop), so it owns the
 * tail's notice there too: it sends the publisher's newest heartbeat, each entry raised to the last
 * sequence it forwarded of that stream (never past it), 20, 40, 80, 160 and 320 ms after the
 * session's last frame or heartbeat (activity starts the count again).
 *
 * Only for a stream's own sender (never a stranger's, marked foreign), and only unsealed
 * heartbeats or ones this relay seals again (a keyless relay cannot write a sealed one). Bounded:
 * {@link MAX_REPEATED_SESSIONS} sessions (the least recently active forgotten first, counted), a
 * session forgotten after its last repeat, {@link MAX_TOPICS_PER_SESSION} topics each, and at most
 * {@link MAX_HEARTBEAT_REPEATS_PER_SECOND} repeats in all, whatever a stranger sends.
 */
import { decodeFrame, decodeHeartbeatBody, encodeHeartbeats, encodeTopic } from '@shoal/transport/wire'

/** Repeats after a session's streams go quiet. */
export const HEARTBEAT_REPEATS = 5
/** Wait before the first repeat, ms; each later one waits twice as long (20, 40, 80, 160, 320). */
export const HEARTBEAT_REPEAT_FIRST_MS = 20
/** Sessions tracked for repeating, at most. */
export const MAX_REPEATED_SESSIONS = 1_024
/** Topics whose last forwarded sequence is kept per session, at most (the first ones seen). */
export const MAX_TOPICS_PER_SESSION = 256
/** Repeats sent per second, at most, over all sessions; the rest are counted `limited`. */
export const MAX_HEARTBEAT_REPEATS_PER_SECOND = 1_000

export interface RepeatCounters {
  /** Heartbeats sent again. */
  repeated: number
  /** Repeats left out by the rate cap. */
  limited: number
  /** Sessions forgotten to make room (their tails no longer told). */
  evicted: number
}

interface Session {
  /** The publisher's newest heartbeat (a copy), undefined until one came. */
  heartbeat: Uint8Array | undefined
  hops: number
  /** Topic → the last sequence this relay forwarded of it. */
  readonly last: Map<string, number>
  /** When a frame or heartbeat of the session last went through. */
  activeAt: number
  /** Repeats sent since then. */
  sent: number
  timer: NodeJS.Timeout | undefined
}

export class HeartbeatRepeats {
  readonly #send: (data: Uint8Array, hops: number) => void
  readonly #now: () => number
  readonly #budget: number
  /** Session id → its state, in order of the last activity (the least recent first). */
  readonly #sessions = new Map<number, Session>()
  readonly counters: RepeatCounters = { repeated: 0, limited: 0, evicted: 0 }
  #windowStart = Number.NEGATIVE_INFINITY
  #inWindow = 0
  #closed = false

  /**
   * `send` forwards a heartbeat to every output with hop count `hops`; `budget` is the largest
   * datagram every output carries.
   */
  constructor(
    send: (data: Uint8Array, hops: number) => void,
    budget: number,
    now: () => number = () => performance.now(),
  ) {
    this.#send = send
    this.#budget = budget
    this.#now = now
  }

  /** Sessions tracked now. */
  get size(): number {
    return this.#sessions.size
  }

  /** The heartbeat `data` of `sessionId` was just forwarded with hop count `hops`. */
  remember(sessionId: number, data: Uint8Array, hops: number): void {
    const session = this.#session(sessionId)
    if (session === undefined) return
    session.heartbeat = data.slice()
    session.hops = hops
  }

  /**
   * A frame of (`sessionId`, `topic`) with `sequence`, from the stream's own sender, went out.
   * Only a session whose heartbeat came is tracked (a publisher beats 10 ms after its first frame):
   * a flood of made-up streams costs a lookup per frame, no state.
   */
  forwarded(sessionId: number, topic: string, sequence: number): void {
    if (!this.#sessions.has(sessionId)) return
    const session = this.#session(sessionId)
    if (session === undefined) return
    const last = session.last.get(topic)
    if (last === undefined ? session.last.size < MAX_TOPICS_PER_SESSION : ((sequence - last) | 0) > 0)
      session.last.set(topic, sequence)
  }

  close(): void {
    this.#closed = true
    for (const session of this.#sessions.values()) clearTimeout(session.timer)
    this.#sessions.clear()
  }

  /** The session, marked active (its repeats start again), made when new; undefined after close. */
  #session(sessionId: number): Session | undefined {
    if (this.#closed) return undefined
    const sessions = this.#sessions
    let session = sessions.get(sessionId)
    if (session === undefined) {
      if (sessions.size >= MAX_REPEATED_SESSIONS) {
        const [oldest, entry] = sessions.entries().next().value as [number, Session]
        clearTimeout(entry.timer)
        sessions.delete(oldest)
        this.counters.evicted++
      }
      session = { heartbeat: undefined, hops: 0, last: new Map(), activeAt: 0, sent: 0, timer: undefined }
      sessions.set(sessionId, session)
    } else if (sessions.size > 1) {
      // Most recently active last (a Map keeps insertion order): a delete and set, no more.
      sessions.delete(sessionId)
      sessions.set(sessionId, session)
    }
    session.activeAt = this.#now()
    // Quiet no more after repeats began: the count starts again from the first wait. (While busy,
    // the pending timer just looks again: no timer is set per frame.)
    if (session.sent > 0) {
      clearTimeout(session.timer)
      session.timer = undefined
      session.sent = 0
    }
    if (session.timer === undefined) this.#arm(sessionId, session, HEARTBEAT_REPEAT_FIRST_MS)
    return session
  }

  #arm(sessionId: number, session: Session, ms: number): void {
    session.timer = setTimeout(() => this.#fire(sessionId, session), Math.max(1, ms))
    session.timer.unref()
  }

  #fire(sessionId: number, session: Session): void {
    session.timer = undefined
    if (this.#closed || this.#sessions.get(sessionId) !== session) return
    // Still busy (a frame within the first wait): look again once it has been quiet that long.
    const quiet = this.#now() - session.activeAt
    if (session.sent === 0 && quiet < HEARTBEAT_REPEAT_FIRST_MS) {
      this.#arm(sessionId, session, HEARTBEAT_REPEAT_FIRST_MS - quiet)
      return
    }
    session.sent++
    const heartbeat = session.heartbeat === undefined ? undefined : this.#raised(sessionId, session)
    if (heartbeat !== undefined) {
      if (this.#admit()) {
        this.counters.repeated++
        this.#send(heartbeat, session.hops)
      } else this.counters.limited++
    }
    if (session.sent < HEARTBEAT_REPEATS)
      this.#arm(sessionId, session, HEARTBEAT_REPEAT_FIRST_MS << session.sent)
    else this.#sessions.delete(sessionId)
  }

  /**
   * The publisher's newest heartbeat with each entry raised to the last sequence forwarded, and
   * the topics forwarded since it was sent added; undefined when it cannot be read.
   */
  #raised(sessionId: number, session: Session): Uint8Array | undefined {
    const frame = decodeFrame(session.heartbeat!)
    if (!frame.ok) return undefined
    const entries = decodeHeartbeatBody(frame.payload)
    if (entries === undefined) return undefined
    const sequences = new Map<string, number>()
    for (const { topic, sequence } of entries) sequences.set(topic, sequence)
    for (const [topic, sequence] of session.last) {
      const said = sequences.get(topic)
      if (said === undefined || ((sequence - said) | 0) > 0) sequences.set(topic, sequence)
    }
    const topics = [...sequences].map(([topic, sequence]) => ({ topicBytes: encodeTopic(topic), sequence }))
    // One datagram: the rest of a long list waits for the publisher's own heartbeats.
    return encodeHeartbeats(sessionId, frame.header.sequence, topics, this.#budget)[0]
  }

  /** Whether the rate cap lets one more repeat go this second. */
  #admit(): boolean {
    const now = this.#now()
    if (now - this.#windowStart >= 1_000) {
      this.#windowStart = now
      this.#inWindow = 0
    }
    if (this.#inWindow >= MAX_HEARTBEAT_REPEATS_PER_SECOND) return false
    this.#inWindow++
    return true
  }
}

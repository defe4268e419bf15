/**
 * The status sender: a receiver's flow-control STATUS frames to each publisher it hears (WIRE.md
 * “STATUS”), unicast to the address its frames come from. Each says, per topic, the next sequence
 * not yet consumed (every frame before it delivered to the application, or given up as lost) and
 * how many more bytes the receiver can take (its receive buffer granted, less what waits for the
 * application). The publisher turns that into how far ahead it may run (`send/flow-control.ts`).
 *
 * A status goes when a quarter of the window has arrived from the publisher since the last one
 * (Aeron's receiver window / 4), within {@link STATUS_INTERVAL_MS} of the position or window
 * changing (frames consumed, the application draining its queue, a lost frame given up), and every
 * {@link STATUS_KEEPALIVE_MS} while frames arrive, so the publisher does not time the receiver
 * out while it sends. A publisher gone quiet gets no keepalives: it times its receivers out, and
 * hears from them again with its next frames.
 *
 * Bounded: statuses for at most {@link MAX_STATUS_SESSIONS} publishers (the first ones heard; a
 * session not heard for {@link STATUS_SESSION_IDLE_MS} is let go), each about the streams its own
 * address sends that the stream table still holds: a stranger's frames in a publisher's session
 * add nothing to its statuses, and keep nothing the stream table has let go. No amplification: a
 * publisher is sent no more STATUS bytes than its frames and heartbeats brought, and one status
 * more (a byte credit, {@link Session.credit}).
 */
import type { Clock } from '../send/heartbeat.js'
import type { Stream } from '../stream.js'
import { encodeTopic } from '../wire/header.js'
import { encodeLeavingStatus, encodeStatuses, type StatusTopic } from '../wire/status.js'
import { FRAME_REPAIR_HORIZON_MS, FRAME_REPAIR_MAX_RETRY_MS } from './frame-repair.js'

/** A status goes at most this often while the receiver's position or window changes, ms. */
export const STATUS_INTERVAL_MS = 10
/** A status goes at least this often to a publisher heard lately, ms (its timeout is 2,000). */
export const STATUS_KEEPALIVE_MS = 500
/**
 * The window a receiver offers: this share of what its receive buffer holds of datagrams the size
 * it gets (see {@link receiveBufferHolds}), less the bytes waiting for the application.
 */
export const STATUS_WINDOW_FRACTION = 0.5
/**
 * What the kernel charges a datagram beyond its bytes in a socket's receive buffer (its buffer's
 * truesize), bytes: measured on Linux 6 with a 64 KiB buffer, 157 datagrams of 70 bytes fit
 * (about 834 bytes charged each) and 56 of 1,472 bytes.
 */
export const KERNEL_DATAGRAM_OVERHEAD = 768

/**
 * Bytes of datagrams of `averageBytes` a receive buffer of `granted` usable bytes holds: Linux
 * reserves twice the size asked for and charges each datagram its bytes and
 * {@link KERNEL_DATAGRAM_OVERHEAD}, so small datagrams fill it long before their bytes do.
 */
export function receiveBufferHolds(granted: number, averageBytes: number): number {
  const size = Math.max(1, averageBytes)
  return (2 * granted * size) / (size + KERNEL_DATAGRAM_OVERHEAD)
}
/** Topics of one publisher a status lists, at most (the first heard). */
export const MAX_STATUS_TOPICS = 1_024
/**
 * Datagrams of a stream from its own sender before it is reported on: one forged datagram makes no
 * STATUS.
 */
export const STATUS_AFTER_DATAGRAMS = 4
/** Publishers a receiver sends statuses to, at most. */
export const MAX_STATUS_SESSIONS = 256
/** A publisher not heard for this long gets no more statuses, ms. */
export const STATUS_SESSION_IDLE_MS = 3_000
/**
 * How long a missing frame of a repairable stream holds the consumed position back, ms: as long as
 * the receiver asks for it (its retries), and a little more for the answer.
 */
export const STATUS_GIVE_UP_MS = FRAME_REPAIR_HORIZON_MS + FRAME_REPAIR_MAX_RETRY_MS

export interface StatusSenderOptions {
  readonly receiverSession: number
  /** Largest STATUS datagram, bytes. */
  readonly budget: number
  /** How many more bytes this receiver can take now. */
  readonly windowBytes: () => number
  /**
   * Bytes of the message `sequence` of a stream that arrived while it is still partial: they are
   * out of the receive buffer, so a message larger than the window does not stall its own sending.
   */
  readonly partialBytes: (sessionId: number, sequence: number, topic: string) => number
  /**
   * A relay's input (forward mode) tracks a message by its first fragment: a message still in
   * fragments must hold the consumed position too. A receiver tracks a message once it is whole,
   * so it needs no such look-up per frame.
   */
  readonly firstFragments?: boolean
  readonly clock: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>
  send(datagram: Uint8Array, to: { address: string; port: number }): void
}

/** One publisher this receiver reports to. */
interface Session {
  readonly sessionId: number
  address: string
  port: number
  readonly streams: Stream[]
  /** Bytes heard from it since the last status. */
  bytes: number
  /**
   * Bytes heard from it (frames and heartbeats) less the STATUS bytes sent it: a status goes only
   * while this is above 0. A window that moves at every tick (the application's queue) would
   * otherwise send every publisher known a status every {@link STATUS_INTERVAL_MS} for
   * {@link STATUS_SESSION_IDLE_MS}: up to 300 statuses for a stranger's 4 frames. A publisher held
   * back and quiet still hears of the window opening, on the credit its frames left.
   */
  credit: number
  heardAt: number
  sentAt: number
  counter: number
  /** Position and window of the last status sent, to tell whether anything changed. */
  signature: string
}

/** What a stream's status needs: its publisher's session, its topic's bytes, how far it is consumed. */
interface StatusEntry {
  session: Session
  topicBytes: Uint8Array
  consumed: Consumed
}

/** Per stream: how far it is consumed, and since when a missing frame holds it back. */
interface Consumed {
  next: number
  stuckAt: number | undefined
  /**
   * One past the newest sequence any datagram of the stream carried: a fragment of a message not
   * complete yet has been taken off the socket all the same.
   */
  end: number
}

export class StatusSender {
  readonly #options: StatusSenderOptions
  readonly #sessions = new Map<number, Session>()
  /** Publishers answered with an announcement (no state of theirs kept): where to say goodbye. */
  readonly #announced = new Map<number, { address: string; port: number; at: number }>()
  #timer: unknown
  statusesSent = 0
  /** Publishers not reported to: more were heard at once than {@link MAX_STATUS_SESSIONS}. */
  sessionsRefused = 0

  readonly #firstFragments: boolean

  constructor(options: StatusSenderOptions) {
    this.#options = options
    this.#firstFragments = options.firstFragments === true
  }

  /**
   * A frame of `stream` from its own sender (`address:port`), `bytes` long on the wire. A status
   * goes now when a quarter of the window arrived since the last.
   */
  heard(
    stream: Stream,
    sessionId: number,
    sequence: number,
    address: string,
    port: number,
    bytes: number,
    now: number,
  ): void {
    // Kept on the stream itself: a map lookup per frame showed at 100 k frames/s.
    let entry = stream.status as StatusEntry | undefined
    if (entry === undefined) {
      // A stranger's datagram or two make no STATUS (a reflection towards a forged address).
      if (stream.datagrams < STATUS_AFTER_DATAGRAMS) return
      const session = this.#session(sessionId, address, port, now)
      // A stream in this session from another address (a stranger's, in the publisher's session)
      // is not the publisher's to hear about.
      if (session === undefined || session.address !== address || session.port !== port) return
      if (session.streams.length >= MAX_STATUS_TOPICS) return
      const start = stream.tracker.start ?? stream.tracker.position
      entry = {
        session,
        topicBytes: encodeTopic(stream.topic),
        consumed: { next: start, stuckAt: undefined, end: start },
      }
      stream.status = entry
      session.streams.push(stream)
    }
    const consumed = entry.consumed
    if (
      ((sequence + 1 - consumed.end) | 0) > 0 &&
      ((sequence - stream.tracker.position) | 0) <= stream.tracker.reach
    )
      consumed.end = (sequence + 1) >>> 0
    const session = entry.session
    session.heardAt = now
    session.bytes += bytes
    session.credit += bytes
    if (session.bytes >= this.#options.windowBytes() / 4) this.#send(session, now)
  }

  /**
   * A HEARTBEAT of `sessionId` from `address:port`, `bytes` long: one status in answer, so a
   * publisher that is quiet, or waits for its group before its first frame, keeps (or gets) its
   * receivers. For a publisher reported on, its status (only from its own sender, on its credit:
   * the heartbeat's bytes are added first); for one not (yet), an announcement with no entries,
   * keeping no state. One status per heartbeat, never more.
   */
  heartbeat(sessionId: number, address: string, port: number, bytes: number, now: number): void {
    const session = this.#sessions.get(sessionId)
    if (session !== undefined) {
      if (session.address !== address || session.port !== port) return
      session.heardAt = now
      session.credit += bytes
      this.#send(session, now)
      return
    }
    // Remembered only to be told on leave(): bounded, in order of the last heard, so the oldest
    // go first, whether idle past STATUS_SESSION_IDLE_MS or pushed out by a newer one.
    const announced = this.#announced
    announced.delete(sessionId)
    for (const [oldest, entry] of announced) {
      if (announced.size < MAX_STATUS_SESSIONS && now - entry.at < STATUS_SESSION_IDLE_MS) break
      announced.delete(oldest)
    }
    announced.set(sessionId, { address, port, at: now })
    const { receiverSession, budget } = this.#options
    const window = Math.max(0, Math.floor(this.#options.windowBytes()))
    for (const datagram of encodeStatuses(sessionId, receiverSession, 0, window, [], budget)) {
      this.statusesSent++
      this.#options.send(datagram, { address, port })
    }
  }

  /**
   * The receiver closes: each publisher it reported to (a status, or an announcement in answer to
   * a heartbeat within {@link STATUS_SESSION_IDLE_MS}) gets a last STATUS flagged `LEAVING`, so
   * that its flow control stops waiting for this receiver at once. Returns the datagrams sent: at
   * most 2 × {@link MAX_STATUS_SESSIONS}.
   */
  leave(): number {
    const { receiverSession, clock } = this.#options
    const now = clock.now()
    let sent = 0
    const tell = (sessionId: number, counter: number, to: { address: string; port: number }) => {
      this.statusesSent++
      this.#options.send(encodeLeavingStatus(sessionId, receiverSession, counter), to)
      sent++
    }
    for (const session of this.#sessions.values()) tell(session.sessionId, session.counter, session)
    for (const [sessionId, to] of this.#announced)
      if (!this.#sessions.has(sessionId) && now - to.at < STATUS_SESSION_IDLE_MS) tell(sessionId, 0, to)
    this.close()
    return sent
  }

  /** The stream table let `stream` go: its publisher's statuses no longer list it. */
  forget(stream: Stream): void {
    const entry = stream.status as StatusEntry | undefined
    if (entry === undefined) return
    stream.status = undefined
    const streams = entry.session.streams
    const at = streams.indexOf(stream)
    if (at >= 0) streams.splice(at, 1)
  }

  close(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#sessions.clear()
    this.#announced.clear()
  }

  #session(sessionId: number, address: string, port: number, now: number): Session | undefined {
    let session = this.#sessions.get(sessionId)
    if (session === undefined) {
      if (this.#sessions.size >= MAX_STATUS_SESSIONS) {
        this.sessionsRefused++
        return undefined
      }
      session = {
        sessionId,
        address,
        port,
        streams: [],
        bytes: 0,
        credit: 0,
        heardAt: now,
        sentAt: Number.NEGATIVE_INFINITY,
        counter: 0,
        signature: '',
      }
      this.#sessions.set(sessionId, session)
      this.#schedule()
    }
    return session
  }

  #schedule(): void {
    if (this.#timer === undefined && this.#sessions.size > 0)
      this.#timer = this.#options.clock.setTimeout(this.#tick, STATUS_INTERVAL_MS)
  }

  readonly #tick = () => {
    this.#timer = undefined
    const now = this.#options.clock.now()
    for (const session of this.#sessions.values()) {
      if (now - session.heardAt >= STATUS_SESSION_IDLE_MS) {
        this.#sessions.delete(session.sessionId)
        // Heard again, its streams are reported on again (in a session made anew).
        for (const stream of session.streams) stream.status = undefined
        continue
      }
      // A keepalive only about what arrived since the last status (a publisher gone quiet gets
      // none); a change (the application drained, a lost frame given up) whenever it happens.
      if (now - session.sentAt >= STATUS_KEEPALIVE_MS && session.heardAt > session.sentAt)
        this.#send(session, now)
      else if (now - session.sentAt >= STATUS_INTERVAL_MS) this.#send(session, now, true)
    }
    this.#schedule()
  }

  /**
   * Sends `session` its status while it has credit; `ifChanged`: only if position or window moved
   * since the last.
   */
  #send(session: Session, now: number, ifChanged = false): void {
    if (session.credit <= 0) return
    const topics: StatusTopic[] = []
    let signature = ''
    // The window, and the bytes of messages being reassembled at the consumed positions (the
    // publisher counts them from the message's start).
    let window = this.#options.windowBytes()
    for (const stream of session.streams) {
      const entry = stream.status as StatusEntry
      const next = this.#consumed(session.sessionId, stream, entry.consumed, now)
      topics.push({ topicBytes: entry.topicBytes, sequence: next })
      window += this.#options.partialBytes(session.sessionId, next, stream.topic)
      signature += `${next},`
    }
    window = Math.max(0, Math.floor(window))
    signature += window
    if (ifChanged && signature === session.signature) return
    session.signature = signature
    session.bytes = 0
    session.sentAt = now
    const { receiverSession, budget } = this.#options
    for (const datagram of encodeStatuses(
      session.sessionId,
      receiverSession,
      session.counter,
      window,
      topics,
      budget,
    )) {
      session.counter = (session.counter + 1) >>> 0
      this.statusesSent++
      session.credit -= datagram.length
      this.#options.send(datagram, session)
    }
  }

  /**
   * The next sequence of `stream` not consumed: past every frame that arrived; a missing frame (or
   * a message still in fragments) of a stream this receiver repairs holds it for
   * {@link STATUS_GIVE_UP_MS} (the receiver is asking for it), one of any other stream not at all.
   */
  #consumed(sessionId: number, stream: Stream, consumed: Consumed, now: number): number {
    const tracker = stream.tracker
    // Up to the newest sequence heard of (a message in fragments counts once any arrived).
    const position = ((consumed.end - tracker.position) | 0) > 0 ? consumed.end : tracker.position
    // Not further back than the window can tell, nor ahead of the stream (it moved back: resync).
    const behind = (position - consumed.next) | 0
    if (behind < 0 || behind > tracker.reach)
      consumed.next = behind < 0 ? position : (position - tracker.reach) >>> 0
    // Once the oldest missing frame is given up, so is every frame missing behind the position
    // now: they were asked for no earlier, and are at worst a little early given up on.
    let givenUp = !stream.repairing
    while (consumed.next !== position) {
      // Missing, or (a relay's input tracks a message by its first fragment) still in fragments.
      if (
        !tracker.has(consumed.next) ||
        (this.#firstFragments &&
          stream.repairing &&
          this.#options.partialBytes(sessionId, consumed.next, stream.topic) > 0)
      ) {
        if (!givenUp) {
          consumed.stuckAt ??= now
          if (now - consumed.stuckAt < STATUS_GIVE_UP_MS) break
          givenUp = true
        }
      }
      consumed.next = (consumed.next + 1) >>> 0
      consumed.stuckAt = undefined
    }
    return consumed.next
  }
}

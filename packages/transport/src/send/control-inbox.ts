/**
 * The control inbox: every datagram a publisher's socket reads, sorted. An ACK goes to the ack
 * book, a NACK (fragments) or NACK_FRAMES (whole frames) to the retransmitter, a plain (non-Shoal) datagram is a raw-mode reply, an ACK of
 * another session a relay's to pass on, a SCHEMA_REQUEST to the schema announcer (or, for another
 * session, a relay's to pass upstream); anything else is refused, counted by reason. One outcome
 * per datagram read (`stats().outcomes`), so they sum to `datagramsIn`.
 */

import type { Opener } from '../seal/opener.js'
import { countDrop, type DatagramOutcome } from '../stats.js'
import { decodeAckBody } from '../wire/ack.js'
import { CRC_LENGTH, Flag, FrameKind, Limits } from '../wire/constants.js'
import { type DropReason, decodeFrame } from '../wire/frame.js'
import type { FrameHeader } from '../wire/header.js'
import { decodeNackBody, type NackBody } from '../wire/nack.js'
import { decodeNackFramesBody, type NackFramesBody } from '../wire/nack-frames.js'
import { decodeSchemaRequest } from '../wire/schema.js'
import { isSealed } from '../wire/seal.js'
import { decodeStatusBody, type StatusBody } from '../wire/status.js'
import type { AckBook } from './ack-book.js'

export interface ControlHandlers {
  readonly sessionId: number
  /** Opens sealed control frames; keyed, it refuses unsealed ones (WIRE.md “Sealing”). */
  readonly opener?: Opener
  readonly acks: AckBook
  /** A NACK for this session, well formed. */
  nack(header: FrameHeader, body: NackBody, length: number, address: string, port: number): void
  /** A NACK_FRAMES for this session, well formed. */
  nackFrames(header: FrameHeader, body: NackFramesBody, length: number, address: string, port: number): void
  /** Whether this publisher forwards (and logs) that session's topic: a relay answers NACKs for it. */
  forwards(sessionId: number, topic: string): boolean
  /** A SCHEMA_REQUEST for this session, well formed: a receiver asks for `fingerprint`'s schema. */
  schemaRequest(fingerprint: number): void
  /** A STATUS for this session, well formed (flow control). */
  /** `leaving`: the receiver closes (flag `LEAVING`) and reports no more. */
  status(body: StatusBody, address: string, port: number, leaving: boolean): void
  /** A plain datagram: a reply from a bare-socket program (raw mode's duplex). */
  reply(data: Buffer, address: string, port: number): void
  /**
   * An ACK of another session (a relay's forwarded frames): true when someone takes it, false to
   * refuse it as `foreign-session`.
   */
  foreignAck(header: FrameHeader, data: Buffer, address: string, port: number): boolean
  /** A refused datagram, for the `'warning'` event. */
  refused(reason: DropReason, address: string, port: number): void
}

/** Sealed control frames a keyless relay's output passes back upstream, unopened. */
const PASSED_BACK: ReadonlySet<number> = new Set([
  FrameKind.ACK,
  FrameKind.NACK,
  FrameKind.NACK_FRAMES,
  FrameKind.SCHEMA_REQUEST,
])

export class ControlInbox {
  readonly #handlers: ControlHandlers
  readonly outcomes: Partial<Record<DatagramOutcome, number>> = {}
  readonly drops: Partial<Record<DropReason, number>> = {}
  datagramsIn = 0
  bytesIn = 0

  constructor(handlers: ControlHandlers) {
    this.#handlers = handlers
  }

  /** One datagram read from the publisher's socket. */
  receive(data: Buffer, address: string, port: number): void {
    this.datagramsIn++
    this.bytesIn += data.length
    const outcome = this.#sort(data, address, port)
    this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1
  }

  #sort(data: Buffer, address: string, port: number): DatagramOutcome {
    const h = this.#handlers
    const frame = decodeFrame(data, 0, data.length, { maxMessageBytes: Limits.MAX_MESSAGE_BYTES })
    if (!frame.ok && (frame.reason === 'bad-magic' || frame.reason === 'truncated')) {
      h.reply(data, address, port)
      return 'reply'
    }
    if (!frame.ok) return this.#refuse(frame.reason, address, port)
    const { header } = frame
    let payload = frame.payload
    if (h.opener !== undefined && (h.opener.keyed || isSealed(header.flags))) {
      // A keyless relay passes a sealed ACK or repair request for a session it forwarded back as
      // it came: that session's publisher, which holds the key, opens it (repair and acks keep
      // working through a relay without the key).
      if (!h.opener.keyed && header.sessionId !== h.sessionId && PASSED_BACK.has(header.kind))
        return h.foreignAck(header, data, address, port)
          ? header.kind === FrameKind.SCHEMA_REQUEST
            ? 'schema-request'
            : 'foreign-ack'
          : this.#refuse('foreign-session', address, port)
      const opened = h.opener.open(data, header, data.length - header.payloadLength - CRC_LENGTH, payload)
      if (!opened.ok) return this.#refuse(opened.reason, address, port)
      payload = opened.payload
    }
    if (header.kind === FrameKind.ACK) {
      const body = decodeAckBody(payload)
      if (body === undefined) return this.#refuse('bad-ack', address, port)
      if (header.sessionId !== h.sessionId)
        return h.foreignAck(header, data, address, port)
          ? 'foreign-ack'
          : this.#refuse('foreign-session', address, port)
      const outcome = h.acks.receive(header, body, address, port)
      return outcome === 'ack' ? 'ack' : this.#refuse(outcome, address, port)
    }
    if (header.kind === FrameKind.NACK) {
      if (header.sessionId !== h.sessionId && !h.forwards(header.sessionId, header.topic))
        return this.#refuse('foreign-session', address, port)
      const body = decodeNackBody(payload)
      if (body === undefined) return this.#refuse('bad-nack', address, port)
      h.nack(header, body, data.length, address, port)
      return 'nack'
    }
    if (header.kind === FrameKind.NACK_FRAMES) {
      if (header.sessionId !== h.sessionId && !h.forwards(header.sessionId, header.topic))
        return this.#refuse('foreign-session', address, port)
      const body = decodeNackFramesBody(payload)
      if (body === undefined) return this.#refuse('bad-nack-frames', address, port)
      h.nackFrames(header, body, data.length, address, port)
      return 'nack'
    }
    if (header.kind === FrameKind.SCHEMA_REQUEST) {
      if (decodeSchemaRequest(header, payload) === undefined)
        return this.#refuse('bad-schema-request', address, port)
      // Another session's: a relay's output passes it upstream, towards that session's publisher.
      if (header.sessionId !== h.sessionId)
        return h.foreignAck(header, data, address, port)
          ? 'schema-request'
          : this.#refuse('foreign-session', address, port)
      h.schemaRequest(header.fingerprint)
      return 'schema-request'
    }
    if (header.kind === FrameKind.STATUS) {
      if (header.sessionId !== h.sessionId) return this.#refuse('foreign-session', address, port)
      const body = decodeStatusBody(payload)
      if (body === undefined) return this.#refuse('bad-status', address, port)
      h.status(body, address, port, (header.flags & Flag.LEAVING) !== 0)
      return 'status'
    }
    return this.#refuse('unexpected-kind', address, port)
  }

  /** A datagram this publisher does not take: counted by reason, and a warning. */
  #refuse(reason: DropReason, address: string, port: number): DropReason {
    countDrop(this.drops, reason)
    this.#handlers.refused(reason, address, port)
    return reason
  }
}

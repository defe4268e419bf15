/**
 * A subscriber's repair requests, both kinds: fragments of messages its publishers hold
 * (`RepairRequester`, NACK) and whole frames they keep in their sent log (`FrameRepair`,
 * NACK_FRAMES), paid for out of one NACK credit per sender address (`NackCredit`).
 */

import { REAL_CLOCK } from '../send/heartbeat.js'
import type { RepairStats } from '../stats.js'
import { emptyRepairStats } from '../stats.js'
import type { Stream } from '../stream.js'
import { CRC_LENGTH, FIXED_HEADER_LENGTH } from '../wire/constants.js'
import type { FrameHeader } from '../wire/header.js'
import { FrameRepair } from './frame-repair.js'
import { NackCredit } from './nack-credit.js'
import type { Reassembler, RepairTiming } from './reassembler.js'
import { DEFAULT_REPAIR_TIMING, messageKey, RepairRequester } from './repair-requester.js'
import type { SequenceVerdict } from './sequence.js'

type SendControl = (datagram: Uint8Array, to: { address: string; port: number }, what: string) => void

export class Repairs {
  readonly fragments: RepairRequester
  readonly frames: FrameRepair
  readonly #credit = new NackCredit()
  readonly #reassembler: Reassembler

  constructor(
    timing: Partial<RepairTiming> | true,
    reassembler: Reassembler,
    receiverSession: number,
    budget: number,
    send: SendControl,
  ) {
    this.#reassembler = reassembler
    const credit = this.#credit
    const sendNack = (nack: Uint8Array, to: { address: string; port: number }) => send(nack, to, 'nack')
    this.fragments = new RepairRequester({
      timing: { ...DEFAULT_REPAIR_TIMING, ...(timing === true ? {} : timing) },
      reassembler,
      receiverSession,
      budget,
      credit,
      send: sendNack,
    })
    this.frames = new FrameRepair({
      credit,
      receiverSession,
      budget,
      clock: REAL_CLOCK,
      soon: (ask) => setImmediate(ask),
      send: sendNack,
    })
  }

  /**
   * A whole frame its publisher keeps in its sent log (REPAIRABLE), from the stream's own sender:
   * it earns NACK credit with that address, and the `skipped` sequences a gap jumped are asked for.
   * `datagramLength`: the datagram it came in (a batch's), what a lost one costs to resend.
   */
  repairable(
    stream: Stream,
    header: FrameHeader,
    verdict: SequenceVerdict,
    skipped: number,
    length: number,
    datagramLength: number,
    address: string,
    port: number,
  ): void {
    // The largest seen: a NACK padded for less than the datagram it asks for gets nothing back.
    if (datagramLength > (stream.frameDatagramBytes ?? 0)) stream.frameDatagramBytes = datagramLength
    stream.repairableFrames = true
    stream.repairing = true
    this.#credit.earn(address, length + FIXED_HEADER_LENGTH + header.topic.length + CRC_LENGTH)
    if (verdict === 'gap' && skipped > 0)
      this.frames.gap(
        stream,
        header.sessionId,
        header.topic,
        (header.sequence - skipped) >>> 0,
        skipped,
        address,
        port,
      )
  }

  /**
   * A datagram a relay's input passes on (forward mode), from its stream's own sender: what the
   * relay missed it asks for, as a receiver would — whole frames and messages by sequence (on a
   * message's first fragment, `verdict` its stream's), and the fragments missing from a message it
   * got part of (kept in reassembly, bounded as a receiver's, only to know what is missing; the
   * message itself is never delivered).
   */
  relayed(
    stream: Stream,
    header: FrameHeader,
    verdict: SequenceVerdict | undefined,
    skipped: number,
    payload: Uint8Array,
    datagramLength: number,
    address: string,
    port: number,
  ): void {
    if (verdict !== undefined)
      this.repairable(stream, header, verdict, skipped, payload.length, datagramLength, address, port)
    if (header.fragmentCount === 1 || stream.tracker.isFar(header.sequence)) return
    const key = messageKey(header.sessionId, header.sequence, header.topic)
    this.#reassembler.accept(key, header, payload, {
      repair: this.fragments.target(header, stream, address, port, datagramLength),
      askedWhole: this.fragments.isWanted(key),
      source: address,
      datagramBytes: datagramLength,
    })
    this.fragments.afterFragment()
  }

  /** A heartbeat says `missing` frames up to `last` were lost: ask for what the publisher holds. */
  tail(
    stream: Stream,
    sessionId: number,
    topic: string,
    last: number,
    missing: number,
    address: string,
    port: number,
  ): void {
    this.fragments.tail(sessionId, topic, stream, last, address, port)
    if (stream.repairableFrames)
      this.frames.gap(stream, sessionId, topic, (last - missing + 1) >>> 0, missing, address, port)
  }

  stats(): RepairStats {
    const frames = this.frames.stats()
    return {
      ...emptyRepairStats(),
      nacksSent: this.fragments.nacksSent + frames.nacksSent,
      nacksSuppressed: this.fragments.nacksSuppressed + frames.nacksSuppressed,
      fragmentsRepaired: this.#reassembler.stats().repairedFragments,
      framesAsked: frames.framesAsked,
      framesGivenUp: frames.framesGivenUp,
      framesNotAsked: frames.framesNotAsked,
    }
  }

  close(): void {
    this.fragments.close()
    this.frames.close()
  }
}

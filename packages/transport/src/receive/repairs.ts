/**
 * A subscriber's repair requests, both kinds: fragments of messages its publishers hold
 * (`RepairRequester`, NACK) and whole frames they keep in their sent log (`FrameRepair`,
 * NACK_FRAMES), paid for out of one NACK credit per sender address (`NackCredit`).
 */

import { REAL_CLOCK } from '../send/heartbeat.js'
import type { RepairStats, Stream } from '../stats.js'
import { emptyRepairStats } from '../stats.js'
import { CRC_LENGTH, FIXED_HEADER_LENGTH } from '../wire/constants.js'
import type { FrameHeader } from '../wire/header.js'
import { FrameRepair } from './frame-repair.js'
import { NackCredit } from './nack-credit.js'
import type { Reassembler, RepairTiming } from './reassembler.js'
import { DEFAULT_REPAIR_TIMING, RepairRequester } from './repair-requester.js'
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

/**
 * What a subscriber counts of the datagrams it reads: one outcome per datagram (they add up to
 * `datagramsIn`), every drop by reason (and on its stream), and a `'warning'` event for each when
 * anyone listens (STYLE.md “Errors”: a bad datagram is a counter and a warning, never a throw).
 */
import { countDrop, type DatagramOutcome } from '../stats.js'
import type { Stream } from '../stream.js'
import type { DropReason } from '../wire/frame.js'
import type { TransportWarning } from './options.js'

export interface WarningHost {
  emit(event: string, payload: unknown): boolean
  listenerCount(event: string): number
}

export class Tally {
  readonly #host: WarningHost
  readonly drops: Partial<Record<DropReason, number>> = {}
  readonly outcomes: Partial<Record<DatagramOutcome, number>> = {}

  constructor(host: WarningHost) {
    this.#host = host
  }

  outcome(outcome: DatagramOutcome): void {
    this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1
  }

  /** A datagram, frame or message dropped: counted by reason (on its stream too), and a warning. */
  drop(
    reason: DropReason,
    stream: Stream | undefined,
    address?: string,
    port?: number,
    detail?: string,
  ): void {
    countDrop(this.drops, reason)
    stream?.drop(reason)
    if (this.#host.listenerCount('warning') === 0) return
    const warning: TransportWarning = { reason }
    if (address !== undefined) warning.address = address
    if (port !== undefined) warning.port = port
    if (stream !== undefined) warning.topic = stream.topic
    if (detail !== undefined) warning.detail = detail
    this.#host.emit('warning', warning)
  }

  warn(warning: TransportWarning): void {
    if (this.#host.listenerCount('warning') > 0) this.#host.emit('warning', warning)
  }
}

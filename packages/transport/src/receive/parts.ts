/**
 * What a receive engine is made of, and their lifecycle: the stream and source tables, reassembler,
 * delivery, seal gate, schema learner, repair requesters and status sender, wired to each other
 * and to the one way control frames go out (sealed, counted, waited for on close). The engine
 * (engine.ts) runs the datagram path over them; this module builds them, sweeps them, reads their
 * counters and shuts them down.
 */
import { REAL_CLOCK } from '../send/heartbeat.js'
import { emptyRepairStats, emptySchemaStats, type RepairStats, type StatsSnapshot } from '../stats.js'
import { Limits } from '../wire/constants.js'
import { Delivery } from './delivery.js'
import type { SubscriberInfo, SubscriberOptions } from './options.js'
import { Reassembler } from './reassembler.js'
import { messageKey } from './repair-requester.js'
import { Repairs } from './repairs.js'
import type { SchemaLearner } from './schema-learner.js'
import { schemaLearnerFor } from './schema-verify.js'
import { SealGate } from './seal-gate.js'
import { type SourceEvent, SourceTable } from './sources.js'
import { receiveBufferHolds, STATUS_WINDOW_FRACTION, StatusSender } from './status-sender.js'
import { StreamTable } from './stream-table.js'
import { Tally } from './tally.js'

/** What the engine needs of its subscriber: events out, datagrams out. */
export interface EngineHost {
  emit(event: string, payload: unknown): boolean
  listenerCount(event: string): number
  /** Sends one control datagram (ACK, NACK, STATUS); `done` gets the socket's error, or null. */
  send(datagram: Uint8Array, to: { address: string; port: number }, done: (error: Error | null) => void): void
}

/** The average datagram assumed before any arrived, bytes (it sizes the first STATUS windows). */
export const INITIAL_AVERAGE_DATAGRAM_BYTES = 64
/** How long a closing subscriber waits for its last control frames (LEAVING) to leave, ms. */
export const LEAVE_WAIT_MS = 100

type To = { address: string; port: number }

/** Counters the engine's datagram path keeps, read into its snapshot. */
export interface PathCounters {
  datagramsIn: number
  bytesIn: number
  /** Control datagrams handed to the socket (STATUS, NACK, ACK, schema requests), sealed length. */
  datagramsOut: number
  bytesOut: number
  heartbeatsReceived: number
  /** A moving average of datagram sizes: what the kernel buffer holds of them (STATUS windows). */
  averageDatagram: number
}

export class ReceiveParts {
  readonly tally: Tally
  readonly delivery: Delivery
  readonly schemas: SchemaLearner | undefined
  readonly reassembler: Reassembler
  readonly streams: StreamTable
  readonly sources: SourceTable
  readonly seal: SealGate
  readonly repairs: Repairs | undefined
  readonly status: StatusSender | undefined
  readonly maxMessageBytes: number
  readonly counters: PathCounters = {
    datagramsIn: 0,
    bytesIn: 0,
    datagramsOut: 0,
    bytesOut: 0,
    heartbeatsReceived: 0,
    averageDatagram: INITIAL_AVERAGE_DATAGRAM_BYTES,
  }
  readonly #host: EngineHost
  /** Control frames handed to the socket whose send has not called back yet, and who waits for none. */
  #controlInFlight = 0
  readonly #controlSettled: (() => void)[] = []

  constructor(options: SubscriberOptions, info: SubscriberInfo, sessionId: number, host: EngineHost) {
    this.#host = host
    const tally = new Tally(host)
    this.tally = tally
    const forward = options.forward ?? false
    const raw = options.raw ?? false
    this.delivery = new Delivery(options, host, (reason, stream, address, port, detail) =>
      tally.drop(reason, stream, address, port, detail),
    )
    this.schemas = schemaLearnerFor(options, sessionId, this.delivery, {
      emit: (schema) => host.emit('schema', schema),
      send: (datagram, to) => this.sendControl(datagram, to, 'schema-request'),
      drop: (reason, address, port) => tally.drop(reason, undefined, address, port),
    })
    this.maxMessageBytes = options.reassembly?.maxMessageBytes ?? Limits.MAX_MESSAGE_BYTES
    this.reassembler = new Reassembler(options.reassembly)
    this.streams = new StreamTable(options.streams)
    this.sources = new SourceTable(options.sourceGoneMs)
    this.seal = new SealGate(options)
    // Sealed control frames grow by the seal: they are cut to the budget less it.
    const budget = this.seal.controlBudget(info.budget)
    const sendControl = (datagram: Uint8Array, to: To, what: string) => this.sendControl(datagram, to, what)
    const asks = options.repair ?? true
    this.repairs =
      // A relay's input asks too (hop by hop): what it missed, its receivers cannot get from it.
      asks === false || raw ? undefined : new Repairs(asks, this.reassembler, sessionId, budget, sendControl)
    // A relay's input reports upstream only when it repairs (hop by hop): then its publisher
    // closes only once the relay holds everything, as it would for a receiver.
    this.status =
      (options.status ?? true) && !raw && (!forward || this.repairs !== undefined)
        ? new StatusSender({
            receiverSession: sessionId,
            budget,
            windowBytes: () =>
              receiveBufferHolds(info.recvBuffer.granted, this.counters.averageDatagram) *
                STATUS_WINDOW_FRACTION -
              this.delivery.queuedBytes,
            partialBytes: (session, sequence, topic) =>
              this.reassembler.partials === 0
                ? 0
                : this.reassembler.partialBytes(messageKey(session, sequence, topic)),
            firstFragments: forward,
            clock: REAL_CLOCK,
            send: (datagram, to) => sendControl(datagram, to, 'status'),
          })
        : undefined
    // A stream the table lets go is forgotten by the statuses too: they hold no stream it does not.
    if (this.status !== undefined) {
      const status = this.status
      this.streams.onRetire = (stream) => status.forget(stream)
    }
  }

  /** Sends a control frame (sealed when keyed); a failed send is a warning. */
  sendControl(datagram: Uint8Array, to: To, what: string): void {
    this.#controlInFlight++
    const wire = this.seal.seal(datagram)
    this.counters.datagramsOut++
    this.counters.bytesOut += wire.length
    this.#host.send(wire, to, (error) => {
      if (--this.#controlInFlight === 0) for (const settled of this.#controlSettled.splice(0)) settled()
      if (error)
        this.tally.warn({
          reason: 'socket-error',
          address: to.address,
          port: to.port,
          detail: `${what}: ${error.message}`,
        })
    })
  }

  /** Expires partial messages and idle streams; returns the sources whose state changed. */
  sweep(now: number): SourceEvent[] {
    this.seal.sweep(now)
    this.schemas?.sweep(now)
    this.delivery.sweep(now)
    this.reassembler.sweep()
    this.streams.sweep(now)
    return this.sources.sweep(now, this.streams.streams())
  }

  /** The counters at this instant (the host adds the kernel's drops). */
  snapshot(): StatsSnapshot {
    const received = []
    for (const stream of this.streams.streams()) received.push(stream.snapshot('received'))
    const { datagramsIn, bytesIn, datagramsOut, bytesOut, heartbeatsReceived } = this.counters
    return {
      sent: [],
      received,
      drops: { ...this.tally.drops },
      repair: this.repairStats(),
      streams: this.streams.stats(),
      sources: this.sources.stats(),
      heartbeats: { sent: 0, received: heartbeatsReceived },
      ...(this.status === undefined
        ? {}
        : { status: { sent: this.status.statusesSent, sessionsRefused: this.status.sessionsRefused } }),
      outcomes: { ...this.tally.outcomes },
      ...(this.seal.keyed ? { seal: this.seal.stats()! } : {}),
      schemas: { ...(this.schemas?.stats() ?? emptySchemaStats()), ...this.delivery.heldForSchema },
      datagramsIn,
      datagramsOut,
      bytesIn,
      bytesOut,
    }
  }

  repairStats(): RepairStats {
    const stats = this.repairs?.stats() ?? {
      ...emptyRepairStats(),
      fragmentsRepaired: this.reassembler.stats().repairedFragments,
    }
    stats.orderSkipped = this.delivery.gapsSkipped
    return stats
  }

  /**
   * The subscriber closes: each publisher it reports to is told (a STATUS flagged `LEAVING`), and
   * this resolves once the control frames sent so far are with the kernel, or after
   * {@link LEAVE_WAIT_MS} (the socket closes next).
   */
  async leave(): Promise<void> {
    this.status?.leave()
    if (this.#controlInFlight === 0) return
    let timer: NodeJS.Timeout | undefined
    await new Promise<void>((resolve) => {
      this.#controlSettled.push(resolve)
      timer = setTimeout(resolve, LEAVE_WAIT_MS)
    })
    clearTimeout(timer)
  }

  /** Stops every timer and gives up every partial message. */
  close(): void {
    this.repairs?.close()
    this.status?.close()
    this.schemas?.close()
    this.delivery.release()
    this.reassembler.giveUpAll()
  }
}

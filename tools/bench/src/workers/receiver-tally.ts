/**
 * What both receivers (small frames, images) count and how they end: on the sender's end marker,
 * on the coordinator's `stop` once 50 ms pass with nothing new, or at the deadline.
 */
import type { Subscriber } from '@shoal/transport'
import type { ReceiverReport } from '../protocol.js'
import {
  ArrivalClock,
  armDeadline,
  emit,
  emitReady,
  onStop,
  peakRssBytes,
  udpCounters,
  udpDelta,
} from './io.js'

export class ReceiverTally {
  readonly clock: ArrivalClock
  bytes = 0
  datagramsIn = 0
  recvBufferBytes = 0
  /** Set for Shoal: its stats give datagrams, gaps, duplicates and drops. */
  subscriber: Subscriber | undefined
  /** Called when reporting, for what only one kind of receiver knows. */
  extra: (() => Partial<ReceiverReport>) | undefined
  readonly #topic: string
  readonly #udpBefore = udpCounters()
  #readyRssBytes = 0
  #finished = false

  /** `stride`: how often the clock is read (see {@link ArrivalClock}). */
  constructor(topic: string, deadlineMs: number, stride: number) {
    this.clock = new ArrivalClock(stride)
    this.#topic = topic
    onStop(() => {
      let seen = -1
      setInterval(() => {
        if (this.clock.count === seen) this.finish('stop')
        seen = this.clock.count
      }, 50)
    })
    armDeadline(deadlineMs, () => this.finish('deadline'))
  }

  /** Tells the coordinator the socket is open and joined. */
  ready(): void {
    this.#readyRssBytes = process.memoryUsage().rss
    emitReady({ recvBufferBytes: this.recvBufferBytes })
  }

  /** Reports and exits. */
  finish(endedBy: ReceiverReport['endedBy']): void {
    if (this.#finished) return
    this.#finished = true
    const stats = this.subscriber?.stats()
    const report: ReceiverReport = {
      event: 'result',
      delivered: this.clock.count,
      timedFrames: this.clock.timed(),
      elapsedNs: this.clock.elapsedNs(),
      bytes: this.bytes,
      datagramsIn: stats?.datagramsIn ?? this.datagramsIn,
      endedBy,
      udp: udpDelta(this.#udpBefore, udpCounters()),
      recvBufferBytes: this.recvBufferBytes,
      readyRssBytes: this.#readyRssBytes,
      peakRssBytes: peakRssBytes(),
    }
    if (stats !== undefined) {
      const streams = stats.received.filter((s) => s.topic === this.#topic)
      report.gaps = streams.reduce((sum, s) => sum + s.gaps, 0)
      report.duplicates = streams.reduce((sum, s) => sum + s.duplicates, 0)
      report.drops = stats.drops as Record<string, number>
      report.repair = stats.repair
    }
    emit('result', { ...report, ...this.extra?.() })
    process.exit(0)
  }
}

/**
 * The batcher: small frames packed into one BATCH datagram (see `BatchOptions`), and when the
 * pending batch goes out. A batch goes out as soon as one of these holds:
 * - the next frame would not fit the budget;
 * - its first frame is `lingerMs` old (checked at the end of every event-loop turn);
 * - a turn of the event loop ended with no frame added to it: the producer has gone quiet, and
 *   waiting longer would add latency and no company;
 * - `flush()` is called.
 * Sealed batches go out through the outbox like every other datagram.
 */
import { BatchBuilder } from '../wire/batch.js'
import type { Outbox } from './outbox.js'
import type { StreamKey } from './sent-log.js'

interface Waiter {
  resolve: () => void
  reject: (error: Error) => void
}

export class Batcher {
  readonly builder: BatchBuilder
  readonly #outbox: Outbox
  readonly #sessionId: number
  readonly #lingerMs: number
  /** BATCH frames carry their own counter in the sequence field (WIRE.md “BATCH”). */
  #batchSequence = 0
  /** The end-of-turn check of the pending batch, while there is one. */
  #check: NodeJS.Immediate | undefined
  /** When the pending batch got its first frame (performance.now()). */
  #startedAt = 0
  /** Frames in the pending batch at the last end-of-turn check. */
  #countAtCheck = 0
  #waiters: Waiter[] | undefined
  /**
   * The runs of consecutive sequences of one topic in the pending batch, for the sent log: a batch
   * of 600 frames of one topic is one note, not 600.
   */
  readonly #runKeys: StreamKey[] = []
  readonly #runFirst: number[] = []
  readonly #runLast: number[] = []
  #runs = 0

  constructor(outbox: Outbox, sessionId: number, budget: number, lingerMs: number) {
    this.builder = new BatchBuilder(budget)
    this.#outbox = outbox
    this.#sessionId = sessionId
    this.#lingerMs = lingerMs
  }

  /** Frames in the pending batch. */
  get count(): number {
    return this.builder.count
  }

  /** Sends the pending batch first when an entry of `entryLength` bytes would not fit it. */
  makeRoom(entryLength: number): void {
    if (!this.builder.fits(entryLength)) this.flush()
  }

  /**
   * A frame was appended to the builder: the batch goes out by the rules above. `key` and
   * `sequence`: the frame's stream in the sent log, when there is one.
   */
  appended(key?: StreamKey, sequence = 0): void {
    if (key !== undefined) {
      const last = this.#runs - 1
      if (last >= 0 && this.#runKeys[last] === key && this.#runLast[last] === (sequence - 1) >>> 0)
        this.#runLast[last] = sequence
      else {
        this.#runKeys[this.#runs] = key
        this.#runFirst[this.#runs] = sequence
        this.#runLast[this.#runs] = sequence
        this.#runs++
      }
    }
    if (this.#check !== undefined) return
    this.#startedAt = performance.now()
    this.#countAtCheck = 0
    this.#check = setImmediate(this.#onTurnEnd)
  }

  /** Resolves when the pending batch (the one the caller's frame is in) is with the kernel. */
  sent(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiters ??= []
      this.#waiters.push({ resolve, reject })
    })
  }

  /** Seals and sends the pending batch, if any; its waiters resolve when the kernel has it. */
  flush(): void {
    const builder = this.builder
    if (builder.count === 0) return
    if (this.#check !== undefined) {
      clearImmediate(this.#check)
      this.#check = undefined
    }
    const datagram = builder.finish(this.#sessionId, this.#batchSequence)
    this.#batchSequence = (this.#batchSequence + 1) >>> 0
    const waiters = this.#waiters
    this.#waiters = undefined
    const index =
      waiters === undefined
        ? this.#outbox.put(datagram, 'first')
        : this.#outbox.put(datagram, 'first', (error) => {
            for (const w of waiters) {
              if (error) w.reject(error)
              else w.resolve()
            }
          })
    const log = this.#outbox.log
    if (log !== undefined && index >= 0)
      for (let r = 0; r < this.#runs; r++)
        log.note(this.#runKeys[r]!, this.#runFirst[r]!, this.#runLast[r]!, index)
    this.#runs = 0
  }

  /** End of an event-loop turn with a batch pending: send it if it is old enough or nothing came. */
  readonly #onTurnEnd = () => {
    this.#check = undefined
    const count = this.builder.count
    if (count === 0) return
    if (count === this.#countAtCheck || performance.now() - this.#startedAt >= this.#lingerMs) {
      this.flush()
      return
    }
    this.#countAtCheck = count
    this.#check = setImmediate(this.#onTurnEnd)
  }
}

/** A clock whose time moves only when a test says so, with the timers due run in order. */
import type { Clock } from '../src/send/heartbeat.js'

export class FakeClock implements Clock {
  #now = 0
  #next = 1
  readonly #timers = new Map<number, { at: number; run: () => void }>()

  now(): number {
    return this.#now
  }

  setTimeout(run: () => void, ms: number): unknown {
    const id = this.#next++
    this.#timers.set(id, { at: this.#now + ms, run })
    return id
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number)
  }

  /** Moves time on by `ms`, running every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const end = this.#now + ms
    for (;;) {
      let due: [number, { at: number; run: () => void }] | undefined
      for (const entry of this.#timers)
        if (entry[1].at <= end && (due === undefined || entry[1].at < due[1].at)) due = entry
      if (due === undefined) break
      this.#timers.delete(due[0])
      this.#now = due[1].at
      due[1].run()
    }
    this.#now = end
  }

  get pending(): number {
    return this.#timers.size
  }
}

/**
 * The worker side of the protocol (see ../protocol.ts): config in, `@bench` events out, `stop` on
 * stdin, a hard deadline, and readings of this process and of the namespace's UDP counters.
 */
import { readFileSync } from 'node:fs'
import { EVENT_PREFIX, STOP_COMMAND, type UdpCounters } from '../protocol.js'

export function readConfig<T>(): T {
  const raw = process.argv[2]
  if (raw === undefined) throw new Error('a worker needs its JSON config as the first argument')
  return JSON.parse(raw) as T
}

/** Prints one event; a `result` also gets this process's CPU time (`cpuUs`). */
export function emit(event: string, data: object = {}): void {
  const extra = event === 'result' ? { cpuUs: cpuUs() } : {}
  process.stdout.write(`${EVENT_PREFIX}${JSON.stringify({ event, ...data, ...extra })}\n`)
}

/** User + system CPU time of this process, µs. */
export function cpuUs(): number {
  const usage = process.cpuUsage()
  return usage.user + usage.system
}

/**
 * Tells the coordinator this worker is set up. `atUs` is the monotonic clock in µs (the clock of
 * V8's CPU profiles), so a profile can leave out start-up and count only the measurement.
 */
export function emitReady(data: object = {}): void {
  emit('ready', { ...data, atUs: Number(process.hrtime.bigint() / 1000n) })
}

/** Calls `onStop` once when the coordinator writes `stop` (or closes stdin). */
export function onStop(onStop: () => void): void {
  let buffered = ''
  let fired = false
  const fire = () => {
    if (fired) return
    fired = true
    onStop()
  }
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (chunk: string) => {
    buffered += chunk
    if (buffered.split('\n').some((line) => line.trim() === STOP_COMMAND)) fire()
  })
  process.stdin.on('end', fire)
}

/**
 * After `ms`, calls `onDeadline` (which should report and exit); if the process is still alive a
 * second later, it exits with code 3 regardless.
 */
export function armDeadline(ms: number, onDeadline: () => void): void {
  setTimeout(() => {
    setTimeout(() => process.exit(3), 1_000).unref()
    onDeadline()
  }, ms).unref()
}

/** Peak resident set size of this process so far (VmHWM), bytes. */
export function peakRssBytes(): number {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))
  return match ? Number(match[1]) * 1024 : process.memoryUsage().rss
}

/** The UDP counters of this process's network namespace. */
export function udpCounters(): UdpCounters {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('Udp:'))
  const names = lines[0]?.split(/\s+/) ?? []
  const values = lines[1]?.split(/\s+/).map(Number) ?? []
  const get = (name: string) => values[names.indexOf(name)] ?? 0
  return { inDatagrams: get('InDatagrams'), rcvbufErrors: get('RcvbufErrors'), inErrors: get('InErrors') }
}

export function udpDelta(before: UdpCounters, after: UdpCounters): UdpCounters {
  return {
    inDatagrams: after.inDatagrams - before.inDatagrams,
    rcvbufErrors: after.rcvbufErrors - before.rcvbufErrors,
    inErrors: after.inErrors - before.inErrors,
  }
}

export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Timestamps of a stream of arrivals without reading the clock on every one: the first arrival and
 * every `stride`-th after it are stamped (a power of two; 256 for small frames, 1 for images); the
 * rate is taken between the first and the last stamp.
 */
export class ArrivalClock {
  count = 0
  #first = 0n
  #last = 0n
  #lastCount = 0
  readonly #mask: number

  constructor(stride = 256) {
    this.#mask = stride - 1
  }

  arrived(): void {
    const count = ++this.count
    if (count === 1) {
      this.#first = process.hrtime.bigint()
      this.#last = this.#first
      this.#lastCount = 1
    } else if ((count & this.#mask) === 0) {
      this.#last = process.hrtime.bigint()
      this.#lastCount = count
    }
  }

  /** Arrivals after the first stamp, up to the last: the numerator of the rate. */
  timed(): number {
    return this.#lastCount - 1
  }

  elapsedNs(): number {
    return Number(this.#last - this.#first)
  }
}

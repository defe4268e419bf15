/** What every scenario gets from the coordinator. */
import type { Host } from '@shoal/netns'
import type { BenchOptions } from './options.js'
import { FIRST_PORT } from './samples.js'
import { startWorker, type Worker, type WorkerName } from './worker.js'

export type Role = 'sender' | 'receiver'

/** Senders (and pingers) run on this CPU, receivers (and pongers) on the other: one core each. */
const SENDER_CPU = 0
const RECEIVER_CPU = 1

export class BenchContext {
  readonly options: BenchOptions
  /** The bench namespace; undefined when only the socket-free codec bench runs. */
  readonly host: Host | undefined
  /** Where CPU profiles go when a measurement is profiled. */
  readonly profileDir: string
  /** Workers started under the profiler, by profile name: their `ready` time bounds the profile. */
  readonly profiled = new Map<string, Worker>()
  #port = FIRST_PORT

  constructor(options: BenchOptions, host: Host | undefined, profileDir: string) {
    this.options = options
    this.host = host
    this.profileDir = profileDir
  }

  /** A port no earlier pair used, so a straggler never receives the next measurement's traffic. */
  nextPort(): number {
    this.#port += 2
    return this.#port
  }

  /** Progress, on stderr, so stdout holds only the results. */
  log(line: string): void {
    process.stderr.write(`${line}\n`)
  }

  /** The CPU a process of this role is pinned to (senders 0, receivers 1), or undefined with `--no-pin`. */
  cpuOf(role: Role): number | undefined {
    if (!this.options.pin) return undefined
    return role === 'sender' ? SENDER_CPU : RECEIVER_CPU
  }

  /**
   * Starts a worker in the namespace: senders (and pings) on CPU 0, receivers (and pongs) on CPU 1
   * unless pinning is off; with `profile`, under `node --cpu-prof`.
   */
  start(name: WorkerName, role: Role, config: object, killAfterMs: number, profile?: string): Worker {
    if (this.host === undefined) throw new Error(`${name} needs the bench namespace`)
    const options: Parameters<typeof startWorker>[3] = { killAfterMs }
    const cpu = this.cpuOf(role)
    if (cpu !== undefined) options.cpu = cpu
    if (profile !== undefined) options.profile = { dir: this.profileDir, name: profile }
    const worker = startWorker(this.host, name, config, options)
    if (profile !== undefined) this.profiled.set(profile, worker)
    return worker
  }
}

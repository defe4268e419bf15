/**
 * The coordinator's side of a worker process: start it (inside the bench namespace, or as a plain
 * child for the socket-free codec bench), wait for its `@bench` events with bounded waits, tell it
 * to stop, and collect its exit.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type Host, type WatchedProcess, watchProcess } from '@shoal/netns'
import { EVENT_PREFIX, STOP_COMMAND } from './protocol.js'

export type WorkerName =
  | 'small-sender'
  | 'small-receiver'
  | 'image-sender'
  | 'image-receiver'
  | 'ping'
  | 'pong'
  | 'codec'

export interface StartOptions {
  /** SIGKILL after this long, whatever the worker's own deadline did. */
  killAfterMs: number
  /** Write a V8 CPU profile named `<name>.cpuprofile` into `dir` when the worker exits. */
  profile?: { dir: string; name: string }
  /** Run on this CPU only (`taskset -c`), threads and all. */
  cpu?: number
}

export class Worker {
  readonly name: WorkerName
  readonly #process: WatchedProcess

  constructor(name: WorkerName, child: ChildProcessWithoutNullStreams) {
    this.name = name
    this.#process = watchProcess(child)
  }

  /** Resolves with the first `event` the worker prints; rejects (with its output) on exit or timeout. */
  async waitFor<T>(event: string, timeoutMs: number): Promise<T> {
    const line = await this.#process
      .waitForLine(`${EVENT_PREFIX}{"event":"${event}"`, timeoutMs)
      .catch((error) => {
        throw new Error(`${this.name}: no ${event} event: ${(error as Error).message}`)
      })
    return JSON.parse(line.slice(line.indexOf(EVENT_PREFIX) + EVENT_PREFIX.length)) as T
  }

  /** Every event of this kind printed so far. */
  events<T>(event: string): T[] {
    const start = `${EVENT_PREFIX}{"event":"${event}"`
    return this.#process
      .lines()
      .filter((line) => line.startsWith(start))
      .map((line) => JSON.parse(line.slice(EVENT_PREFIX.length)) as T)
  }

  write(line: string): void {
    if (this.#process.child.stdin.writable) this.#process.child.stdin.write(`${line}\n`)
  }

  stop(): void {
    this.write(STOP_COMMAND)
  }

  /** Waits for the exit; SIGKILLs it after `timeoutMs`. Resolves with the exit code. */
  async exit(timeoutMs: number): Promise<number | null> {
    try {
      return (await this.#process.waitForExit(timeoutMs)).code
    } catch {
      return null
    }
  }

  kill(): void {
    if (this.#process.child.exitCode === null) this.#process.child.kill('SIGKILL')
  }
}

function scriptOf(name: WorkerName): string {
  return fileURLToPath(new URL(`./workers/${name}.js`, import.meta.url))
}

function nodeArgs(options: StartOptions): string[] {
  return options.profile === undefined
    ? []
    : [
        '--cpu-prof',
        '--cpu-prof-dir',
        options.profile.dir,
        '--cpu-prof-name',
        `${options.profile.name}.cpuprofile`,
      ]
}

/** Starts a worker inside the bench namespace. */
export function startWorker(host: Host, name: WorkerName, config: object, options: StartOptions): Worker {
  const argv = [...nodeArgs(options), scriptOf(name), JSON.stringify(config)]
  const child =
    options.cpu === undefined
      ? host.spawn(process.execPath, argv, { timeoutMs: options.killAfterMs })
      : host.spawn('taskset', ['-c', String(options.cpu), process.execPath, ...argv], {
          timeoutMs: options.killAfterMs,
        })
  return new Worker(name, child)
}

/** Starts a worker that opens no socket as a plain child process. */
export function startLocalWorker(name: WorkerName, config: object, options: StartOptions): Worker {
  const child = spawn(process.execPath, [...nodeArgs(options), scriptOf(name), JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: options.killAfterMs,
    killSignal: 'SIGKILL',
  })
  return new Worker(name, child)
}

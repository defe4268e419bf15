import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Host } from '@shoal/netns'

const AGENT = fileURLToPath(new URL('./fixtures/agent.mjs', import.meta.url))
/** Bound on any one command: a hung agent fails the test instead of hanging it. */
const COMMAND_TIMEOUT_MS = 30_000

/** Drives test/fixtures/agent.mjs running as a process on a namespaced host. */
export class Agent {
  readonly #child: ChildProcessWithoutNullStreams
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  #next = 1
  #stderr = ''
  readonly ready: Promise<void>

  constructor(readonly host: Host) {
    this.#child = host.node(AGENT, [])
    let buffered = ''
    let markReady: () => void = () => {}
    this.ready = new Promise((resolve) => {
      markReady = resolve
    })
    this.#child.stderr.on('data', (d) => {
      this.#stderr += d
    })
    this.#child.stdout.on('data', (d) => {
      buffered += d
      let nl = buffered.indexOf('\n')
      while (nl >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        nl = buffered.indexOf('\n')
        const msg = JSON.parse(line) as {
          ready?: boolean
          id?: number
          ok?: boolean
          result?: unknown
          error?: string
          code?: string
        }
        if (msg.ready) markReady()
        const waiter = msg.id === undefined ? undefined : this.#pending.get(msg.id)
        if (waiter === undefined) continue
        this.#pending.delete(msg.id!)
        if (msg.ok) waiter.resolve(msg.result)
        else waiter.reject(Object.assign(new Error(`${host.name}: ${msg.error}`), { code: msg.code }))
      }
    })
    this.#child.on('exit', (code) => {
      for (const w of this.#pending.values())
        w.reject(new Error(`agent on ${host.name} exited ${code}: ${this.#stderr}`))
      this.#pending.clear()
    })
  }

  call<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`agent on ${this.host.name}: ${op} timed out; stderr: ${this.#stderr}`))
      }, COMMAND_TIMEOUT_MS)
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer)
          resolve(v as T)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      })
      this.#child.stdin.write(`${JSON.stringify({ id, op, ...args })}\n`)
    })
  }

  /** SIGKILLs the agent: its sockets vanish with no goodbye (a crashed host's receiver). */
  async kill(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return
    const exited = new Promise((resolve) => this.#child.once('exit', resolve))
    this.#child.kill('SIGKILL')
    await exited
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return
    await this.call('exit').catch(() => {})
    if (this.#child.exitCode === null) this.#child.kill('SIGKILL')
  }
}

export async function startAgent(host: Host): Promise<Agent> {
  const agent = new Agent(host)
  await agent.ready
  return agent
}

/** What the agent's `summary` says of one topic a subscriber delivered. */
export interface TopicSummary {
  delivered: number
  distinct: number
  duplicates: number[]
  duplicateCount: number
  missing: number[]
  missingCount: number
  outOfOrder: number
  highest: number
}

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { NetnsError } from './errors.js'
import { type RunOptions, type RunResult, runCommand } from './exec.js'
import type { IfacePlan } from './topology.js'

export type HostIface = Readonly<IfacePlan>

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** SIGKILL the process after this long. Default: no limit (destroy() kills it in any case). */
  timeoutMs?: number
}

export interface NodeOptions extends SpawnOptions {
  /** Arguments for node itself, before the script (e.g. `['--enable-source-maps']`). */
  nodeArgs?: string[]
}

/** One machine of the test network: a network namespace with one veth per segment it is on. */
export interface Host {
  readonly name: string
  /** The namespace name, `shoal-<pid>-<rand>-<name>`; use with `ip netns exec` / `ip -n`. */
  readonly ns: string
  /** In segment order of the topology; the first one carries the 224.0.0.0/4 route. */
  readonly ifaces: readonly HostIface[]
  /** IPv4 address on `segment` (default: the first interface). */
  ipv4(segment?: string): string
  /** IPv6 address on `segment` (default: the first interface); throws unless the topology has ipv6. */
  ipv6(segment?: string): string
  /** Interface name on `segment` (default: the first interface), e.g. `v-lan`. */
  ifname(segment?: string): string
  /** `ip netns exec <ns> command ...args` with piped stdio. */
  spawn(command: string, args: readonly string[], opts?: SpawnOptions): ChildProcessWithoutNullStreams
  /** Runs a command inside the namespace to completion (default limit 10 s, then SIGKILL). */
  run(command: string, args: readonly string[], opts?: RunOptions): Promise<RunResult>
  /** Runs `process.execPath [...nodeArgs] script ...args` inside the namespace. */
  node(script: string, args: readonly string[], opts?: NodeOptions): ChildProcessWithoutNullStreams
}

/** What a Host needs from the network that owns it. */
export interface HostOwner {
  readonly destroyed: boolean
  adopt(child: ChildProcessWithoutNullStreams): void
}

export class NamespaceHost implements Host {
  readonly name: string
  readonly ns: string
  readonly ifaces: readonly HostIface[]
  readonly #owner: HostOwner

  constructor(name: string, ns: string, ifaces: readonly IfacePlan[], owner: HostOwner) {
    this.name = name
    this.ns = ns
    this.ifaces = ifaces.map((iface) => Object.freeze({ ...iface }))
    this.#owner = owner
  }

  #iface(segment: string | undefined): HostIface {
    const iface = segment === undefined ? this.ifaces[0] : this.ifaces.find((i) => i.segment === segment)
    if (iface) return iface
    const on = this.ifaces.map((i) => i.segment).join(', ') || 'no segment'
    throw new NetnsError(
      segment === undefined
        ? `host ${this.name} has no interfaces (it is on no segment)`
        : `host ${this.name} is not on segment ${JSON.stringify(segment)} (it is on ${on})`,
      { code: 'NETNS_UNKNOWN_SEGMENT' },
    )
  }

  #alive(): void {
    if (this.#owner.destroyed) {
      throw new NetnsError(`host ${this.name}: its network has been destroyed`, { code: 'NETNS_DESTROYED' })
    }
  }

  ipv4(segment?: string): string {
    return this.#iface(segment).ipv4
  }

  ipv6(segment?: string): string {
    const iface = this.#iface(segment)
    if (iface.ipv6 === undefined) {
      throw new NetnsError(`host ${this.name} has no IPv6 address: create the network with ipv6: true`, {
        code: 'NETNS_UNKNOWN_SEGMENT',
      })
    }
    return iface.ipv6
  }

  ifname(segment?: string): string {
    return this.#iface(segment).name
  }

  spawn(command: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcessWithoutNullStreams {
    this.#alive()
    const child = spawn('ip', ['netns', 'exec', this.ns, command, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
      ...(opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs, killSignal: 'SIGKILL' as const }),
    })
    this.#owner.adopt(child)
    return child
  }

  run(command: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    this.#alive()
    return runCommand('ip', ['netns', 'exec', this.ns, command, ...args], opts)
  }

  node(script: string, args: readonly string[], opts: NodeOptions = {}): ChildProcessWithoutNullStreams {
    const { nodeArgs = [], ...spawnOpts } = opts
    return this.spawn(process.execPath, [...nodeArgs, script, ...args], spawnOpts)
  }
}

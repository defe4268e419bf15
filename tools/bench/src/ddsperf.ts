/**
 * Cyclone DDS's `ddsperf` as the bench's peer: finding it (installing Debian's cyclonedds-tools
 * when it is missing), the configuration that keeps it on `lo`, and its processes, which run only
 * inside the bench namespace, pinned to CPUs like the bench's own workers.
 */
import { spawnSync } from 'node:child_process'
import { accessSync, constants, readFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { type WatchedProcess, watchProcess } from '@shoal/netns'
import type { BenchContext, Role } from './context.js'
import { TICKS_PER_SECOND } from './interference.js'

export const DDSPERF = 'ddsperf'
/** The Debian package that ships ddsperf (bookworm: 0.10.2). */
export const DDSPERF_PACKAGE = 'cyclonedds-tools'
/** apt-get update reads every package list; generous, but bounded. */
const APT_UPDATE_MS = 5 * 60_000
const APT_INSTALL_MS = 10 * 60_000
const DPKG_QUERY_MS = 10_000

/**
 * Cyclone on `lo` and nothing else. The namespace holds only `lo` anyway; this also tells Cyclone
 * so, and that `lo` may carry multicast (discovery is SPDP multicast to 239.255.0.1, which the
 * namespace routes to `lo`). Everything else is Cyclone's default (reliable data, 14,720-byte
 * messages, its own socket buffers): the peer runs as shipped. 0.10's syntax
 * (docs/manual/options.md: //CycloneDDS/Domain/General/Interfaces/NetworkInterface).
 */
export const CYCLONE_CONFIG =
  '<CycloneDDS><Domain id="any"><General>' +
  '<Interfaces><NetworkInterface name="lo" multicast="true"/></Interfaces>' +
  '<AllowMulticast>true</AllowMulticast>' +
  '</General></Domain></CycloneDDS>'

/** ddsperf on PATH, or undefined. */
export function findDdsperf(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    const file = join(dir, DDSPERF)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {
      // not in this directory
    }
  }
  return undefined
}

function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0
}

/**
 * The path of ddsperf. When it is missing and the bench runs as root on a Debian-like system, it
 * installs cyclonedds-tools (`apt-get update`, then `apt-get install -y`, outside the namespace:
 * that is the package registry, not the bench's traffic), its output on stderr; otherwise, or if
 * that fails, it throws saying what to do.
 */
export function ensureDdsperf(log: (line: string) => void): string {
  const found = findDdsperf()
  if (found !== undefined) return found
  const hint =
    `install it with \`apt-get update && apt-get install -y ${DDSPERF_PACKAGE}\`, or leave the Cyclone DDS ` +
    'peer out (--only small,image,latency,codec)'
  if (process.getuid?.() !== 0)
    throw new Error(`${DDSPERF} (Debian package ${DDSPERF_PACKAGE}) is not installed; ${hint}`)
  if (!hasCommand('apt-get'))
    throw new Error(
      `${DDSPERF} (Debian package ${DDSPERF_PACKAGE}) is not installed and there is no apt-get; ${hint}`,
    )
  log(`shoal-bench: ${DDSPERF} is missing: apt-get update && apt-get install -y ${DDSPERF_PACKAGE}`)
  const steps: Array<[string[], number]> = [
    [['update'], APT_UPDATE_MS],
    [['install', '-y', '--no-install-recommends', DDSPERF_PACKAGE], APT_INSTALL_MS],
  ]
  for (const [args, timeout] of steps) {
    // stdout is for results: apt's progress goes to stderr.
    const run = spawnSync('apt-get', args, {
      stdio: ['ignore', 2, 2],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout,
      killSignal: 'SIGKILL',
    })
    if (run.status !== 0)
      throw new Error(
        `apt-get ${args.join(' ')} failed (${run.error?.message ?? `exit ${run.status ?? run.signal}`}); ` +
          `${DDSPERF} is needed for the Cyclone DDS peer: ${hint}`,
      )
  }
  const installed = findDdsperf()
  if (installed === undefined)
    throw new Error(
      `${DDSPERF_PACKAGE} was installed but ${DDSPERF} is not on PATH (${process.env.PATH}); ${hint}`,
    )
  return installed
}

/** The installed cyclonedds-tools version (e.g. "0.10.2-2"), for the report. */
export function ddsperfVersion(): string | undefined {
  // `dpkg-query -W NAME` prints "NAME<tab>VERSION".
  const query = spawnSync('dpkg-query', ['-W', DDSPERF_PACKAGE], { encoding: 'utf8', timeout: DPKG_QUERY_MS })
  const version = query.status === 0 ? query.stdout.trim().split('\t')[1]?.trim() : undefined
  return version === '' ? undefined : version
}

/** ddsperf has found its own participant: its entities exist and it is listening. */
const SELF_DISCOVERED = /participant \S+: new \(self\)/

/** One ddsperf process inside the bench namespace. */
export class DdsperfProcess {
  readonly label: string
  readonly #process: WatchedProcess

  constructor(label: string, process: WatchedProcess) {
    this.label = label
    this.#process = process
  }

  stdout(): string {
    return this.#process.stdout()
  }

  /** Resolves once ddsperf has discovered itself; rejects (with its output) on exit or timeout. */
  async ready(timeoutMs: number): Promise<void> {
    await this.until(
      'its own participant',
      (out) => (SELF_DISCOVERED.test(out) ? true : undefined),
      timeoutMs,
    )
  }

  /** Resolves with what `check(stdout)` returns once it is not undefined; rejects on exit or timeout. */
  until<T>(what: string, check: (stdout: string) => T | undefined, timeoutMs: number): Promise<T> {
    return this.#process
      .waitUntil(what, () => check(this.#process.stdout()), timeoutMs)
      .catch((error: Error) => {
        throw new Error(`${this.label}: ${error.message}`)
      })
  }

  /** User + system CPU time so far, µs (from /proc: ddsperf reports none of its own). */
  cpuUs(): number | undefined {
    const pid = this.#process.child.pid
    if (pid === undefined) return undefined
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      // After the command name in parentheses: state is field 3, utime and stime fields 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1e6
    } catch {
      return undefined
    }
  }

  /** Peak RSS so far (VmHWM), bytes. */
  peakRssBytes(): number | undefined {
    const pid = this.#process.child.pid
    try {
      const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
      return match ? Number(match[1]) * 1024 : undefined
    } catch {
      return undefined
    }
  }

  /**
   * SIGTERM (ddsperf stops its loop and deletes its entities), then waits for the exit; SIGKILLs
   * after `timeoutMs`. Resolves with the exit code (null if it had to be killed).
   */
  async stop(timeoutMs: number): Promise<number | null> {
    if (this.#process.child.exitCode === null) this.#process.child.kill('SIGTERM')
    try {
      return (await this.#process.waitForExit(timeoutMs)).code
    } catch {
      return null
    }
  }

  kill(): void {
    if (this.#process.child.exitCode === null && this.#process.child.signalCode === null)
      this.#process.child.kill('SIGKILL')
  }
}

/**
 * Starts `ddsperf ...args` inside the bench namespace with {@link CYCLONE_CONFIG}, pinned to the
 * CPU of `role` (publisher and pinger: the senders' CPU; subscriber and ponger: the receivers'),
 * SIGKILLed after `killAfterMs` whatever happens. `ip netns exec` and `taskset` exec into ddsperf,
 * so the child's pid is ddsperf's own.
 */
export function startDdsperf(
  ctx: BenchContext,
  role: Role,
  args: readonly string[],
  killAfterMs: number,
): DdsperfProcess {
  if (ctx.host === undefined)
    throw new Error('ddsperf runs only inside the bench namespace, and there is none')
  const cpu = ctx.cpuOf(role)
  const command = cpu === undefined ? [DDSPERF, ...args] : ['taskset', '-c', String(cpu), DDSPERF, ...args]
  const child = ctx.host.spawn(command[0]!, command.slice(1), {
    env: { ...process.env, CYCLONEDDS_URI: CYCLONE_CONFIG },
    timeoutMs: killAfterMs,
  })
  const label = `${DDSPERF} ${args.join(' ')}`
  return new DdsperfProcess(label, watchProcess(child, { label }))
}

import { readFileSync } from 'node:fs'
import { mustRun, runCommand, runCommandSync } from './exec.js'
import { parseNsName } from './names.js'

const CLEANUP_TIMEOUT_MS = 5_000

/** Anything that must be torn down synchronously if the process dies with it still alive. */
export interface SyncDestroyable {
  destroySync(): void
}

const live = new Set<SyncDestroyable>()
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
let hooked = false

function destroyAllSync(): void {
  for (const item of [...live]) {
    try {
      item.destroySync()
    } catch {
      // Best effort while exiting: carry on with the rest.
    }
  }
  live.clear()
}

function onExit(): void {
  destroyAllSync()
}

function onSignal(signal: NodeJS.Signals): void {
  destroyAllSync()
  unhook()
  // Our listener replaced the default action; restore it if nobody else handles the signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
}

function hook(): void {
  if (hooked) return
  hooked = true
  process.on('exit', onExit)
  for (const signal of SIGNALS) process.on(signal, onSignal)
}

function unhook(): void {
  if (!hooked) return
  hooked = false
  process.off('exit', onExit)
  for (const signal of SIGNALS) process.off(signal, onSignal)
}

/** Destroys `item` on process exit, SIGINT, SIGTERM or SIGHUP unless it is untracked first. */
export function trackForExit(item: SyncDestroyable): void {
  live.add(item)
  hook()
}

export function untrackForExit(item: SyncDestroyable): void {
  live.delete(item)
  if (live.size === 0) unhook()
}

/** All namespaces whose names this harness could have made. */
export async function listShoalNamespaces(): Promise<string[]> {
  const stdout = await mustRun('ip', ['netns', 'list'], { timeoutMs: CLEANUP_TIMEOUT_MS })
  return parseNetnsList(stdout).filter((name) => parseNsName(name) !== undefined)
}

/** `ip netns list` prints `name` or `name (id: N)` per line. */
export function parseNetnsList(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name.length > 0)
}

function parsePids(stdout: string): number[] {
  return stdout
    .split(/\s+/)
    .filter((word) => /^\d+$/.test(word))
    .map(Number)
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // Already gone.
  }
}

/**
 * Deletes namespaces. Processes still inside them are SIGKILLed first: `ip netns del` only removes
 * the name, and a namespace (with its veths) lives on while any process is in it.
 */
export async function removeNamespaces(names: readonly string[]): Promise<void> {
  await Promise.all(
    names.map(async (ns) => {
      const pids = await runCommand('ip', ['netns', 'pids', ns], { timeoutMs: CLEANUP_TIMEOUT_MS })
      if (pids.code === 0) for (const pid of parsePids(pids.stdout)) killQuietly(pid)
      await runCommand('ip', ['netns', 'del', ns], { timeoutMs: CLEANUP_TIMEOUT_MS })
    }),
  )
}

export function removeNamespacesSync(names: readonly string[]): void {
  for (const ns of names) {
    const pids = runCommandSync('ip', ['netns', 'pids', ns], CLEANUP_TIMEOUT_MS)
    if (pids.code === 0) for (const pid of parsePids(pids.stdout)) killQuietly(pid)
    runCommandSync('ip', ['netns', 'del', ns], CLEANUP_TIMEOUT_MS)
  }
}

/**
 * Is `pid` a running process? A zombie is not: it has exited and only waits to be reaped, which can
 * take a while when it was reparented to a pid 1 that reaps lazily (as in some containers).
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may contain spaces and parentheses, the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state !== 'Z' && state !== 'X'
  } catch {
    return false
  }
}

/**
 * Removes namespaces left behind by processes that died without cleaning up (SIGKILL, OOM, a hung
 * worker killed by vitest). Only runs whose owner pid is gone are touched: live test runs and
 * networks made with the CLI (owner `cli`) are left alone. Returns how many namespaces it deleted.
 */
export async function cleanupStale(): Promise<number> {
  const stale = (await listShoalNamespaces()).filter((name) => {
    const owner = parseNsName(name)?.owner
    return typeof owner === 'number' && owner !== process.pid && !pidAlive(owner)
  })
  await removeNamespaces(stale)
  return stale.length
}

/** Removes every namespace of one run (`shoal-<owner>-<rand>`). Returns how many it deleted. */
export async function removeRun(runId: string): Promise<number> {
  const names = (await listShoalNamespaces()).filter((name) => parseNsName(name)?.runId === runId)
  await removeNamespaces(names)
  return names.length
}

/** Run ids currently present, with their owners. */
export async function listRuns(): Promise<Map<string, string[]>> {
  const runs = new Map<string, string[]>()
  for (const name of await listShoalNamespaces()) {
    const runId = parseNsName(name)!.runId
    runs.set(runId, [...(runs.get(runId) ?? []), name])
  }
  return runs
}

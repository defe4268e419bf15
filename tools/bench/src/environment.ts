/** What the results depend on besides the code: machine, kernel, Node, and which commit ran. */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, loadavg, release, totalmem } from 'node:os'
import type { Environment } from './results.js'

function quiet<T>(f: () => T): T | undefined {
  try {
    return f()
  } catch {
    return undefined
  }
}

export function describeEnvironment(repoRoot: string, namespace: string | undefined): Environment {
  const cpuList = cpus()
  const git = (...args: string[]) =>
    quiet(() =>
      execFileSync('git', args, {
        cwd: repoRoot,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim(),
    )
  const status = git('status', '--porcelain', '--', 'packages/schema', 'packages/transport')
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: release(),
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cpus: cpuList.length,
    memoryBytes: totalmem(),
    rmemMax: quiet(() => Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim())),
    namespace,
    commit: git('rev-parse', '--short', 'HEAD'),
    dirty: status === undefined ? undefined : status !== '',
    loadAverage: { start: loadavg(), end: [] },
    othersCores: { start: undefined, end: undefined },
  }
}

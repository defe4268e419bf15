import { NetnsError } from './errors.js'
import { runCommandSync } from './exec.js'
import { hostNsName, newRunId } from './names.js'

export interface NetnsCapability {
  ok: boolean
  /** Why not, naming everything that is missing; absent when ok. */
  reason?: string
}

const PROBE_TIMEOUT_MS = 5_000

let cached: NetnsCapability | undefined

function installed(command: string, versionArg: string): boolean {
  const result = runCommandSync(command, [versionArg], PROBE_TIMEOUT_MS)
  return result.error === undefined && result.code === 0
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? ''
}

/** Tries everything a network needs in a throwaway namespace, which is always deleted again. */
function probeNamespace(): string | undefined {
  const ns = hostNsName(newRunId(process.pid), 'probe')
  const steps: string[][] = [
    ['ip', 'netns', 'add', ns],
    ['ip', '-n', ns, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0'],
    ['ip', '-n', ns, 'link', 'add', 'v-probe', 'type', 'veth', 'peer', 'name', 'p-probe'],
    ['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.accept_dad=0'],
    ['ip', 'netns', 'exec', ns, 'iptables', '-w', '5', '-L', 'INPUT', '-n'],
  ]
  try {
    for (const [command, ...args] of steps) {
      const result = runCommandSync(command!, args, PROBE_TIMEOUT_MS)
      if (result.error !== undefined || result.code !== 0) {
        const detail = result.error?.message ?? (firstLine(result.stderr) || `exit ${result.code}`)
        return `cannot set up a test namespace: \`${command} ${args.join(' ')}\` failed: ${detail}`
      }
    }
    return undefined
  } finally {
    runCommandSync('ip', ['netns', 'del', ns], PROBE_TIMEOUT_MS)
  }
}

function probe(): NetnsCapability {
  if (process.platform !== 'linux') {
    return { ok: false, reason: `network namespaces need Linux, this is ${process.platform}` }
  }
  const missing: string[] = []
  const uid = process.getuid?.()
  if (uid !== 0) missing.push(`root (running as uid ${uid})`)
  if (!installed('ip', '-V')) missing.push('the `ip` command (iproute2)')
  if (!installed('iptables', '-V')) missing.push('the `iptables` command (for loss injection)')
  if (!installed('sysctl', '--version')) missing.push('the `sysctl` command (procps)')
  if (missing.length > 0) return { ok: false, reason: `missing ${missing.join(', ')}` }
  const failure = probeNamespace()
  return failure === undefined ? { ok: true } : { ok: false, reason: failure }
}

/**
 * Can this process build test networks? Checks root, `ip`, `iptables`, `sysctl`, and then actually
 * creates (and deletes) a namespace with a bridge, a veth pair and an iptables table. The first answer
 * is cached for the life of the process.
 */
export function netnsCapability(): NetnsCapability {
  cached ??= probe()
  return cached
}

export interface RequireNetnsResult {
  skip: boolean
  reason?: string
}

/**
 * What a multi-host suite should do given a capability and the environment: run, skip with a note on
 * stderr, or (under CI, where a skipped multi-host suite would hide a broken runner) throw.
 */
export function decideNetns(
  capability: NetnsCapability,
  env: NodeJS.ProcessEnv,
  warn: (line: string) => void,
): RequireNetnsResult {
  if (capability.ok) return { skip: false }
  const reason = capability.reason ?? 'network namespaces are unavailable'
  if (env.CI === 'true') {
    throw new NetnsError(`multi-host tests cannot run and CI=true forbids skipping them: ${reason}`, {
      code: 'NETNS_UNAVAILABLE',
    })
  }
  warn(`[@shoal/netns] skipping multi-host tests: ${reason} (set CI=true to make this an error)\n`)
  return { skip: true, reason }
}

let warned = false

/**
 * For vitest: `describe.skipIf(requireNetns().skip)(...)`. Throws when the capability is missing and
 * `process.env.CI === 'true'`; otherwise prints the reason to stderr once and returns `{ skip: true }`.
 */
export function requireNetns(): RequireNetnsResult {
  return decideNetns(netnsCapability(), process.env, (line) => {
    if (!warned) process.stderr.write(line)
    warned = true
  })
}

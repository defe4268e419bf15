import { mustRun, runCommand } from './exec.js'

/** Our own chain, jumped to first from INPUT, so clearing loss never touches other rules. */
export const LOSS_CHAIN = 'SHOAL_LOSS'
const TIMEOUT_MS = 10_000
/** iptables-legacy takes a host-wide lock (/run/xtables.lock) shared by all namespaces: wait for it. */
const WAIT = ['-w', '5']

export type LossTool = 'iptables' | 'ip6tables'

function inNs(ns: string, tool: LossTool, args: readonly string[]): string[] {
  return ['netns', 'exec', ns, tool, ...WAIT, ...args]
}

export async function ensureLossChain(ns: string, tool: LossTool): Promise<void> {
  const created = await runCommand('ip', inNs(ns, tool, ['-N', LOSS_CHAIN]), { timeoutMs: TIMEOUT_MS })
  if (created.code !== 0 && !/exists/i.test(created.stderr)) {
    await mustRun('ip', inNs(ns, tool, ['-N', LOSS_CHAIN]), { timeoutMs: TIMEOUT_MS })
  }
  const jump = ['INPUT', '-j', LOSS_CHAIN]
  const present = await runCommand('ip', inNs(ns, tool, ['-C', ...jump]), { timeoutMs: TIMEOUT_MS })
  if (present.code !== 0) await mustRun('ip', inNs(ns, tool, ['-I', ...jump]), { timeoutMs: TIMEOUT_MS })
}

/** Drops received UDP on `ifname` with the given probability (0..1). */
export async function addLossRule(
  ns: string,
  tool: LossTool,
  ifname: string,
  probability: number,
): Promise<void> {
  const rule = [
    '-i',
    ifname,
    '-p',
    'udp',
    '-m',
    'statistic',
    '--mode',
    'random',
    '--probability',
    String(probability),
  ]
  await mustRun('ip', inNs(ns, tool, ['-A', LOSS_CHAIN, ...rule, '-j', 'DROP']), { timeoutMs: TIMEOUT_MS })
}

export async function flushLossRules(ns: string, tool: LossTool): Promise<void> {
  await mustRun('ip', inNs(ns, tool, ['-F', LOSS_CHAIN]), { timeoutMs: TIMEOUT_MS })
}

/** Packets dropped by the loss chain so far. */
export async function lossDrops(ns: string, tool: LossTool): Promise<number> {
  const stdout = await mustRun('ip', inNs(ns, tool, ['-L', LOSS_CHAIN, '-n', '-v', '-x']), {
    timeoutMs: TIMEOUT_MS,
  })
  return parseDropCounters(stdout)
}

/** Sums the packet column of `iptables -L <chain> -n -v -x` output. */
export function parseDropCounters(stdout: string): number {
  let total = 0
  for (const line of stdout.split('\n')) {
    const [pkts, , target] = line.trim().split(/\s+/)
    if (pkts !== undefined && /^\d+$/.test(pkts) && target === 'DROP') total += Number(pkts)
  }
  return total
}

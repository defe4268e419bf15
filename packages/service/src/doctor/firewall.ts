/**
 * Rules that drop the target's UDP port: `iptables -S` (`ip6tables -S`), then `nft -a list
 * ruleset` for rules iptables does not show. Rules are read in order, as the kernel does, in the
 * built-in input and output chains (or nft chains on those hooks): the first rule that matches the
 * port and interface decides. A condition this parser does not know (a source address, a state, a
 * random match) makes an ACCEPT uncertain (read on) and a DROP a "may drop" (reported).
 */
import type { DoctorCheck, DoctorEnv, DoctorTarget } from './types.js'

/** One rule as far as the check needs it. */
export interface FirewallRule {
  readonly chain: 'input' | 'output'
  readonly verdict: 'accept' | 'drop' | 'other'
  /** False when the rule cannot apply to UDP on this port and interface. */
  readonly matches: boolean
  /** Conditions the parser did not understand. */
  readonly uncertain: boolean
  readonly text: string
  /** The command that deletes it. */
  readonly remove: string
}

export interface ChainPolicy {
  readonly chain: 'input' | 'output'
  readonly drops: boolean
  /** How to accept the port anyway. */
  readonly accept: string
}

export interface Ruleset {
  readonly rules: readonly FirewallRule[]
  readonly policies: readonly ChainPolicy[]
}

interface Want {
  readonly port: number
  readonly interface: string | undefined
}

const IPT_CHAINS: Readonly<Record<string, 'input' | 'output'>> = { INPUT: 'input', OUTPUT: 'output' }

/** Splits a rule line into words; `"…"` (comments) stays one word. */
function words(line: string): string[] {
  return [...line.matchAll(/"[^"]*"|\S+/g)].map((m) => m[0])
}

/** `7400`, `7000:7999` (iptables) or `7000-7999` (nft), and lists of them. */
export function portIn(spec: string, port: number): boolean {
  return spec
    .replace(/[{}]/g, '')
    .split(/\s*,\s*/)
    .filter((part) => part !== '')
    .some((part) => {
      const [low, high = low] = part.split(/[:-]/).map((n) => Number.parseInt(n, 10))
      return low !== undefined && high !== undefined && port >= low && port <= high
    })
}

/** An interface condition: exact, or a prefix ending in `+` (iptables) or `*` (nft). */
function ifaceIs(spec: string, name: string | undefined): boolean {
  const value = spec.replace(/"/g, '')
  if (name === undefined) return true
  return /[+*]$/.test(value) ? name.startsWith(value.slice(0, -1)) : value === name
}

export function parseIptables(text: string, want: Want, command = 'iptables'): Ruleset {
  const rules: FirewallRule[] = []
  const policies: ChainPolicy[] = []
  for (const line of text.split('\n')) {
    const w = words(line.trim())
    if (w[0] === '-P' && w[1] !== undefined && IPT_CHAINS[w[1]] !== undefined) {
      policies.push({
        chain: IPT_CHAINS[w[1]]!,
        drops: w[2] === 'DROP',
        accept: `${command} -I ${w[1]} -p udp --dport ${want.port} -j ACCEPT`,
      })
      continue
    }
    if (w[0] !== '-A' || w[1] === undefined || IPT_CHAINS[w[1]] === undefined) continue
    const chain = IPT_CHAINS[w[1]]!
    let matches = true
    let uncertain = false
    let verdict: FirewallRule['verdict'] = 'other'
    for (let i = 2; i < w.length; i++) {
      const word = w[i]!
      const next = w[i + 1] ?? ''
      if (word === '!') {
        // A negated condition: rare in practice; the rule may or may not apply.
        uncertain = true
        i++
        continue
      }
      switch (word) {
        case '-p':
          if (!['udp', '17', 'all'].includes(next)) matches = false
          i++
          break
        case '-m':
          if (!['udp', 'multiport', 'comment'].includes(next)) uncertain = true
          i++
          break
        case '--comment':
          i++
          break
        case '--dport':
        case '--destination-port':
        case '--dports':
        case '--destination-ports':
          if (!portIn(next, want.port)) matches = false
          i++
          break
        case '-i':
        case '-o':
          if ((word === '-i') === (chain === 'input') && !ifaceIs(next, want.interface)) matches = false
          i++
          break
        case '-j':
          verdict = next === 'ACCEPT' ? 'accept' : next === 'DROP' || next === 'REJECT' ? 'drop' : 'other'
          i = w.length
          break
        default:
          // Another condition (-s, -d, --sport, --state…) with its value.
          uncertain = true
          if (next !== '' && !next.startsWith('-')) i++
      }
    }
    rules.push({
      chain,
      verdict,
      matches,
      uncertain,
      text: line.trim(),
      remove: `${command} ${['-D', ...w.slice(1)].join(' ')}`,
    })
  }
  return { rules, policies }
}

/** nft words that only describe a rule (counters, logging), not what it matches. */
const NFT_NEUTRAL = new Set(['counter', 'packets', 'bytes', 'log', 'prefix', 'level', 'comment'])

export function parseNft(text: string, want: Want): Ruleset {
  const rules: FirewallRule[] = []
  const policies: ChainPolicy[] = []
  let table = ''
  let chainName = ''
  let hook: 'input' | 'output' | undefined
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    const handle = /# handle (\d+)$/.exec(line)?.[1]
    const body = line.replace(/\s*# handle \d+$/, '')
    const tableMatch = /^table (\S+) (\S+) \{/.exec(body)
    if (tableMatch !== null) {
      table = `${tableMatch[1]} ${tableMatch[2]}`
      continue
    }
    const chainMatch = /^chain (\S+) \{/.exec(body)
    if (chainMatch !== null) {
      chainName = chainMatch[1]!
      hook = undefined
      continue
    }
    if (body === '}') continue
    const type = /^type \S+ hook (\S+)\b.*?(?:policy (\S+);)?$/.exec(body)
    if (type !== null) {
      hook = type[1] === 'input' ? 'input' : type[1] === 'output' ? 'output' : undefined
      if (hook !== undefined && type[2] !== undefined)
        policies.push({
          chain: hook,
          drops: type[2] === 'drop',
          accept: `nft insert rule ${table} ${chainName} udp dport ${want.port} accept`,
        })
      continue
    }
    if (hook === undefined || body === '') continue
    const w = words(body)
    const last = w.findLast((word) => ['accept', 'drop', 'reject'].includes(word))
    const verdict: FirewallRule['verdict'] =
      last === 'accept' ? 'accept' : last === undefined ? 'other' : 'drop'
    let matches = true
    let uncertain = false
    for (let i = 0; i < w.length; i++) {
      const word = w[i]!
      if (['accept', 'drop', 'reject'].includes(word)) break
      if (NFT_NEUTRAL.has(word) || /^\d+$/.test(word) || word.startsWith('"')) continue
      const next = w[i + 1] ?? ''
      if ((word === 'udp' || word === 'th') && next === 'dport') {
        let spec = w[i + 2] ?? ''
        i += 2
        if (spec === '{') {
          const end = w.indexOf('}', i)
          spec = w.slice(i + 1, end === -1 ? undefined : end).join(' ')
          i = end === -1 ? w.length : end
        }
        if (!portIn(spec, want.port)) matches = false
      } else if (word === 'tcp' || word === 'icmp' || word === 'icmpv6' || word === 'sctp') {
        matches = false
        i++
      } else if (
        (word === 'meta' && next === 'l4proto') ||
        (word === 'ip' && next === 'protocol') ||
        (word === 'ip6' && next === 'nexthdr')
      ) {
        if (!['udp', '17'].includes(w[i + 2] ?? '')) matches = false
        i += 2
      } else if (word === 'iifname' || word === 'oifname' || word === 'iif' || word === 'oif') {
        if (word.startsWith('i') === (hook === 'input') && !ifaceIs(next, want.interface)) matches = false
        i++
      } else {
        uncertain = true
      }
    }
    rules.push({
      chain: hook,
      verdict,
      matches,
      uncertain,
      text: body,
      remove:
        handle === undefined
          ? `nft -a list chain ${table} ${chainName}`
          : `nft delete rule ${table} ${chainName} handle ${handle}`,
    })
  }
  return { rules, policies }
}

/** What the first deciding rule of each chain does to the port; undefined when it gets through. */
export function dropFinding(ruleset: Ruleset, port: number): { detail: string; fix: string } | undefined {
  for (const chain of ['input', 'output'] as const) {
    let decided = false
    for (const rule of ruleset.rules) {
      if (rule.chain !== chain || !rule.matches) continue
      if (rule.verdict === 'accept' && !rule.uncertain) {
        decided = true
        break
      }
      if (rule.verdict === 'drop')
        return {
          detail: `a rule ${rule.uncertain ? 'may drop' : 'drops'} udp port ${port} (${chain}): ${rule.text}`,
          fix: rule.remove,
        }
    }
    if (decided) continue
    // Several tables can hook the same chain (nft); any one dropping by policy drops the packet.
    const policy = ruleset.policies.find((p) => p.chain === chain && p.drops)
    if (policy !== undefined)
      return {
        detail: `the ${chain} policy is DROP and no rule accepts udp port ${port}`,
        fix: policy.accept,
      }
  }
  return undefined
}

export async function checkFirewall(target: DoctorTarget, env: DoctorEnv): Promise<DoctorCheck> {
  const want = { port: target.port, interface: target.interface?.name }
  const iptables = target.family === 6 ? 'ip6tables' : 'iptables'
  const read: string[] = []
  const unreadable: string[] = []
  const ipt = await env.run(iptables, ['-S'])
  if (ipt.status === 0) {
    read.push(iptables)
    const finding = dropFinding(parseIptables(ipt.stdout, want, iptables), target.port)
    if (finding !== undefined) return { name: 'firewall', ok: false, ...finding }
  } else if (ipt.status !== 'missing') unreadable.push(`${iptables}: ${firstLine(ipt.stderr)}`)
  const nft = await env.run('nft', ['-a', 'list', 'ruleset'])
  if (nft.status === 0) {
    read.push('nft')
    const finding = dropFinding(parseNft(nft.stdout, want), target.port)
    if (finding !== undefined) return { name: 'firewall', ok: false, ...finding }
  } else if (nft.status !== 'missing') unreadable.push(`nft: ${firstLine(nft.stderr)}`)
  if (read.length === 0)
    return {
      name: 'firewall',
      ok: true,
      skipped: true,
      detail:
        unreadable.length === 0
          ? 'neither iptables nor nft is installed'
          : `cannot read the rules (run as root): ${unreadable.join('; ')}`,
    }
  return { name: 'firewall', ok: true, detail: `no rule drops udp port ${target.port} (${read.join(', ')})` }
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? 'failed'
}

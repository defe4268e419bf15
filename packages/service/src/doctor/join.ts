/**
 * Whether the kernel lists the self-test's join of the group on the interface: /proc/net/igmp
 * (IPv4) or /proc/net/igmp6 (IPv6). Read while the self-test's subscriber is joined.
 */
import type { DoctorCheck, DoctorEnv, DoctorTarget } from './types.js'

/** Groups each interface has joined, by interface name, as /proc/net/igmp prints them. */
export function parseIgmp(text: string, endianness: 'LE' | 'BE'): Map<string, Set<string>> {
  const groups = new Map<string, Set<string>>()
  let device: Set<string> | undefined
  for (const line of text.split('\n')) {
    const header = /^\d+\s+(\S+)\s*:/.exec(line)
    if (header !== null) {
      device = new Set()
      groups.set(header[1]!, device)
      continue
    }
    const group = /^\s+([0-9A-Fa-f]{8})\s/.exec(line)?.[1]
    if (group !== undefined && device !== undefined) device.add(wordToIpv4(group, endianness))
  }
  return groups
}

/** /proc/net/igmp prints the group's 32-bit word as the host reads it from memory. */
function wordToIpv4(hex: string, endianness: 'LE' | 'BE'): string {
  const bytes = [0, 2, 4, 6].map((at) => Number.parseInt(hex.slice(at, at + 2), 16))
  return (endianness === 'LE' ? bytes.reverse() : bytes).join('.')
}

/** Groups each interface has joined, by interface name, from /proc/net/igmp6. */
export function parseIgmp6(text: string): Map<string, Set<string>> {
  const groups = new Map<string, Set<string>>()
  for (const line of text.split('\n')) {
    const match = /^\s*\d+\s+(\S+)\s+([0-9a-fA-F]{32})\s/.exec(line)
    if (match === null) continue
    const set = groups.get(match[1]!) ?? new Set<string>()
    set.add(match[2]!.toLowerCase())
    groups.set(match[1]!, set)
  }
  return groups
}

/** `ff15::1` as igmp6 prints it: 32 hex digits, no colons. */
export function expandIpv6(address: string): string {
  const [head = '', tail] = address.toLowerCase().split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const middle = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0')
  return [...left, ...middle, ...right].map((part) => part.padStart(4, '0')).join('')
}

/** Run while the self-test's subscriber holds the join. */
export function checkJoin(target: DoctorTarget, env: DoctorEnv, joined: boolean): DoctorCheck {
  const name = target.interface?.name
  const group = target.address
  if (target.mode !== 'multicast' || group === undefined || name === undefined)
    return { name: 'join', ok: true, skipped: true, detail: 'not multicast: nothing to join' }
  if (!joined)
    return { name: 'join', ok: false, detail: `could not join ${group} on ${name} (see self-test)` }
  const file = target.family === 6 ? '/proc/net/igmp6' : '/proc/net/igmp'
  const text = env.readFile(file)
  if (text === undefined) return { name: 'join', ok: true, skipped: true, detail: `${file} is not readable` }
  const table = target.family === 6 ? parseIgmp6(text) : parseIgmp(text, env.endianness)
  const wanted = target.family === 6 ? expandIpv6(group) : group
  if (table.get(name)?.has(wanted) === true)
    return { name: 'join', ok: true, detail: `the join of ${group} shows on ${name} in ${file}` }
  const elsewhere = [...table].filter(([, set]) => set.has(wanted)).map(([device]) => device)
  return {
    name: 'join',
    ok: false,
    detail: `${file} does not list ${group} on ${name}${elsewhere.length > 0 ? ` (it does on ${elsewhere.join(', ')})` : ''}: the kernel took the join elsewhere, and ${name}'s switch may not forward the group here`,
    fix: `ip maddress show dev ${name}`,
  }
}

/**
 * Choosing the network interface: by name (`eth0`, `lo`) or by one of its addresses, and reading
 * its MTU to size datagrams.
 */
import { readFileSync } from 'node:fs'
import { networkInterfaces } from 'node:os'
import { transportError } from '../errors.js'
import {
  DEFAULT_DATAGRAM_BUDGET_IPV4,
  DEFAULT_DATAGRAM_BUDGET_IPV6,
  IPV4_UDP_OVERHEAD,
  IPV6_UDP_OVERHEAD,
  MAX_DATAGRAM_BYTES,
  MAX_DATAGRAM_BYTES_IPV6,
  MIN_DATAGRAM_BUDGET,
} from '../wire/constants.js'
import { type Family, ipFamily } from './address.js'

/** The default interface: loopback, so a bare run never leaves the host. */
export const DEFAULT_INTERFACE = { 4: '127.0.0.1', 6: '::1' } as const

export interface ResolvedInterface {
  /** Interface name, e.g. `lo`, `eth0`. */
  name: string
  /** Its address of the wanted family (IPv6 link-local addresses carry no zone here). */
  address: string
  /**
   * What node:dgram takes as `multicastInterface`: the IPv4 address, or `::%name` for IPv6
   * (IPv6 picks interfaces by scope, not by address).
   */
  multicastInterface: string
  /** MTU from /sys/class/net/NAME/mtu, when readable. */
  mtu: number | undefined
}

/** Finds the interface named `spec` or holding the address `spec`. */
export function resolveInterface(spec: string | undefined, family: Family): ResolvedInterface {
  const wanted = spec ?? DEFAULT_INTERFACE[family]
  const all = networkInterfaces()
  const byAddress = ipFamily(wanted) !== 0
  for (const [name, addresses] of Object.entries(all)) {
    for (const info of addresses ?? []) {
      if (info.family !== (family === 4 ? 'IPv4' : 'IPv6')) continue
      const hit = byAddress ? info.address === wanted.split('%')[0] : name === wanted
      if (!hit) continue
      return {
        name,
        address: info.address,
        multicastInterface: family === 4 ? info.address : `::%${name}`,
        mtu: readMtu(name),
      }
    }
  }
  const known = Object.entries(all)
    .map(([name, list]) => `${name} (${(list ?? []).map((a) => a.address).join(', ')})`)
    .join('; ')
  throw transportError(
    'SHOAL_UNKNOWN_INTERFACE',
    `no interface ${byAddress ? 'with address' : 'named'} ${wanted} has an IPv${family} address; known: ${known}`,
  )
}

export function readMtu(name: string): number | undefined {
  try {
    const mtu = Number.parseInt(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8'), 10)
    return Number.isFinite(mtu) && mtu > 0 ? mtu : undefined
  } catch {
    return undefined
  }
}

/**
 * The largest datagram that crosses an interface of this MTU unfragmented: MTU − IP − UDP
 * headers, capped at the UDP maximum; Ethernet's 1,472 / 1,452 when the MTU is unknown.
 */
export function budgetForMtu(mtu: number | undefined, family: Family): number {
  if (mtu === undefined) return family === 4 ? DEFAULT_DATAGRAM_BUDGET_IPV4 : DEFAULT_DATAGRAM_BUDGET_IPV6
  const budget = family === 4 ? mtu - IPV4_UDP_OVERHEAD : mtu - IPV6_UDP_OVERHEAD
  return Math.max(
    MIN_DATAGRAM_BUDGET,
    Math.min(budget, family === 4 ? MAX_DATAGRAM_BYTES : MAX_DATAGRAM_BYTES_IPV6),
  )
}

export function checkBudget(budget: number, family: Family): number {
  const max = family === 4 ? MAX_DATAGRAM_BYTES : MAX_DATAGRAM_BYTES_IPV6
  if (!Number.isInteger(budget) || budget < MIN_DATAGRAM_BUDGET || budget > max)
    throw transportError(
      'SHOAL_BUDGET_OUT_OF_RANGE',
      `datagram budget ${budget} is outside ${MIN_DATAGRAM_BUDGET}-${max} for IPv${family}`,
    )
  return budget
}

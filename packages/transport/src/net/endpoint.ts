/** Turns user options into a checked endpoint: mode, family, interface, where to send or bind. */
import { transportError } from '../errors.js'
import { checkAddress, checkGroup, checkPort, type Family, ipFamily } from './address.js'
import { type ResolvedInterface, resolveInterface } from './interface.js'
import type { Mode } from './socket.js'

export interface EndpointOptions {
  /** `multicast` (default), `broadcast` (IPv4 only) or `unicast`. */
  mode?: Mode
  /** Multicast group(s). A subscriber may join several on one port. */
  group?: string | readonly string[]
  /** Broadcast address, or the unicast peer, for a publisher. */
  address?: string
  port: number
  /**
   * Interface by name (`eth0`) or address. Multicast defaults to loopback (127.0.0.1 / ::1) so
   * nothing leaves the host unless asked; unicast and broadcast bind the wildcard address when unset.
   */
  interface?: string
  /** Use IPv6 where no address says which family. */
  ipv6?: boolean
  /** SSM: the one source a subscriber accepts on a 232/8 or ff3x:: group. */
  source?: string
}

export interface ResolvedEndpoint {
  mode: Mode
  family: Family
  port: number
  groups: string[]
  address: string | undefined
  source: string | undefined
  iface: ResolvedInterface | undefined
}

export function resolveEndpoint(
  options: EndpointOptions,
  role: 'publisher' | 'subscriber',
): ResolvedEndpoint {
  const mode = options.mode ?? 'multicast'
  if (mode !== 'multicast' && mode !== 'broadcast' && mode !== 'unicast')
    throw transportError(
      'SHOAL_BAD_OPTION',
      `mode ${String(mode)} is not one of multicast, broadcast, unicast`,
    )
  const port = checkPort(options.port)
  const groups =
    options.group === undefined
      ? []
      : typeof options.group === 'string'
        ? [options.group]
        : [...options.group]
  let family: Family = options.ipv6 ? 6 : 4
  if (mode === 'multicast') {
    if (groups.length === 0) throw transportError('SHOAL_BAD_OPTION', 'multicast mode needs a group')
    if (role === 'publisher' && groups.length > 1)
      throw transportError('SHOAL_BAD_OPTION', 'a publisher sends to one group')
    if (role === 'publisher' && options.source !== undefined)
      throw transportError('SHOAL_BAD_OPTION', 'source applies to subscribers; a publisher is the source')
    const families = new Set(groups.map((g) => checkGroup(g, options.source, role === 'subscriber')))
    if (families.size > 1)
      throw transportError('SHOAL_FAMILY_MISMATCH', `groups ${groups.join(', ')} mix IPv4 and IPv6`)
    family = [...families][0]!
  } else {
    if (role === 'publisher') {
      if (options.address === undefined)
        throw transportError('SHOAL_BAD_OPTION', `${mode} mode needs an address`)
      family = checkAddress(options.address, `${mode} address`)
    } else if (options.address !== undefined) {
      family = checkAddress(options.address, `${mode} address`)
    }
    if (mode === 'broadcast' && family === 6)
      throw transportError('SHOAL_BAD_OPTION', 'IPv6 has no broadcast; use multicast (e.g. ff02::1)')
    if (options.source !== undefined)
      throw transportError('SHOAL_BAD_OPTION', 'source applies to multicast only')
  }
  if (
    options.interface !== undefined &&
    ipFamily(options.interface) !== 0 &&
    ipFamily(options.interface) !== family
  )
    throw transportError(
      'SHOAL_FAMILY_MISMATCH',
      `interface address ${options.interface} is not IPv${family} like the ${mode} address`,
    )
  const iface =
    mode === 'multicast' || options.interface !== undefined
      ? resolveInterface(options.interface, family)
      : undefined
  return { mode, family, port, groups, address: options.address, source: options.source, iface }
}

export const WILDCARD = { 4: '0.0.0.0', 6: '::' } as const

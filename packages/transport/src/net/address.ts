/** Address checks shared by publishers and subscribers. All throw {@link TransportError}s. */
import { isIP } from 'node:net'
import { transportError } from '../errors.js'

export type Family = 4 | 6

/** 4 or 6 for an IP literal (an IPv6 zone suffix `%if` is allowed); 0 otherwise. */
export function ipFamily(address: string): 0 | Family {
  const bare = address.includes('%') ? address.slice(0, address.indexOf('%')) : address
  return isIP(bare) as 0 | Family
}

export function isMulticast(address: string): boolean {
  const family = ipFamily(address)
  if (family === 4) {
    const first = Number(address.split('.')[0])
    return first >= 224 && first <= 239
  }
  return family === 6 && /^ff[0-9a-f]{2}:/i.test(address)
}

/** Source-specific multicast ranges: 232.0.0.0/8 and ff3x::/32. */
export function isSsmGroup(address: string): boolean {
  const family = ipFamily(address)
  if (family === 4) return address.startsWith('232.')
  return family === 6 && /^ff3[0-9a-f]:/i.test(address)
}

export function checkPort(port: number, what = 'port'): number {
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw transportError('SHOAL_BAD_PORT', `${what} ${port} is outside 1-65535`)
  return port
}

/** Port 0 (“any free port”) allowed, for sockets that only need a local address. */
export function checkLocalPort(port: number): number {
  return port === 0 ? 0 : checkPort(port, 'local port')
}

export function checkTtl(ttl: number): number {
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 255)
    throw transportError('SHOAL_BAD_TTL', `TTL ${ttl} is outside 0-255`)
  return ttl
}

/** Checks a group (and an SSM source, for subscribers: `requireSource` demands one on SSM groups). */
export function checkGroup(group: string, source?: string, requireSource = true): Family {
  const family = ipFamily(group)
  if (family === 0 || !isMulticast(group))
    throw transportError(
      'SHOAL_NOT_MULTICAST',
      `${group} is not a multicast group; valid: 224.0.0.0-239.255.255.255 or ff00::/8`,
    )
  if (requireSource && isSsmGroup(group) && source === undefined)
    throw transportError(
      'SHOAL_SSM_NEEDS_SOURCE',
      `${group} is a source-specific multicast group (232.0.0.0/8, ff3x::/32): give the source address`,
    )
  if (source !== undefined) {
    if (ipFamily(source) !== family)
      throw transportError(
        'SHOAL_FAMILY_MISMATCH',
        `source ${source} is not an IPv${family} address like group ${group}`,
      )
    if (!isSsmGroup(group))
      throw transportError(
        'SHOAL_NOT_SSM_GROUP',
        `${group} is not in a source-specific range (232.0.0.0/8, ff3x::/32); a source applies only there`,
      )
  }
  return family
}

export function checkAddress(address: string, what: string): Family {
  const family = ipFamily(address)
  if (family === 0)
    throw transportError('SHOAL_BAD_ADDRESS', `${what} ${JSON.stringify(address)} is not an IP address`)
  return family
}

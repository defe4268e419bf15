import { existsSync } from 'node:fs'
import { isIP } from 'node:net'
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os'
import { z } from 'zod'
import type { ValueSchema } from './flags.js'

/**
 * Schemas for the values Shoal's services take. Each parses the string a user typed and fails with
 * a message saying what would be valid; the config loader adds the flag and the value.
 */

const DECIMAL_INTEGER = /^[+]?\d+$/
const DECIMAL_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/

/** An integer in [min, max], written in decimal. */
export function integer(min: number, max: number): ValueSchema<number> {
  const error = `expected an integer ${min}-${max}`
  return z
    .string()
    .trim()
    .regex(DECIMAL_INTEGER, { error })
    .transform(Number)
    .pipe(z.int({ error }).min(min, { error }).max(max, { error }))
}

/** A decimal number in [min, max]. */
export function decimal(min: number, max: number): ValueSchema<number> {
  const error = `expected a number ${min}-${max}`
  return z
    .string()
    .trim()
    .regex(DECIMAL_NUMBER, { error })
    .transform(Number)
    .pipe(z.number({ error }).min(min, { error }).max(max, { error }))
}

/** A UDP or TCP port, 1-65535. */
export function port(): ValueSchema<number> {
  return integer(1, 65535)
}

/** An IP time-to-live or IPv6 hop limit, 0-255. */
export function ttl(): ValueSchema<number> {
  return integer(0, 255)
}

/** One of a fixed set of words. */
export function oneOf<const V extends readonly [string, ...string[]]>(
  values: V,
): z.ZodType<V[number], string> {
  return z.enum(values, { error: `expected one of ${values.join(', ')}` }) as unknown as z.ZodType<
    V[number],
    string
  >
}

/** A non-empty string without surrounding whitespace, such as a file path or a name. */
export function text(what = 'a non-empty value'): ValueSchema<string> {
  return z
    .string()
    .trim()
    .min(1, { error: `expected ${what}` })
}

/** An identifier: letters, digits, `.`, `_`, `-`, at most `max` characters. */
export function identifier(max = 64): ValueSchema<string> {
  return z.string().regex(new RegExp(`^[A-Za-z0-9._-]{1,${max}}$`), {
    error: `expected 1-${max} letters, digits, '.', '_' or '-'`,
  })
}

/** An IPv4 or IPv6 address, in canonical lower case. */
export function ipAddress(): ValueSchema<string> {
  return z
    .string()
    .trim()
    .refine((value) => isIP(value) !== 0, { error: 'expected an IPv4 or IPv6 address' })
    .transform((value) => value.toLowerCase())
}

/** True for an IPv4 address in 224.0.0.0/4 or an IPv6 address in ff00::/8. */
export function isMulticastAddress(address: string): boolean {
  switch (isIP(address)) {
    case 4: {
      const first = Number(address.split('.')[0])
      return first >= 224 && first <= 239
    }
    case 6:
      return /^ff[0-9a-f]{2}:/i.test(address)
    default:
      return false
  }
}

const MULTICAST_RANGES = 'expected IPv4 224.0.0.0/4 (224.0.0.0-239.255.255.255) or IPv6 ff00::/8'

/** A multicast group address: IPv4 224.0.0.0/4 or IPv6 ff00::/8, in canonical lower case. */
export function multicastGroup(): ValueSchema<string> {
  return z
    .string()
    .trim()
    .superRefine((value, ctx) => {
      if (isIP(value) === 0)
        ctx.addIssue({ code: 'custom', message: `not an IP address; ${MULTICAST_RANGES}` })
      else if (!isMulticastAddress(value)) {
        ctx.addIssue({ code: 'custom', message: `not a multicast address; ${MULTICAST_RANGES}` })
      }
    })
    .transform((value) => value.toLowerCase())
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/

/** A host: an IPv4 or IPv6 address or a DNS name. */
export function host(): ValueSchema<string> {
  return z
    .string()
    .trim()
    .refine((value) => isIP(value) !== 0 || HOSTNAME.test(value), {
      error: 'expected an IPv4 or IPv6 address or a host name',
    })
}

export interface Endpoint {
  /** Address or name, IPv6 without brackets. */
  readonly host: string
  readonly port: number
}

/** `host:port`, with IPv6 in brackets: `10.0.0.7:7400`, `[fd00::7]:7400`, `relay.local:7400`. */
export function endpoint(): ValueSchema<Endpoint> {
  const expected = 'expected host:port, e.g. 10.0.0.7:7400 or [fd00::7]:7400'
  return z
    .string()
    .trim()
    .transform((value, ctx): Endpoint => {
      const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(value)
      const address = match?.[1] ?? match?.[2]
      const portNumber = Number(match?.[3])
      const validHost =
        address !== undefined &&
        (match?.[1] ? isIP(address) === 6 : HOSTNAME.test(address) || isIP(address) === 4)
      if (!validHost) {
        ctx.addIssue({ code: 'custom', message: expected })
        return z.NEVER
      }
      if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) {
        ctx.addIssue({ code: 'custom', message: `port must be an integer 1-65535; ${expected}` })
        return z.NEVER
      }
      return { host: address.toLowerCase(), port: portNumber }
    })
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** A duration with a unit, `500ms`, `2s`, `1.5m`, `1h`, or a bare `0`; in milliseconds. */
export function duration(
  options: { readonly min?: number; readonly max?: number } = {},
): ValueSchema<number> {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = options
  const expected = 'expected a duration like 500ms, 2s, 1.5m or 1h'
  return z
    .string()
    .trim()
    .transform((value, ctx) => {
      const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(value)
      const ms =
        value === '0' ? 0 : match ? Math.round(Number(match[1]) * DURATION_UNITS[match[2]!]!) : Number.NaN
      if (Number.isNaN(ms)) ctx.addIssue({ code: 'custom', message: expected })
      else if (ms < min || ms > max)
        ctx.addIssue({ code: 'custom', message: `expected ${rangeText(min, max, formatDuration)}` })
      return ms
    })
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  k: 1024,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
}

/** A byte size, `1400`, `1400B`, `64KiB`, `1MiB`, `2GB` (KiB = 1024, KB = 1000); in bytes. */
export function size(options: { readonly min?: number; readonly max?: number } = {}): ValueSchema<number> {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = options
  const expected = 'expected a size like 1400, 64KiB or 1MiB'
  return z
    .string()
    .trim()
    .transform((value, ctx) => {
      const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value)
      const unit = SIZE_UNITS[(match?.[2] || 'b').toLowerCase()]
      const bytes = match && unit !== undefined ? Number(match[1]) * unit : Number.NaN
      if (!Number.isInteger(bytes)) ctx.addIssue({ code: 'custom', message: expected })
      else if (bytes < min || bytes > max)
        ctx.addIssue({ code: 'custom', message: `expected ${rangeText(min, max, formatSize)}` })
      return bytes
    })
}

function rangeText(min: number, max: number, format: (value: number) => string): string {
  if (max === Number.MAX_SAFE_INTEGER) return `at least ${format(min)}`
  return `${format(min)} to ${format(max)}`
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`
  return `${ms}ms`
}

export function formatSize(bytes: number): string {
  if (bytes % 1024 ** 2 === 0 && bytes > 0) return `${bytes / 1024 ** 2}MiB`
  if (bytes % 1024 === 0 && bytes > 0) return `${bytes / 1024}KiB`
  return `${bytes}B`
}

export interface InterfaceAddress {
  readonly address: string
  readonly family: 'IPv4' | 'IPv6'
  /** IPv6 scope id (the interface index for link-local addresses). */
  readonly scopeId?: number
}

/** A network interface of this host, found by name or by one of its addresses. */
export interface InterfaceRef {
  /** What the user wrote: `lo`, `127.0.0.1`. */
  readonly spec: string
  readonly name: string
  readonly addresses: readonly InterfaceAddress[]
}

export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>

/**
 * A network interface of this host by name (`eth0`) or address (`10.0.0.1`, `::1`), checked
 * against `os.networkInterfaces()` when the value is parsed.
 */
export function networkInterface(list: () => InterfaceTable = networkInterfaces): ValueSchema<InterfaceRef> {
  return z
    .string()
    .trim()
    .transform((spec, ctx): InterfaceRef => {
      const table = list()
      const byName = table[spec]
      if (byName !== undefined) return { spec, name: spec, addresses: byName.map(addressOf) }
      const wanted = spec.toLowerCase()
      for (const [name, addresses = []] of Object.entries(table)) {
        if (addresses.some((info) => info.address.toLowerCase() === wanted)) {
          return { spec, name, addresses: addresses.map(addressOf) }
        }
      }
      const names = Object.keys(table)
      // Linux lists an interface that is down, or has no address, in /sys but not in Node's table.
      const message = interfaceExists(spec)
        ? `interface ${spec} is down or has no address (ip link set ${spec} up; ip addr add ADDRESS/PREFIX dev ${spec})`
        : `no such interface on this host; expected an interface name or address (${names.join(', ') || 'none found'})`
      ctx.addIssue({ code: 'custom', message })
      return z.NEVER
    })
}

/** Whether the kernel has a network interface of this name (Linux; false elsewhere). */
function interfaceExists(name: string): boolean {
  return /^[\w.:-]{1,15}$/.test(name) && existsSync(`/sys/class/net/${name}`)
}

function addressOf(info: NetworkInterfaceInfo): InterfaceAddress {
  return info.family === 'IPv6'
    ? { address: info.address, family: 'IPv6', scopeId: info.scopeid }
    : { address: info.address, family: 'IPv4' }
}

/** The interface's first address of a family, if it has one. */
export function interfaceAddress(ref: InterfaceRef, family: 'IPv4' | 'IPv6'): string | undefined {
  return ref.addresses.find((info) => info.family === family)?.address
}

/**
 * A topic filter: an exact topic (`sensors/imu`), a prefix wildcard (`sensors/*`), or `*` for all.
 * Segments are letters, digits, `.`, `_`, `-`.
 */
export function topicFilter(): ValueSchema<string> {
  return z
    .string()
    .trim()
    .regex(/^(\*|[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*(\/\*)?)$/, {
      error: "expected a topic like sensors/imu, a prefix like sensors/* or '*'",
    })
}

/** True when a topic passes a filter written as {@link topicFilter} accepts. */
export function matchesTopic(filter: string, topic: string): boolean {
  if (filter === '*') return true
  if (filter.endsWith('/*')) return topic.startsWith(filter.slice(0, -1))
  return topic === filter
}

/**
 * Which peers an input takes datagrams from (`?allow=`): IPv4 and IPv6 addresses and CIDR prefixes.
 * A datagram from any other address is dropped as `not-allowed` before the relay looks at it.
 *
 * Without `allow=`, a `udp://` input takes the hosts of the relay's `unicast://` outputs (a tunnel's
 * two relays send to each other), and a relay with none takes any host, with a warning at start;
 * multicast and broadcast inputs take any host on their segment.
 */
import { isIP } from 'node:net'
import type { Route } from './config.js'
import { normalizeAddress } from './loop-guard.js'

/** Peers one `allow=` may list, after splitting at commas; a longer list is refused. */
export const MAX_ALLOW_ENTRIES = 256

const IPV4_BITS = 32
const IPV6_BITS = 128

/** One `allow=` item: an address (a prefix of its full length) or a network with its prefix length. */
export interface AllowEntry {
  /** As written, for logs. */
  readonly text: string
  readonly family: 4 | 6
  /** The network address, 4 or 16 bytes, with every bit past the prefix zero. */
  readonly bytes: Uint8Array
  /** Leading bits that must match: 32 (128) for one address. */
  readonly prefix: number
}

export type AllowParse = { ok: true; entry: AllowEntry } | { ok: false; message: string }

const EXAMPLE = 'e.g. 10.0.2.7, 10.0.2.0/24 or fd00::7'

/**
 * Reads one `allow=` item: `10.0.2.7`, `10.0.2.0/24`, `fd00::7`, `fd00::/64`. An IPv4-mapped IPv6
 * address is read as the IPv4 address, a zone (`%eth0`) is ignored, and a network with bits set past
 * its prefix is refused (`10.0.2.7/24` is probably a typo for one address or for `10.0.2.0/24`).
 */
export function parseAllowEntry(text: string): AllowParse {
  const fail = (message: string): AllowParse => ({ ok: false, message })
  const [address = '', prefixText, ...rest] = text.trim().split('/')
  if (rest.length > 0) return fail(`expected an address or address/prefix, ${EXAMPLE}`)
  const bare = normalizeAddress(address)
  const family = isIP(bare)
  if (family !== 4 && family !== 6) return fail(`expected an IPv4 or IPv6 address or prefix, ${EXAMPLE}`)
  const bits = family === 4 ? IPV4_BITS : IPV6_BITS
  let prefix = bits
  if (prefixText !== undefined) {
    if (bare !== address.toLowerCase()) {
      return fail(`write an IPv4 network in IPv4 form (${bare}/…), an IPv6 one without a zone`)
    }
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits)
      return fail(`the prefix length of an IPv${family} network is 0-${bits}`)
    prefix = Number(prefixText)
  }
  const bytes = addressBytes(bare, family)
  const network = masked(bytes, prefix)
  if (!equalBytes(bytes, network)) {
    const fixed = formatNetwork(network, family)
    return fail(`${bare}/${prefix} has bits set past the prefix: the network is ${fixed}/${prefix}`)
  }
  return { ok: true, entry: { text: text.trim(), family, bytes: network, prefix } }
}

/**
 * The peers an input takes datagrams from. Matching an address parses it, so the last address and
 * its verdict are kept: on a tunnel nearly every datagram comes from the same peer.
 */
export class AllowList {
  readonly entries: readonly AllowEntry[]
  #lastAddress: string | undefined
  #lastVerdict = false

  constructor(entries: readonly AllowEntry[]) {
    this.entries = entries
  }

  /** A list from items as `allow=` takes them; throws naming the first invalid one. */
  static of(items: readonly string[]): AllowList {
    return new AllowList(
      items.map((item) => {
        const parsed = parseAllowEntry(item)
        if (!parsed.ok) throw new Error(`${item}: ${parsed.message}`)
        return parsed.entry
      }),
    )
  }

  /** The entries as written, for logs. */
  describe(): string[] {
    return this.entries.map((entry) => entry.text)
  }

  /** True when `address` (as `node:dgram` reports it: mapped IPv4, zones) is one of the peers. */
  allows(address: string): boolean {
    if (address === this.#lastAddress) return this.#lastVerdict
    const verdict = this.#match(address)
    this.#lastAddress = address
    this.#lastVerdict = verdict
    return verdict
  }

  #match(address: string): boolean {
    const bare = normalizeAddress(address)
    const family = isIP(bare)
    if (family !== 4 && family !== 6) return false
    const bytes = addressBytes(bare, family)
    return this.entries.some((entry) => entry.family === family && prefixMatches(entry, bytes))
  }
}

/** Where an input's peers come from, for the start-up log. */
export type AllowSource = 'allow=' | 'unicast outputs' | 'any host'

export interface InputAllow {
  /** Undefined: every host. */
  readonly list: AllowList | undefined
  readonly source: AllowSource
}

/**
 * The peers of one `--in` route: its `allow=`; else, for `udp://`, the addresses the relay's
 * `unicast://` outputs send to (resolved); else any host. `udp://` taking any host deserves a
 * warning (see {@link OPEN_UDP_INPUT_WARNING}).
 */
export function inputAllow(
  route: Pick<Route, 'scheme' | 'allow'>,
  unicastPeers: readonly string[],
): InputAllow {
  if (route.allow !== undefined) return { list: new AllowList(route.allow), source: 'allow=' }
  if (route.scheme === 'udp' && unicastPeers.length > 0)
    return { list: AllowList.of([...new Set(unicastPeers.map(normalizeAddress))]), source: 'unicast outputs' }
  return { list: undefined, source: 'any host' }
}

/** Logged at start for every `udp://` input that takes any host. */
export const OPEN_UDP_INPUT_WARNING =
  'this udp:// input takes datagrams from any host: anyone who can reach its port can inject frames, and the relay forwards them. Add ?allow=<peer address>[,<address>/<prefix>…] to take only your peers (allow=0.0.0.0/0,::/0 takes any host without this warning)'

/** The 4 or 16 bytes of a valid address (no zone, IPv4-mapped addresses already unmapped). */
function addressBytes(address: string, family: 4 | 6): Uint8Array {
  if (family === 4) return Uint8Array.from(address.split('.'), Number)
  let text = address
  // An IPv4 tail (::ffff:1.2.3.4 forms that were not unmapped, 64:ff9b::1.2.3.4) is two groups.
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (tail !== null) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', rest] = text.split('::')
  const groups = (part: string) => (part === '' ? [] : part.split(':'))
  const left = groups(head)
  const right = rest === undefined ? [] : groups(rest)
  const all =
    rest === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
  const bytes = new Uint8Array(16)
  all.forEach((group, i) => {
    const value = Number.parseInt(group, 16)
    bytes[2 * i] = value >> 8
    bytes[2 * i + 1] = value & 0xff
  })
  return bytes
}

function masked(bytes: Uint8Array, prefix: number): Uint8Array {
  return bytes.map((byte, i) => {
    const keep = Math.min(8, Math.max(0, prefix - 8 * i))
    return byte & ((0xff << (8 - keep)) & 0xff)
  })
}

function prefixMatches(entry: AllowEntry, bytes: Uint8Array): boolean {
  const { prefix } = entry
  const whole = prefix >> 3
  for (let i = 0; i < whole; i++) if (bytes[i] !== entry.bytes[i]) return false
  const rest = prefix & 7
  if (rest === 0) return true
  const mask = (0xff << (8 - rest)) & 0xff
  return (bytes[whole]! & mask) === entry.bytes[whole]
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i])
}

function formatNetwork(bytes: Uint8Array, family: 4 | 6): string {
  if (family === 4) return bytes.join('.')
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16))
  // The URL parser writes IPv6 addresses in their short form (`fd00::`).
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1)
}

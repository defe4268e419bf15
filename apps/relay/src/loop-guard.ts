/**
 * What keeps a relay from forwarding a datagram twice or forever (WIRE.md, “Relays”):
 *
 * 1. own output: a datagram whose source is one of this relay's output sockets is its own
 *    forwarding coming back in (multicast looped back to the host, a unicast route to itself);
 * 2. hop limit: a datagram that has already crossed `--max-hops` relays is not forwarded;
 * 3. de-duplication: the identity (session, topic, sequence, fragment index) of the last
 *    {@link DEFAULT_DEDUP_ENTRIES} datagrams forwarded; a repeat came by a second path or round a loop.
 */
import { networkInterfaces } from 'node:os'
import { DEFAULT_DEDUP_ENTRIES, DedupCache, type FrameHeader } from '@shoal/transport'

/**
 * Why the relay did not forward a datagram, in the order it checks. `not-allowed` (a source its
 * input does not take, `?allow=`) comes first and is the Forwarder's; the rest are this guard's.
 */
export const RELAY_DROP_REASONS = ['not-allowed', 'loop', 'filtered', 'max-hops', 'duplicate'] as const
export type RelayDropReason = (typeof RELAY_DROP_REASONS)[number]

export interface SocketAddress {
  readonly address: string
  readonly port: number
}

export interface LoopGuardOptions {
  /** Datagrams that have crossed this many relays are dropped (`--max-hops`). */
  readonly maxHops: number
  /** Datagram identities remembered; {@link DEFAULT_DEDUP_ENTRIES} by default. */
  readonly dedupEntries?: number
  /** This host's addresses, for output sockets bound to a wildcard; read from the host by default. */
  readonly localAddresses?: Iterable<string>
}

const WILDCARDS = new Set(['0.0.0.0', '::'])

/** `fe80::1%eth0` → `fe80::1`, `::ffff:10.0.0.1` → `10.0.0.1`, lower case. */
export function normalizeAddress(address: string): string {
  const bare = address.toLowerCase().replace(/%.*$/, '')
  return bare.startsWith('::ffff:') && bare.includes('.') ? bare.slice('::ffff:'.length) : bare
}

function hostAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list = []) => list.map((info) => info.address))
}

export class LoopGuard {
  readonly maxHops: number
  readonly #dedup: DedupCache
  /** `address port` of output sockets bound to one address. */
  readonly #own = new Set<string>()
  /** Ports of output sockets bound to a wildcard address: they send from any local address. */
  readonly #ownWildcardPorts = new Set<number>()
  readonly #localAddresses: Set<string>

  constructor(options: LoopGuardOptions) {
    this.maxHops = options.maxHops
    this.#dedup = new DedupCache(options.dedupEntries ?? DEFAULT_DEDUP_ENTRIES)
    this.#localAddresses = new Set([...(options.localAddresses ?? hostAddresses())].map(normalizeAddress))
  }

  /** Registers one of this relay's output sockets (`publisher.info.local`). */
  addOutput(local: SocketAddress): void {
    const address = normalizeAddress(local.address)
    if (WILDCARDS.has(address)) this.#ownWildcardPorts.add(local.port)
    else this.#own.add(`${address} ${local.port}`)
  }

  /** True when `from` is one of this relay's output sockets: its own forwarding come back. */
  isOwnOutput(from: SocketAddress): boolean {
    if (this.#own.size === 0 && this.#ownWildcardPorts.size === 0) return false
    const address = normalizeAddress(from.address)
    if (this.#own.has(`${address} ${from.port}`)) return true
    return this.#ownWildcardPorts.has(from.port) && this.#localAddresses.has(address)
  }

  /** True when a datagram has crossed as many relays as allowed. */
  hopsExceeded(hops: number): boolean {
    return hops >= this.maxHops
  }

  /** True the first time a datagram identity is seen; false for every repeat while remembered. */
  firstTime(
    header: Pick<FrameHeader, 'sessionId' | 'topic' | 'sequence' | 'fragmentIndex'> & { kind?: number },
    foreign = false,
    digest?: () => number,
  ): boolean {
    return this.#dedup.firstTime(header, foreign, digest)
  }

  /** Datagram identities remembered now. */
  get remembered(): number {
    return this.#dedup.size
  }

  /** Datagram identities forgotten to make room for newer ones. */
  get forgotten(): number {
    return this.#dedup.evicted
  }
}

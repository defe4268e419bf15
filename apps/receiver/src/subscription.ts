import { isIP } from 'node:net'
import { networkInterfaces } from 'node:os'
import type { InterfaceRef } from '@shoal/service'
import type { SubscriberInfo, SubscriberOptions } from '@shoal/transport'
import type { NetworkReceiverConfig } from './config.js'

/** The transport subscriber's options for a receiver's config. */
export function subscriberOptions(config: NetworkReceiverConfig): SubscriberOptions {
  const family = config.ipv6 ? 6 : 4
  const options: SubscriberOptions = {
    mode: config.listen.mode,
    port: config.port,
    interface: interfaceFor(config.interface, family),
    ipv6: config.ipv6,
    raw: config.raw,
    ack: config.ack,
    name: config.name,
    ttl: config.ttl,
    repair: !config.noRepair,
    status: !config.noStatus,
    ordered: config.ordered,
    streams: { maxStreams: config.maxStreams },
    registry: config.types,
    ...(config.seal === undefined ? {} : { seal: { keyring: config.seal.keyring, mode: config.seal.mode } }),
  }
  if (config.listen.mode === 'multicast') {
    options.group = config.listen.groups
    if (config.listen.source !== undefined) options.source = config.listen.source
  }
  if (config.topic.length > 0) options.topics = config.topic
  return options
}

/**
 * What to hand the transport for `--interface`: what the user wrote, unless it is an address of
 * the other family (the default 127.0.0.1 with `--ipv6`), in which case the interface's name, so
 * the transport picks that interface's address of the right family.
 */
export function interfaceFor(ref: InterfaceRef, family: 4 | 6): string {
  const written = isIP(ref.spec)
  return written === 0 || written === family ? ref.spec : ref.name
}

/** The startup record: where this receiver listens and what the kernel granted. */
export function describeSubscription(info: SubscriberInfo): Record<string, unknown> {
  return {
    mode: info.mode,
    interface: info.interface,
    interfaceAddress: info.interfaceAddress,
    ...(info.mode === 'multicast' ? { groups: info.groups } : {}),
    ...(info.source === undefined ? {} : { source: info.source }),
    port: info.port,
    bound: `${info.bound.address}:${info.bound.port}`,
    recvBufferBytes: info.recvBuffer.granted,
  }
}

/**
 * How to receive from other hosts, when this receiver cannot: on loopback only frames sent on this
 * host arrive. Names the interfaces that could reach a network, by reading the host's interface
 * table (nothing is sent).
 */
export function reachHint(info: SubscriberInfo, table = networkInterfaces()): string | undefined {
  // Multicast joins on the interface; unicast binds its address; broadcast binds the wildcard
  // address, so it hears every interface.
  const local =
    info.mode === 'multicast'
      ? info.interfaceAddress
      : info.mode === 'unicast'
        ? info.bound.address
        : undefined
  if (local === undefined || !isLoopback(local)) return undefined
  const family = info.family === 6 ? 'IPv6' : 'IPv4'
  const names = Object.entries(table)
    .filter(([, addresses = []]) => addresses.some((a) => a.family === family && !a.internal))
    .map(([name]) => name)
  const example = names[0] ?? 'eth0'
  return `listening on loopback: only frames sent on this host arrive; to receive from the network, pass --interface ${example}${names.length > 1 ? ` (interfaces: ${names.join(', ')})` : ''}`
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.')
}

/** The warning when the kernel granted less receive buffer than asked: how to raise the limit. */
export function recvBufferHint(info: SubscriberInfo): string | undefined {
  const { requested, granted, clamped } = info.recvBuffer
  if (!clamped) return undefined
  return `receive buffer clamped to ${granted} bytes (asked ${requested}): bursts may overflow it; raise the limit with sysctl -w net.core.rmem_max=${requested}`
}

import { isIP } from 'node:net'
import { type InterfaceRef, type InterfaceTable, loopbackHint } from '@shoal/service'
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
 * The start line in words, for a person at a terminal (the fields are in the JSON record):
 * `receiving multicast 239.255.0.1:7400 on lo (127.0.0.1), all topics`.
 */
export function receivingLine(
  info: SubscriberInfo,
  more: { readonly topics: readonly string[]; readonly record?: string; readonly ack?: string },
): string {
  const at = (address: string) =>
    address.includes(':') ? `[${address}]:${info.port}` : `${address}:${info.port}`
  const where =
    info.mode === 'multicast'
      ? `multicast ${info.groups.map(at).join(', ')}${info.source === undefined ? '' : ` from ${info.source}`}`
      : `${info.mode} on ${info.bound.address}:${info.bound.port}`
  const on = info.interface === undefined ? '' : ` on ${info.interface} (${info.interfaceAddress})`
  const topics = more.topics.length === 0 ? 'all topics' : `topics ${more.topics.join(', ')}`
  const record = more.record === undefined ? '' : `, recording to ${more.record}`
  const ack = more.ack === undefined ? '' : `, acknowledging as ${more.ack}`
  return `receiving ${where}${on}, ${topics}${record}${ack}`
}

/**
 * How to receive from other hosts, when this receiver cannot: on loopback only frames sent on this
 * host arrive. Names the interfaces that could reach a network, by reading the host's interface
 * table (nothing is sent). The words are the receiver's; the check is the one every service shares.
 */
export function reachHint(info: SubscriberInfo, table?: InterfaceTable): string | undefined {
  // Multicast joins on the interface; unicast binds its address; broadcast binds the wildcard
  // address, so it hears every interface.
  const local =
    info.mode === 'multicast'
      ? info.interfaceAddress
      : info.mode === 'unicast'
        ? info.bound.address
        : undefined
  return loopbackHint(
    {
      address: local,
      family: info.family === 6 ? 6 : 4,
      effect: 'listening on loopback: only frames sent on this host arrive',
      goal: 'receive from the network',
    },
    table,
  )
}

/** The warning when the kernel granted less receive buffer than asked: how to raise the limit. */
export function recvBufferHint(info: SubscriberInfo): string | undefined {
  const { requested, granted, clamped } = info.recvBuffer
  if (!clamped) return undefined
  return `receive buffer clamped to ${granted} bytes (asked ${requested}): bursts may overflow it; raise the limit with sysctl -w net.core.rmem_max=${requested}`
}

/**
 * From the sender's config to the transport's publisher options, and back to a startup line that
 * says where the frames go and, on loopback, how to reach the network instead.
 */
import { isIP } from 'node:net'
import { conflict, type InterfaceRef, loopbackHint as sharedLoopbackHint } from '@shoal/service'
import type { PublisherInfo, PublisherOptions } from '@shoal/transport'
import type { SenderConfig } from './config.js'

/**
 * The route that lets IPv6 multicast use lo: without it the kernel refuses every send to the group
 * (ENETUNREACH), which is the case on most hosts.
 */
export const LO_IPV6_MULTICAST_ROUTE = 'ip -6 route add multicast ff00::/8 dev lo table local'

/**
 * IPv6 multicast needs an interface with an IPv6 address. The default `--interface` is 127.0.0.1,
 * an IPv4 address; sending IPv6 multicast on its interface (lo) fails at every send on most hosts,
 * so it is refused at start (exit 2), saying what to pass instead. `explicit`: the user gave
 * `--interface`.
 */
export function checkIpv6Interface(ref: InterfaceRef, explicit: boolean): void {
  const v6 = ref.addresses.filter((a) => a.family === 'IPv6')
  const fix =
    `pass --interface NAME (eth0, or one of its IPv6 addresses) to reach the network, or --interface ::1 ` +
    `to stay on this host (IPv6 multicast on lo needs a route most hosts lack: ${LO_IPV6_MULTICAST_ROUTE})`
  if (!explicit)
    throw conflict(
      '--interface',
      `--ipv6 needs an interface with an IPv6 address: the default --interface ${ref.spec} is an IPv4 ` +
        `address, and IPv6 multicast on its interface (${ref.name}) would fail at every send; ${fix}`,
    )
  if (v6.length === 0)
    throw conflict(
      '--interface',
      `--interface ${ref.spec} (${ref.name}) has no IPv6 address, which --ipv6 needs; ${fix}`,
    )
  if (isIP(ref.spec) === 4)
    throw conflict(
      '--interface',
      `--interface ${ref.spec} is an IPv4 address; with --ipv6 name the interface (${ref.name}) or one of its IPv6 addresses`,
    )
}

export function publisherOptions(config: SenderConfig, batched: boolean): PublisherOptions {
  const family = config.ipv6 ? 6 : 4
  const { spec, name } = config.interface
  const options: PublisherOptions = {
    mode: config.destination.mode,
    port: config.port,
    // An address of the right family names one address of the interface; otherwise its name.
    interface: isIP(spec) === family ? spec : name,
    ipv6: config.ipv6,
    ttl: config.ttl,
    ...(config.budget === undefined ? {} : { budget: config.budget }),
    batch: batched && config.batchLinger > 0 ? { lingerMs: config.batchLinger } : false,
    // In-band schemas (WIRE.md “Schemas”): `--proto` types are announced, so receivers need no `--proto`.
    schemas: config.types,
    // Plain datagrams (--raw) carry no Shoal frames: a heartbeat would be garbage to their readers.
    heartbeat: config.noHeartbeat || config.source.kind === 'raw' ? false : { maxMs: config.heartbeatMax },
    flow:
      config.flow === 'none'
        ? false
        : {
            strategy: config.flow,
            groupSize: config.minReceivers,
            receiverTimeoutMs: config.receiverTimeout,
          },
    repair:
      config.repairWindow > 0
        ? {
            windowBytes: config.repairWindow,
            ...(config.repairRate === undefined ? {} : { bytesPerSecond: config.repairRate }),
            ...(config.repairRatePerReceiver === undefined
              ? {}
              : { bytesPerSecondPerRequester: config.repairRatePerReceiver }),
          }
        : false,
    ...(config.seal === undefined ? {} : { seal: { keyring: config.seal.keyring, mode: config.seal.mode } }),
  }
  if (config.destination.mode === 'multicast') options.group = config.destination.group
  else options.address = config.destination.address
  return options
}

export interface NetworkDescription {
  readonly message: string
  readonly fields: Readonly<Record<string, unknown>>
  /** On loopback: how to reach other hosts. */
  readonly hint: string | undefined
}

export function describeNetwork(info: PublisherInfo, batchLingerMs: number | undefined): NetworkDescription {
  const destination =
    info.family === 6 ? `[${info.destination}]:${info.port}` : `${info.destination}:${info.port}`
  const on = info.interface === undefined ? 'any interface' : `${info.interface} (${info.interfaceAddress})`
  const budget = `budget ${info.budget} bytes${info.mtu === undefined ? '' : ` (MTU ${info.mtu})`}`
  const batching = batchLingerMs === undefined ? 'unbatched' : `batching ${batchLingerMs} ms`
  const message = `publishing ${info.mode} to ${destination} on ${on}, TTL ${info.ttl}, ${budget}, ${batching}`
  const fields = {
    mode: info.mode,
    destination: info.destination,
    port: info.port,
    interface: info.interface,
    interfaceAddress: info.interfaceAddress,
    ttl: info.ttl,
    budget: info.budget,
    mtu: info.mtu,
    batchLingerMs: batchLingerMs ?? 0,
    session: info.sessionId.toString(16).padStart(8, '0'),
    local: `${info.local.address}:${info.local.port}`,
  }
  return { message, fields, hint: loopbackHint(info) }
}

function loopbackHint(info: PublisherInfo): string | undefined {
  return sharedLoopbackHint({
    address: info.interfaceAddress,
    family: info.family === 6 ? 6 : 4,
    effect: `frames stay on this host (${info.interface} is loopback)`,
    goal: 'reach the network',
    more: ', and --ttl N to cross N-1 routers',
  })
}

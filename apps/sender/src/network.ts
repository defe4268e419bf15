/**
 * From the sender's config to the transport's publisher options, and back to a startup line that
 * says where the frames go and, on loopback, how to reach the network instead.
 */
import { isIP } from 'node:net'
import { networkInterfaces } from 'node:os'
import type { PublisherInfo, PublisherOptions } from '@shoal/transport'
import type { SenderConfig } from './config.js'

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
  const all = networkInterfaces()
  const family = info.family === 6 ? 'IPv6' : 'IPv4'
  const current = info.interface === undefined ? undefined : all[info.interface]
  if (current === undefined || !current.some((address) => address.internal)) return undefined
  const outside = Object.entries(all).find(([, addresses]) =>
    addresses?.some((address) => !address.internal && address.family === family),
  )?.[0]
  return (
    `frames stay on this host (${info.interface} is loopback); to reach the network, name an interface: ` +
    `--interface ${outside ?? 'eth0'}, and --ttl N to cross N-1 routers`
  )
}

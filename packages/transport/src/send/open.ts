/**
 * A publisher's socket, opened from its options: the endpoint resolved, TTL, local port and
 * datagram budget checked (the budget follows the interface's MTU unless given), and what the
 * publisher reports of itself (`info`). Bad options throw `SHOAL_BAD_OPTION` before any socket opens.
 */
import { randomBytes } from 'node:crypto'
import { checkLocalPort, checkTtl } from '../net/address.js'
import { resolveEndpoint } from '../net/endpoint.js'
import { budgetForMtu, checkBudget } from '../net/interface.js'
import { UdpLink } from '../net/link.js'
import { checkPublisherOptions, type PublisherInfo, type PublisherOptions } from './options.js'

export async function openPublisherLink(
  options: PublisherOptions,
): Promise<{ link: UdpLink; info: PublisherInfo }> {
  const endpoint = resolveEndpoint(options, 'publisher')
  const ttl = checkTtl(options.ttl ?? 1)
  checkPublisherOptions(options)
  const localPort = checkLocalPort(options.localPort ?? 0)
  const budget = checkBudget(
    options.budget ?? budgetForMtu(endpoint.iface?.mtu, endpoint.family),
    endpoint.family,
  )
  const loopback = options.loopback ?? true
  const link = await UdpLink.open({ endpoint, ttl, loopback, localPort })
  const info: PublisherInfo = {
    mode: endpoint.mode,
    family: endpoint.family,
    destination: link.destination.address,
    port: endpoint.port,
    interface: endpoint.iface?.name,
    interfaceAddress: endpoint.iface?.address,
    mtu: endpoint.iface?.mtu,
    budget,
    ttl,
    loopback,
    sessionId: options.sessionId ?? randomBytes(4).readUInt32BE(0),
    local: link.local,
  }
  return { link, info }
}

import { isIP } from 'node:net'
import type { DoctorTarget } from '@shoal/service'
import { DEFAULT_RECV_BUFFER_BYTES } from '@shoal/transport'
import type { RelayConfig, Route } from './config.js'

/** What `shoal-relay --doctor` checks: every route's interface, group or address, and port. */
export function relayDoctorTargets(config: RelayConfig): DoctorTarget[] {
  const target = (route: Route, direction: 'in' | 'out'): DoctorTarget => {
    const family = isIP(route.host) === 6 ? 6 : 4
    const label = `--${direction} ${route.spec}`
    const port = route.port
    if (direction === 'in') {
      // A udp:// input listens on its host address; it sends to nothing.
      const mode =
        route.scheme === 'udp' ? 'unicast' : route.scheme === 'broadcast' ? 'broadcast' : 'multicast'
      return {
        label,
        role: 'receive',
        mode,
        family,
        interface: route.scheme === 'udp' ? undefined : route.interface,
        ...(mode === 'multicast' ? { address: route.host } : {}),
        port,
        recvBufferBytes: DEFAULT_RECV_BUFFER_BYTES,
      }
    }
    const mode =
      route.scheme === 'broadcast' ? 'broadcast' : route.scheme === 'unicast' ? 'unicast' : 'multicast'
    return {
      label,
      role: 'send',
      mode,
      family,
      // Unicast outputs leave the interface to the routing table (routes.ts).
      interface: mode === 'unicast' ? undefined : route.interface,
      ...(isIP(route.host) === 0 ? {} : { address: route.host }),
      port,
    }
  }
  // nats:// routes open a TCP connection, no socket of the kind the doctor checks.
  const udp = (r: Route) => r.scheme !== 'nats'
  return [
    ...config.inputs.filter(udp).map((r) => target(r, 'in')),
    ...config.outputs.filter(udp).map((r) => target(r, 'out')),
  ]
}

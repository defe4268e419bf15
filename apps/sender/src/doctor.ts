import { isIP } from 'node:net'
import type { DoctorTarget } from '@shoal/service'
import type { SenderConfig } from './config.js'

/** What `shoal-send --doctor` checks: the one destination it would send to. */
export function senderDoctorTargets(config: SenderConfig): DoctorTarget[] {
  const { destination } = config
  const address = destination.mode === 'multicast' ? destination.group : destination.address
  return [
    {
      role: 'send',
      mode: destination.mode,
      family: config.ipv6 ? 6 : 4,
      interface: config.interface,
      // A unicast peer may be a host name: the route is checked for addresses only.
      ...(isIP(address) === 0 ? {} : { address }),
      port: config.port,
      ...(config.budget === undefined ? {} : { budget: config.budget }),
    },
  ]
}

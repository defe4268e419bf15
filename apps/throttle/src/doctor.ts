import type { DoctorTarget } from '@shoal/service'
import { DEFAULT_RECV_BUFFER_BYTES } from '@shoal/transport'
import type { ThrottleConfig } from './config.js'

/** What `shoal-throttle --doctor` checks: each group it joins (input), and the group it publishes on. */
export function throttleDoctorTargets(config: ThrottleConfig): DoctorTarget[] {
  const inputs = config.group.map(
    (group): DoctorTarget => ({
      label: `--group ${group}`,
      role: 'receive',
      mode: 'multicast',
      family: 4,
      interface: config.interface,
      address: group,
      port: config.port,
      recvBufferBytes: DEFAULT_RECV_BUFFER_BYTES,
    }),
  )
  const output: DoctorTarget = {
    label: `--out-group ${config.outGroup}`,
    role: 'send',
    mode: 'multicast',
    family: 4,
    interface: config.outInterface,
    address: config.outGroup,
    port: config.outPort,
  }
  return [...inputs, output]
}

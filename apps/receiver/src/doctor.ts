import type { DoctorTarget } from '@shoal/service'
import { DEFAULT_RECV_BUFFER_BYTES } from '@shoal/transport'
import type { ReceiverConfig } from './config.js'

/** What `shoal-recv --doctor` checks: each group it would join, or the port it would listen on. */
export function receiverDoctorTargets(config: ReceiverConfig): DoctorTarget[] {
  // Reading a recording (`--from`) uses no network: nothing to check.
  const { listen } = config
  if (listen.mode === 'file') return []
  const common = {
    role: 'receive',
    mode: listen.mode,
    family: config.ipv6 ? 6 : 4,
    interface: config.interface,
    port: config.port,
    recvBufferBytes: DEFAULT_RECV_BUFFER_BYTES,
  } as const
  if (listen.mode !== 'multicast') return [common]
  const { groups } = listen
  return groups.map((group) => ({
    ...common,
    address: group,
    ...(groups.length > 1 ? { label: `--group ${group}` } : {}),
  }))
}

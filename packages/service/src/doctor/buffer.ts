/** Whether the kernel grants the receive buffer a receiving socket asks for. */
import type { DoctorCheck, DoctorEnv, DoctorTarget } from './types.js'

/** The kernel's cap on SO_RCVBUF for sockets of unprivileged processes (and of Node's, which ask without FORCE). */
export const RMEM_MAX_PATH = '/proc/sys/net/core/rmem_max'

export function checkRecvBuffer(target: DoctorTarget, env: DoctorEnv): DoctorCheck {
  const asked = target.recvBufferBytes
  if (target.role !== 'receive' || asked === undefined)
    return { name: 'rmem', ok: true, skipped: true, detail: 'sends only: no receive buffer to size' }
  const max = Number.parseInt(env.readFile(RMEM_MAX_PATH) ?? '', 10)
  if (!Number.isFinite(max))
    return { name: 'rmem', ok: true, skipped: true, detail: `${RMEM_MAX_PATH} is not readable` }
  if (max >= asked)
    return {
      name: 'rmem',
      ok: true,
      detail: `net.core.rmem_max ${max} allows the ${asked}-byte receive buffer`,
    }
  return {
    name: 'rmem',
    ok: false,
    detail: `net.core.rmem_max ${max} is less than the ${asked}-byte receive buffer asked: the kernel clamps it, and a burst it cannot hold is dropped on this host`,
    fix: `sysctl -w net.core.rmem_max=${asked} (keep it in /etc/sysctl.d/)`,
  }
}

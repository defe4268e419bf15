/** Is the interface there, up, able to carry multicast, and what datagrams fit its MTU. */
import { budgetForMtu, MIN_DATAGRAM_BUDGET } from '@shoal/transport'
import type { DoctorCheck, DoctorEnv, DoctorTarget } from './types.js'

/** Bits of /sys/class/net/NAME/flags (linux/if.h). */
export const IFF_UP = 0x1
export const IFF_LOOPBACK = 0x8
export const IFF_MULTICAST = 0x1000

/** operstate values that mean no frame gets through although the interface is set up. */
const DOWN_STATES = new Set(['down', 'lowerlayerdown', 'notpresent'])

/** An MTU every Ethernet has; the IP+UDP overhead is what it loses to headers. */
const REFERENCE_MTU = 1500

export function checkInterface(target: DoctorTarget, env: DoctorEnv): DoctorCheck {
  const name = target.interface?.name
  if (name === undefined)
    return { name: 'interface', ok: true, skipped: true, detail: 'the kernel picks the interface (unicast)' }
  const flagsText = env.readFile(`/sys/class/net/${name}/flags`)
  if (flagsText === undefined)
    return { name: 'interface', ok: false, detail: `no interface ${name}`, fix: 'ip link show' }
  const flags = Number.parseInt(flagsText.trim(), 16)
  const operstate = env.readFile(`/sys/class/net/${name}/operstate`)?.trim() ?? 'unknown'
  const mtu = readMtu(name, env)
  const mtuText = mtu === undefined ? '' : `, mtu ${mtu}`
  if ((flags & IFF_UP) === 0)
    return {
      name: 'interface',
      ok: false,
      detail: `interface ${name} is down`,
      fix: `ip link set ${name} up`,
    }
  if (DOWN_STATES.has(operstate))
    return {
      name: 'interface',
      ok: false,
      detail: `interface ${name} is up but its link is ${operstate} (no carrier, or its peer is down)`,
      fix: `ip link show ${name}`,
    }
  const loopback = (flags & IFF_LOOPBACK) !== 0
  const multicast = (flags & IFF_MULTICAST) !== 0
  if (target.mode === 'multicast' && !multicast && !loopback)
    return {
      name: 'interface',
      ok: false,
      detail: `interface ${name} is up but has no MULTICAST flag: it may drop every group's frames`,
      fix: `ip link set ${name} multicast on`,
    }
  // Loopback delivers multicast to this host's sockets with or without the flag.
  const kind = multicast ? ', MULTICAST' : loopback ? ', loopback' : ''
  return { name: 'interface', ok: true, detail: `interface ${name} is up${kind}${mtuText}` }
}

/** What one datagram may carry on this interface, against what the service will send. */
export function checkMtu(target: DoctorTarget, env: DoctorEnv): DoctorCheck {
  const name = target.interface?.name
  if (name === undefined) return { name: 'mtu', ok: true, skipped: true, detail: 'no interface named' }
  const mtu = readMtu(name, env)
  if (mtu === undefined)
    return { name: 'mtu', ok: true, skipped: true, detail: `the MTU of ${name} is not readable` }
  const overhead = REFERENCE_MTU - budgetForMtu(REFERENCE_MTU, target.family)
  const fits = mtu - overhead
  if (fits < MIN_DATAGRAM_BUDGET)
    return {
      name: 'mtu',
      ok: false,
      detail: `mtu ${mtu} of ${name} leaves ${fits} bytes per datagram, under Shoal's minimum ${MIN_DATAGRAM_BUDGET}: the IP layer fragments every datagram`,
      fix: `ip link set ${name} mtu ${MIN_DATAGRAM_BUDGET + overhead}`,
    }
  const budget = budgetForMtu(mtu, target.family)
  if (target.budget !== undefined && target.budget > budget)
    return {
      name: 'mtu',
      ok: false,
      detail: `--budget ${target.budget} is more than mtu ${mtu} of ${name} carries (${budget}): the IP layer fragments each datagram, and one lost piece loses all of it`,
      fix: `--budget ${budget} (or ip link set ${name} mtu ${target.budget + overhead})`,
    }
  const used = target.budget ?? budget
  return {
    name: 'mtu',
    ok: true,
    detail: `mtu ${mtu}: datagrams up to ${used} bytes; larger frames are split into fragments by Shoal`,
  }
}

function readMtu(name: string, env: DoctorEnv): number | undefined {
  const mtu = Number.parseInt(env.readFile(`/sys/class/net/${name}/mtu`) ?? '', 10)
  return Number.isFinite(mtu) && mtu > 0 ? mtu : undefined
}

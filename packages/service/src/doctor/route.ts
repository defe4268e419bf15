/** Which way the kernel's routing table sends the group (or the address) of a target. */
import type { DoctorCheck, DoctorEnv, DoctorTarget } from './types.js'

/** The whole multicast range of each family: the route a multicast host usually lacks. */
const MULTICAST_RANGE = { 4: '224.0.0.0/4', 6: 'ff00::/8' } as const

export async function checkRoute(target: DoctorTarget, env: DoctorEnv): Promise<DoctorCheck> {
  const destination = target.address
  if (destination === undefined)
    return { name: 'route', ok: true, skipped: true, detail: 'listens only: no destination to route' }
  const family = target.family === 6 ? ['-6'] : []
  const result = await env.run('ip', [...family, 'route', 'get', destination])
  if (result.status === 'missing')
    return { name: 'route', ok: true, skipped: true, detail: 'ip (iproute2) is not installed' }
  const name = target.interface?.name
  const ip = target.family === 6 ? 'ip -6' : 'ip'
  if (result.status !== 0) {
    const why = result.stderr.trim().replace(/^RTNETLINK answers:\s*/, '') || `exit ${result.status}`
    const multicast = target.mode === 'multicast'
    return {
      name: 'route',
      ok: false,
      detail: `no route to ${destination} (${why})${multicast ? ': programs that do not name an interface cannot send to the group, and some joins fail' : ''}`,
      ...(name === undefined
        ? {}
        : {
            fix: `${ip} route add ${multicast ? MULTICAST_RANGE[target.family] : destination} dev ${name}`,
          }),
    }
  }
  const device = /\bdev (\S+)/.exec(result.stdout)?.[1]
  if (device === undefined)
    return {
      name: 'route',
      ok: true,
      skipped: true,
      detail: `ip route get printed no device: ${result.stdout.trim()}`,
    }
  if (name === undefined || device === name)
    return { name: 'route', ok: true, detail: `${destination} routes via ${device}` }
  if (target.mode === 'multicast')
    // Shoal names the interface on its sockets (IP_MULTICAST_IF, the join), so its traffic stays on
    // it; a route elsewhere only matters to programs that do not.
    return {
      name: 'route',
      ok: true,
      detail: `${destination} routes via ${device}, not ${name}; Shoal names ${name} on its sockets, so its frames stay there`,
    }
  return {
    name: 'route',
    ok: false,
    detail: `${destination} routes via ${device}, not ${name}`,
    fix: `${ip} route add ${destination} dev ${name}`,
  }
}

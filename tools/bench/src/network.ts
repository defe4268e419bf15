/**
 * The bench's private network: one namespace (via @shoal/netns) holding only `lo`, so no socket a
 * worker opens can reach eth0 or any other real interface. Multicast routes to `lo` (which is
 * flagged MULTICAST), and every Shoal socket is also pinned to 127.0.0.1 by its options; Cyclone
 * DDS is configured for `lo` only (../ddsperf.ts).
 */
import { createNetwork, type Host, type Network } from '@shoal/netns'

export interface BenchNetwork {
  host: Host
  /** The namespace name, for the report. */
  ns: string
  destroy(): Promise<void>
}

export async function openBenchNetwork(): Promise<BenchNetwork> {
  const net: Network = await createNetwork({ hosts: ['bench'], segments: [] })
  try {
    const host = net.host('bench')
    const links = await host.run('ip', ['-o', 'link', 'show'])
    const names = links.stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => line.split(':')[1]?.trim().split('@')[0])
    if (links.code !== 0 || names.length !== 1 || names[0] !== 'lo')
      throw new Error(`the bench namespace must hold only lo; it has: ${names.join(', ') || links.stderr}`)
    const route = await host.run('ip', ['route', 'add', '224.0.0.0/4', 'dev', 'lo'])
    if (route.code !== 0) throw new Error(`ip route add 224.0.0.0/4 dev lo: ${route.stderr.trim()}`)
    // Cyclone DDS (the dds scenario) picks interfaces by their MULTICAST flag, which lo lacks by
    // default; set for every scenario, so that all of them run on the same lo.
    const multicast = await host.run('ip', ['link', 'set', 'lo', 'multicast', 'on'])
    if (multicast.code !== 0) throw new Error(`ip link set lo multicast on: ${multicast.stderr.trim()}`)
    return { host, ns: host.ns, destroy: () => net.destroy() }
  } catch (error) {
    await net.destroy()
    throw error
  }
}

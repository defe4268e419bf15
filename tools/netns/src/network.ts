import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { netnsCapability } from './capability.js'
import {
  removeNamespaces,
  removeNamespacesSync,
  type SyncDestroyable,
  trackForExit,
  untrackForExit,
} from './cleanup.js'
import { NetnsError } from './errors.js'
import { mustRun, sleep } from './exec.js'
import { type Host, type HostOwner, NamespaceHost } from './host.js'
import { addLossRule, ensureLossChain, flushLossRules, type LossTool, lossDrops } from './loss.js'
import { BRIDGE_NAME, hostIfname, hostNsName, newRunId, switchNsName, switchPortName } from './names.js'
import { type NetworkPlan, planNetwork, type SegmentPlan, type Topology } from './topology.js'

export interface Segment {
  readonly name: string
  /** The switch namespace holding the bridge; `ip netns exec <ns> tcpdump -ni br0` watches the wire. */
  readonly ns: string
  readonly bridge: string
  readonly hosts: readonly string[]
  readonly subnet4: string
  readonly subnet6?: string
  readonly mtu?: number
}

export interface LossOptions {
  /** Only on this segment's interface (default: every interface of the host). */
  segment?: string
  proto?: 'udp'
}

export interface Network {
  /** Run id, `shoal-<pid>-<rand>` (or `shoal-cli-<rand>`); every namespace name starts with it. */
  readonly id: string
  readonly hosts: Readonly<Record<string, Host>>
  readonly segments: Readonly<Record<string, Segment>>
  /** Every namespace of this network, hosts first, then switches. */
  readonly namespaces: readonly string[]
  host(name: string): Host
  /**
   * Drops received UDP at random with `probability` (0..1) on the host's interfaces:
   * `iptables -A INPUT -i <if> -p udp -m statistic --mode random --probability P -j DROP`
   * (and ip6tables when the network has ipv6). Rules add up; clearLoss removes them all.
   */
  injectLoss(host: string, probability: number, opts?: LossOptions): Promise<void>
  clearLoss(host: string): Promise<void>
  /** Packets the injected loss has dropped on `host` so far (IPv4 + IPv6). */
  droppedPackets(host: string): Promise<number>
  /** Kills what runs inside and deletes every namespace (their veths go with them). Idempotent. */
  destroy(): Promise<void>
}

export interface CreateOptions {
  /**
   * Leave the network in place when this process exits and name it `shoal-cli-<rand>`, so that
   * cleanupStale() leaves it alone too; remove it with the CLI's `down`. For the CLI; tests never want it.
   */
  persistent?: boolean
  /** Limit for the network to come up (links up, addresses usable). Default 10 s. */
  readyTimeoutMs?: number
}

const DEFAULT_READY_TIMEOUT_MS = 10_000
const READY_POLL_MS = 10
const CHILD_EXIT_WAIT_MS = 2_000

class NamespaceNetwork implements Network, HostOwner, SyncDestroyable {
  readonly id: string
  readonly hosts: Record<string, Host> = {}
  readonly segments: Record<string, Segment> = {}
  readonly namespaces: string[] = []
  readonly plan: NetworkPlan
  destroyed = false
  readonly #children = new Set<ChildProcessWithoutNullStreams>()
  readonly #lossChains = new Set<string>()
  #destroying: Promise<void> | undefined

  constructor(id: string, plan: NetworkPlan) {
    this.id = id
    this.plan = plan
    for (const host of plan.hosts) {
      const ns = hostNsName(id, host.name)
      this.namespaces.push(ns)
      this.hosts[host.name] = new NamespaceHost(host.name, ns, host.ifaces, this)
    }
    for (const segment of plan.segments) {
      const ns = switchNsName(id, segment.name)
      this.namespaces.push(ns)
      this.segments[segment.name] = Object.freeze({
        name: segment.name,
        ns,
        bridge: BRIDGE_NAME,
        hosts: Object.freeze([...segment.hosts]),
        subnet4: segment.subnet4,
        ...(segment.subnet6 === undefined ? {} : { subnet6: segment.subnet6 }),
        ...(segment.mtu === undefined ? {} : { mtu: segment.mtu }),
      })
    }
  }

  host(name: string): Host {
    const host = this.hosts[name]
    if (!host) {
      throw new NetnsError(`no host ${JSON.stringify(name)} (hosts: ${Object.keys(this.hosts).join(', ')})`, {
        code: 'NETNS_UNKNOWN_HOST',
      })
    }
    return host
  }

  adopt(child: ChildProcessWithoutNullStreams): void {
    this.#children.add(child)
    child.once('exit', () => this.#children.delete(child))
  }

  #tools(): LossTool[] {
    return this.plan.ipv6 ? ['iptables', 'ip6tables'] : ['iptables']
  }

  #alive(): void {
    if (this.destroyed)
      throw new NetnsError(`network ${this.id} has been destroyed`, { code: 'NETNS_DESTROYED' })
  }

  async injectLoss(hostName: string, probability: number, opts: LossOptions = {}): Promise<void> {
    this.#alive()
    const host = this.host(hostName)
    if (!Number.isFinite(probability) || probability < 0 || probability > 1) {
      throw new RangeError(`loss probability must be a number in 0..1, got ${probability}`)
    }
    if (opts.proto !== undefined && opts.proto !== 'udp') {
      throw new RangeError(`loss proto must be 'udp', got ${JSON.stringify(opts.proto)}`)
    }
    const ifnames = opts.segment === undefined ? host.ifaces.map((i) => i.name) : [host.ifname(opts.segment)]
    for (const tool of this.#tools()) {
      const key = `${host.ns}/${tool}`
      if (!this.#lossChains.has(key)) {
        await ensureLossChain(host.ns, tool)
        this.#lossChains.add(key)
      }
      for (const ifname of ifnames) await addLossRule(host.ns, tool, ifname, probability)
    }
  }

  async clearLoss(hostName: string): Promise<void> {
    this.#alive()
    const host = this.host(hostName)
    for (const tool of this.#tools()) {
      if (this.#lossChains.has(`${host.ns}/${tool}`)) await flushLossRules(host.ns, tool)
    }
  }

  async droppedPackets(hostName: string): Promise<number> {
    this.#alive()
    const host = this.host(hostName)
    let total = 0
    for (const tool of this.#tools()) {
      if (this.#lossChains.has(`${host.ns}/${tool}`)) total += await lossDrops(host.ns, tool)
    }
    return total
  }

  destroy(): Promise<void> {
    this.#destroying ??= this.#teardown()
    return this.#destroying
  }

  async #teardown(): Promise<void> {
    this.destroyed = true
    const exits = [...this.#children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          const timer = setTimeout(resolve, CHILD_EXIT_WAIT_MS)
          child.once('exit', () => {
            clearTimeout(timer)
            resolve()
          })
          child.kill('SIGKILL')
        }),
    )
    await Promise.all(exits)
    await removeNamespaces(this.namespaces)
    untrackForExit(this)
  }

  /** For the exit hook: the process is going away, so no waiting for children to exit. */
  destroySync(): void {
    this.destroyed = true
    for (const child of this.#children) child.kill('SIGKILL')
    removeNamespacesSync(this.namespaces)
  }
}

function ip(ns: string, ...args: string[]): Promise<string> {
  return mustRun('ip', ['-n', ns, ...args])
}

function sysctl(ns: string, ...settings: string[]): Promise<string> {
  return mustRun('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', ...settings])
}

function mtuArgs(segment: SegmentPlan): string[] {
  return segment.mtu === undefined ? [] : ['mtu', String(segment.mtu)]
}

async function buildSwitch(net: NamespaceNetwork, segment: SegmentPlan): Promise<void> {
  const ns = switchNsName(net.id, segment.name)
  await mustRun('ip', ['netns', 'add', ns])
  // The switch is pure L2: no IPv6 stack on its ports means no router solicitations or MLD reports of
  // its own on the segment.
  await sysctl(ns, 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1')
  // mcast_snooping 0: flood every multicast frame to every port, whatever IGMP/MLD says; with snooping
  // on, the bridge forwards a group only to ports it has seen a report on, which makes tests depend on
  // report timing. stp off and forward_delay 0: ports forward as soon as they are up.
  await ip(
    ns,
    'link',
    'add',
    BRIDGE_NAME,
    ...mtuArgs(segment),
    'type',
    'bridge',
    'mcast_snooping',
    '0',
    'stp_state',
    '0',
    'forward_delay',
    '0',
  )
  await ip(ns, 'link', 'set', BRIDGE_NAME, 'up')
}

async function buildHostNamespace(net: NamespaceNetwork, hostName: string): Promise<void> {
  const ns = hostNsName(net.id, hostName)
  await mustRun('ip', ['netns', 'add', ns])
  // Before any interface exists, so the `default` values apply to the veths made next:
  // accept_dad=0 makes IPv6 addresses (link-local too) usable at once instead of tentative for ~1 s;
  // rp_filter=0 because a new namespace inherits the root's IPv4 settings, which vary between machines.
  await sysctl(
    ns,
    'net.ipv6.conf.all.accept_dad=0',
    'net.ipv6.conf.default.accept_dad=0',
    'net.ipv4.conf.all.rp_filter=0',
    'net.ipv4.conf.default.rp_filter=0',
  )
  await ip(ns, 'link', 'set', 'lo', 'up')
}

async function wire(net: NamespaceNetwork, segment: SegmentPlan, hostName: string): Promise<void> {
  const hostNs = hostNsName(net.id, hostName)
  const swNs = switchNsName(net.id, segment.name)
  const ifname = hostIfname(segment.name)
  const port = switchPortName(hostName)
  const mtu = mtuArgs(segment)
  // Created from inside the host namespace with the peer placed straight into the switch namespace:
  // no interface ever appears in the root namespace.
  await ip(hostNs, 'link', 'add', ifname, ...mtu, 'type', 'veth', 'peer', 'name', port, ...mtu, 'netns', swNs)
  await ip(swNs, 'link', 'set', port, 'master', BRIDGE_NAME, 'up')
  await ip(hostNs, 'link', 'set', ifname, 'up')
}

async function addressHost(net: NamespaceNetwork, hostName: string): Promise<void> {
  const host = net.hosts[hostName]!
  for (const iface of host.ifaces) {
    await ip(
      host.ns,
      'addr',
      'add',
      `${iface.ipv4}/${iface.prefix4}`,
      'broadcast',
      iface.broadcast4,
      'dev',
      iface.name,
    )
    if (iface.ipv6 !== undefined) {
      await ip(host.ns, '-6', 'addr', 'add', `${iface.ipv6}/${iface.prefix6}`, 'dev', iface.name, 'nodad')
    }
  }
  const first = host.ifaces[0]
  if (!first) return
  // There is no default route on purpose (nothing here may look like a way out). So that sockets that
  // name no interface behave as on a LAN host, the first segment's veth carries:
  // - 224.0.0.0/4: without it sending to a group fails with ENETUNREACH;
  // - 255.255.255.255/32: without it limited broadcast fails with ENETUNREACH unless the socket is
  //   bound to a unicast address;
  // - ff00::/8 in the local table at metric 1: the kernel adds ff00::/8 for every interface at metric
  //   256 and otherwise picks whichever came up last, which varies from run to run on relay hosts.
  await ip(host.ns, 'route', 'add', '224.0.0.0/4', 'dev', first.name)
  await ip(host.ns, 'route', 'add', '255.255.255.255/32', 'dev', first.name)
  if (net.plan.ipv6) {
    await ip(
      host.ns,
      '-6',
      'route',
      'add',
      'multicast',
      'ff00::/8',
      'dev',
      first.name,
      'table',
      'local',
      'metric',
      '1',
    )
  }
}

interface IpAddrJson {
  ifname: string
  operstate?: string
  addr_info?: Array<{ family?: string; local?: string; tentative?: boolean }>
}

interface IpLinkJson {
  ifname: string
  operstate?: string
  linkinfo?: { info_slave_data?: { state?: string } }
}

/** Why `ns` is not ready yet, or undefined when it is. */
async function hostNotReady(net: NamespaceNetwork, hostName: string): Promise<string | undefined> {
  const host = net.hosts[hostName]!
  const links = JSON.parse(await ip(host.ns, '-j', 'addr', 'show')) as IpAddrJson[]
  for (const iface of host.ifaces) {
    const link = links.find((l) => l.ifname === iface.name)
    if (!link) return `${host.ns}: ${iface.name} missing`
    if (link.operstate !== 'UP') return `${host.ns}: ${iface.name} is ${link.operstate}`
  }
  for (const link of links) {
    const tentative = link.addr_info?.find((a) => a.tentative === true)
    if (tentative) return `${host.ns}: ${tentative.local} on ${link.ifname} is tentative`
  }
  return undefined
}

async function switchNotReady(net: NamespaceNetwork, segment: SegmentPlan): Promise<string | undefined> {
  const ns = switchNsName(net.id, segment.name)
  const ports = JSON.parse(await ip(ns, '-j', '-d', 'link', 'show', 'master', BRIDGE_NAME)) as IpLinkJson[]
  for (const hostName of segment.hosts) {
    const port = ports.find((p) => p.ifname === switchPortName(hostName))
    const state = port?.linkinfo?.info_slave_data?.state
    if (state !== 'forwarding') return `${ns}: port ${switchPortName(hostName)} is ${state ?? 'missing'}`
  }
  return undefined
}

async function waitReady(net: NamespaceNetwork, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const reasons = await Promise.all([
      ...net.plan.hosts.map((h) => hostNotReady(net, h.name)),
      ...net.plan.segments.map((s) => switchNotReady(net, s)),
    ])
    const waiting = reasons.filter((r) => r !== undefined)
    if (waiting.length === 0) return
    if (Date.now() >= deadline) {
      throw new NetnsError(`network ${net.id} not ready after ${timeoutMs} ms: ${waiting.join('; ')}`, {
        code: 'NETNS_TIMEOUT',
      })
    }
    await sleep(READY_POLL_MS)
  }
}

/**
 * Builds a private network: one namespace per host, one switch namespace with a bridge per segment,
 * a veth from each host to each of its segments, addresses from {@link planNetwork}, a 224.0.0.0/4
 * route on each host's first interface. Nothing is created in, or routed through, the root namespace.
 * The network is destroyed on process exit or SIGINT/SIGTERM/SIGHUP if destroy() was not called.
 */
export async function createNetwork(topology: Topology, options: CreateOptions = {}): Promise<Network> {
  const plan = planNetwork(topology)
  const capability = netnsCapability()
  if (!capability.ok) {
    throw new NetnsError(`cannot create a test network: ${capability.reason}`, { code: 'NETNS_UNAVAILABLE' })
  }
  const net = new NamespaceNetwork(newRunId(options.persistent === true ? 'cli' : process.pid), plan)
  if (options.persistent !== true) trackForExit(net)
  try {
    await Promise.all([
      ...plan.hosts.map((h) => buildHostNamespace(net, h.name)),
      ...plan.segments.map((s) => buildSwitch(net, s)),
    ])
    await Promise.all(plan.segments.flatMap((s) => s.hosts.map((h) => wire(net, s, h))))
    await Promise.all(plan.hosts.map((h) => addressHost(net, h.name)))
    await waitReady(net, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS)
  } catch (error) {
    await net.destroy()
    throw error
  }
  return net
}

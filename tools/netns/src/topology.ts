import { NetnsError } from './errors.js'
import { hostIfname, NAME_PATTERN } from './names.js'

/** An L2 segment: one bridge in its own switch namespace, one veth to each listed host. */
export interface SegmentSpec {
  name: string
  hosts: string[]
  /** MTU of the bridge and of every veth on the segment (default 1500). */
  mtu?: number
}

export interface HostSpec {
  name: string
}

export interface Topology {
  /** Host names (or `{ name }`), in the order that numbers them. */
  hosts: Array<string | HostSpec>
  segments: SegmentSpec[]
  /** Also give every interface an fd77:<segment>::<host>/64 address (default false). */
  ipv6?: boolean
}

export interface IfacePlan {
  /** Interface name inside the host namespace, `v-<segment>`. */
  name: string
  segment: string
  ipv4: string
  prefix4: number
  broadcast4: string
  ipv6?: string
  prefix6?: number
}

export interface HostPlan {
  name: string
  /** 1-based; the last octet (and last IPv6 group) of every address of this host. */
  number: number
  ifaces: IfacePlan[]
}

export interface SegmentPlan {
  name: string
  /** 1-based; the third octet (and second IPv6 group) of every address on this segment. */
  number: number
  hosts: string[]
  subnet4: string
  subnet6?: string
  mtu?: number
}

export interface NetworkPlan {
  hosts: HostPlan[]
  segments: SegmentPlan[]
  ipv6: boolean
}

export const PREFIX4 = 24
export const PREFIX6 = 64
const MAX_HOSTS = 254
const MAX_SEGMENTS = 254
const MIN_MTU4 = 576
const MIN_MTU6 = 1280
const MAX_MTU = 65_535

function bad(message: string): NetnsError {
  return new NetnsError(`bad topology: ${message}`, { code: 'NETNS_BAD_TOPOLOGY' })
}

function checkName(kind: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw bad(`${kind} name ${JSON.stringify(name)} must match ${NAME_PATTERN} (1-8 chars, a-z then a-z0-9)`)
  }
  return name
}

/**
 * Validates a topology and assigns addresses. Pure: the same topology always gives the same plan.
 *
 * Segment number s (1-based, in order) gets 10.77.s.0/24 and fd77:s::/64; host number h (1-based, in
 * order of `topology.hosts`) is .h / ::h on every segment it is on. The IPv6 groups are written with the
 * same decimal digits as the IPv4 octets (segment 12, host 3: 10.77.12.3 and fd77:12::3) so the two
 * read alike; as hex groups they are still unique. Every network lives in its own
 * namespaces, so concurrent networks reuse the same addresses without meeting.
 */
export function planNetwork(topology: Topology): NetworkPlan {
  if (!Array.isArray(topology.hosts) || topology.hosts.length === 0)
    throw bad('hosts must be a non-empty array')
  if (!Array.isArray(topology.segments)) throw bad('segments must be an array')
  if (topology.hosts.length > MAX_HOSTS) throw bad(`at most ${MAX_HOSTS} hosts, got ${topology.hosts.length}`)
  if (topology.segments.length > MAX_SEGMENTS) {
    throw bad(`at most ${MAX_SEGMENTS} segments, got ${topology.segments.length}`)
  }
  const ipv6 = topology.ipv6 === true

  const hosts = new Map<string, HostPlan>()
  topology.hosts.forEach((raw, index) => {
    const name = checkName('host', typeof raw === 'string' ? raw : raw?.name)
    if (hosts.has(name)) throw bad(`host ${JSON.stringify(name)} is listed twice`)
    hosts.set(name, { name, number: index + 1, ifaces: [] })
  })

  const segments: SegmentPlan[] = []
  const seen = new Set<string>()
  topology.segments.forEach((spec, index) => {
    const name = checkName('segment', spec.name)
    if (seen.has(name)) throw bad(`segment ${JSON.stringify(name)} is listed twice`)
    seen.add(name)
    if (!Array.isArray(spec.hosts) || spec.hosts.length === 0) {
      throw bad(`segment ${JSON.stringify(name)} needs at least one host`)
    }
    if (spec.mtu !== undefined) {
      const min = ipv6 ? MIN_MTU6 : MIN_MTU4
      if (!Number.isInteger(spec.mtu) || spec.mtu < min || spec.mtu > MAX_MTU) {
        throw bad(`segment ${JSON.stringify(name)} mtu ${spec.mtu} must be an integer in ${min}..${MAX_MTU}`)
      }
    }
    const number = index + 1
    const members = new Set<string>()
    for (const hostName of spec.hosts) {
      const host = hosts.get(hostName)
      if (!host) {
        throw bad(
          `segment ${JSON.stringify(name)} names host ${JSON.stringify(hostName)}, which is not in hosts`,
        )
      }
      if (members.has(hostName))
        throw bad(`segment ${JSON.stringify(name)} lists host ${JSON.stringify(hostName)} twice`)
      members.add(hostName)
      const iface: IfacePlan = {
        name: hostIfname(name),
        segment: name,
        ipv4: `10.77.${number}.${host.number}`,
        prefix4: PREFIX4,
        broadcast4: `10.77.${number}.255`,
      }
      if (ipv6) {
        iface.ipv6 = `fd77:${number}::${host.number}`
        iface.prefix6 = PREFIX6
      }
      host.ifaces.push(iface)
    }
    const segment: SegmentPlan = {
      name,
      number,
      hosts: [...spec.hosts],
      subnet4: `10.77.${number}.0/${PREFIX4}`,
    }
    if (ipv6) segment.subnet6 = `fd77:${number}::/${PREFIX6}`
    if (spec.mtu !== undefined) segment.mtu = spec.mtu
    segments.push(segment)
  })

  return { hosts: [...hosts.values()], segments, ipv6 }
}

/**
 * A subscriber's socket: bound where it sees only its traffic, the groups joined (any-source or
 * source-specific) on the chosen interface, or broadcast on. Leaving undoes the joins.
 */
import type { Socket } from 'node:dgram'
import { transportError } from '../errors.js'
import { type ResolvedEndpoint, WILDCARD } from './endpoint.js'
import { closeSocket, openSocket, type RecvBufferInfo, sizeRecvBuffer } from './socket.js'

export interface MembershipOptions {
  readonly reuseAddr: boolean
  readonly recvBufferBytes: number
  /** TTL of the unicast datagrams the socket sends (acks, NACKs, replies); the kernel's when undefined. */
  readonly ttl: number | undefined
}

export interface Membership {
  readonly socket: Socket
  readonly recvBuffer: RecvBufferInfo
  /** One function per group joined, each leaving it. */
  readonly leave: Array<() => void>
}

export async function openMembership(
  endpoint: ResolvedEndpoint,
  options: MembershipOptions,
): Promise<Membership> {
  const { family, mode, iface } = endpoint
  // One group: bind the group address, so this socket sees only that group's traffic.
  // Several groups (or IPv6, whose link-scope groups need a zone to bind): the wildcard.
  const bindAddress =
    mode === 'multicast'
      ? family === 4 && endpoint.groups.length === 1
        ? endpoint.groups[0]!
        : WILDCARD[family]
      : mode === 'unicast' && iface !== undefined
        ? iface.address
        : WILDCARD[family]
  const socket = await openSocket({
    family,
    address: bindAddress,
    port: endpoint.port,
    reuseAddr: options.reuseAddr,
  })
  const recvBuffer = sizeRecvBuffer(socket, options.recvBufferBytes)
  const leave: Array<() => void> = []
  try {
    if (mode === 'multicast') {
      for (const group of endpoint.groups) {
        if (endpoint.source !== undefined) {
          socket.addSourceSpecificMembership(endpoint.source, group, iface!.multicastInterface)
          leave.push(() =>
            socket.dropSourceSpecificMembership(endpoint.source!, group, iface!.multicastInterface),
          )
        } else {
          socket.addMembership(group, iface!.multicastInterface)
          leave.push(() => socket.dropMembership(group, iface!.multicastInterface))
        }
      }
      // Acks and NACKs leave by the same interface the group was joined on.
      socket.setMulticastInterface(iface!.multicastInterface)
    } else if (mode === 'broadcast') {
      socket.setBroadcast(true)
    }
    if (options.ttl !== undefined) socket.setTTL(Math.max(1, options.ttl))
  } catch (error) {
    await closeSocket(socket)
    throw transportError(
      'SHOAL_SOCKET',
      `cannot join ${endpoint.groups.join(', ')} on ${iface?.name}: ${(error as Error).message}`,
      error,
    )
  }
  return { socket, recvBuffer, leave }
}

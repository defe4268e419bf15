/** The raw baseline's receive socket: what a program with a bare `node:dgram` socket would do. */
import type { Socket } from 'node:dgram'
import { DEFAULT_RECV_BUFFER_BYTES } from '@shoal/transport'

/**
 * Binds `group:port`, joins the group on `iface` and asks for the same receive buffer a Shoal
 * subscriber asks for, so both get what the kernel grants (net.core.rmem_max). Returns the usable
 * buffer size (the kernel reports double).
 */
export async function openRawReceiver(
  socket: Socket,
  group: string,
  port: number,
  iface: string,
): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind({ address: group, port, exclusive: false }, () => {
      socket.off('error', reject)
      resolve()
    })
  })
  socket.addMembership(group, iface)
  socket.setRecvBufferSize(DEFAULT_RECV_BUFFER_BYTES)
  return Math.floor(socket.getRecvBufferSize() / 2)
}

/** A sending socket on `iface`, multicast pinned to it, TTL 1, loopback on (the receiver is local). */
export async function openRawSender(socket: Socket, iface: string, port = 0): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind({ address: iface, port, exclusive: false }, () => {
      socket.off('error', reject)
      resolve()
    })
  })
  socket.setMulticastInterface(iface)
  socket.setMulticastTTL(1)
  socket.setMulticastLoopback(true)
}

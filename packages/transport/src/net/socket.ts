/** The node:dgram edge: the only module that creates sockets. Buffer lives here, not in the codec. */
import { createSocket, type Socket, type SocketOptions } from 'node:dgram'
import { type LookupOneOptions, lookup } from 'node:dns'
import { isIP } from 'node:net'
import { transportError } from '../errors.js'
import type { Family } from './address.js'

export type Mode = 'multicast' | 'broadcast' | 'unicast'

/** Default receive buffer asked of the kernel; it grants at most net.core.rmem_max. */
export const DEFAULT_RECV_BUFFER_BYTES = 8 * 1024 * 1024

export interface BindOptions {
  family: Family
  address: string
  port: number
  reuseAddr: boolean
}

/**
 * node:dgram resolves the destination of every send on an unconnected socket with `dns.lookup`,
 * which answers an IP literal on the next tick: each send then waits for a tick and allocates a
 * closure. Shoal only sends to literals, so they are answered at once; a name still goes to DNS.
 * Measured with a receiver on loopback: 10 % more datagrams per second (201 k → 222 k).
 */
export function literalLookup(
  address: string,
  options: LookupOneOptions | number,
  callback: (error: Error | null, address: string, family: number) => void,
): void {
  const family = isIP(address)
  if (family !== 0) callback(null, address, family)
  else lookup(address, typeof options === 'number' ? { family: options } : options, callback)
}

export async function openSocket(options: BindOptions): Promise<Socket> {
  const socket = createSocket({
    type: options.family === 4 ? 'udp4' : 'udp6',
    reuseAddr: options.reuseAddr,
    lookup: literalLookup as SocketOptions['lookup'],
  })
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      socket.close()
      reject(
        transportError(
          'SHOAL_SOCKET',
          `cannot bind ${options.address} port ${options.port}: ${error.message}`,
          error,
        ),
      )
    }
    socket.once('error', onError)
    socket.bind({ address: options.address, port: options.port, exclusive: false }, () => {
      socket.off('error', onError)
      resolve()
    })
  })
  return socket
}

export interface RecvBufferInfo {
  requested: number
  /** What the kernel granted (it reports double the usable size; this is the usable size). */
  granted: number
  clamped: boolean
}

/** Asks for a receive buffer of `bytes`; reports what the kernel granted. */
export function sizeRecvBuffer(socket: Socket, bytes: number): RecvBufferInfo {
  try {
    socket.setRecvBufferSize(bytes)
  } catch {
    // The kernel refused the size outright; report what the socket has.
  }
  // Linux doubles the value for bookkeeping overhead and reports the doubled figure.
  const granted = Math.floor(socket.getRecvBufferSize() / 2)
  return { requested: bytes, granted, clamped: granted < bytes }
}

/** Connects a UDP socket to `address:port`: it then sends there without a per-send lookup. */
export function connectSocket(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.connect(port, address, (error?: Error) => (error ? reject(error) : resolve()))
  })
}

export function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve())
    } catch {
      resolve() // already closed
    }
  })
}

/** The node:dgram edge: the only module that creates sockets. Buffer lives here, not in the codec. */
import { createSocket, type Socket } from 'node:dgram'
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

export async function openSocket(options: BindOptions): Promise<Socket> {
  const socket = createSocket({ type: options.family === 4 ? 'udp4' : 'udp6', reuseAddr: options.reuseAddr })
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

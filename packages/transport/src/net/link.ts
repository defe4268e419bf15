/**
 * The datagram link under a publisher: where its datagrams go and where the control frames
 * (ACK, NACK, STATUS) and plain replies come back from. The engines above it (`send/`) talk to this
 * interface only, so that they run on a fake link in unit tests and a second transport is a second
 * implementation, not a branch in every method (Aeron `driver/media/`, LCM's one provider per file).
 * `UdpLink` is the `node:dgram` one.
 */
import type { Socket } from 'node:dgram'
import { transportError } from '../errors.js'
import type { ResolvedEndpoint } from './endpoint.js'
import { WILDCARD } from './endpoint.js'
import { socketInode } from './kernel-drops.js'
import {
  closeSocket,
  connectSocket,
  DEFAULT_RECV_BUFFER_BYTES,
  openSocket,
  sizeRecvBuffer,
} from './socket.js'

/** One datagram: whole, or gathered from parts in one sendmsg (fragments: no copy of the message). */
export type Datagram = Uint8Array | readonly Uint8Array[]
/** The bytes a datagram puts on the wire: its parts together (a fragment's head, body and CRC). */
export function datagramLength(datagram: Datagram): number {
  if (datagram instanceof Uint8Array) return datagram.length
  let length = 0
  for (const part of datagram) length += part.length
  return length
}

/** A send's completion: null once the kernel has the datagram. */
export type SendDone = (error: Error | null) => void

export interface DatagramLink {
  /** Where datagrams go, for messages and stats: `address:port`. */
  readonly destination: { address: string; port: number }
  /** The local address and port control frames come back to. */
  readonly local: { address: string; port: number }
  /** The receiving socket's inode, for its kernel drop counter (undefined off Linux or on a fake). */
  readonly inode: string | undefined
  /** Sends one datagram to the destination; `done` is always called. */
  send(datagram: Datagram, done: SendDone): void
  /** Every datagram that arrives (control frames, plain replies). */
  onDatagram(handler: (data: Buffer, address: string, port: number) => void): void
  /** Socket errors that are no send's (a send's failure goes to its `done`). */
  onError(handler: (error: Error) => void): void
  close(): Promise<void>
}

export interface UdpLinkOptions {
  endpoint: ResolvedEndpoint
  ttl: number
  loopback: boolean
  localPort: number
}

/**
 * Multicast and broadcast publishers on Linux send from a second socket, bound to the same address
 * and port and connected to the destination: the kernel then skips its per-datagram route lookup,
 * and node:dgram its per-send address check. Measured with a receiver on loopback: 8 % more
 * datagrams per second than an unconnected socket (222 k → 240 k; both with a send callback). A
 * connected UDP socket only receives from its peer, so the first socket stays unconnected and
 * receives acks and replies (Linux gives a unicast datagram to the socket that matches it best: the
 * connected one never matches a receiver). Unicast publishers do not connect: a connected socket
 * would turn a peer that is not listening yet (ICMP port unreachable) into failed sends.
 */
const CONNECTED_SENDS = process.platform === 'linux'

export class UdpLink implements DatagramLink {
  readonly destination: { address: string; port: number }
  readonly local: { address: string; port: number }
  readonly inode: string | undefined
  /** Receives acks and replies; sends too, unless there is a connected `#sender`. */
  readonly #socket: Socket
  readonly #sender: Socket
  /** The destination port for unconnected sends; undefined when `#sender` is connected. */
  readonly #port: number | undefined

  private constructor(socket: Socket, sender: Socket | undefined, address: string, port: number) {
    this.#socket = socket
    this.#sender = sender ?? socket
    this.#port = sender === undefined ? port : undefined
    this.destination = { address, port }
    const local = socket.address()
    this.local = { address: local.address, port: local.port }
    this.inode = socketInode(socket)
  }

  /** Opens the sockets of a publisher to `endpoint`; rejects with a `SHOAL_SOCKET` error. */
  static async open({ endpoint, ttl, loopback, localPort }: UdpLinkOptions): Promise<UdpLink> {
    const bindAddress =
      endpoint.family === 4 && endpoint.iface !== undefined
        ? endpoint.iface.address
        : WILDCARD[endpoint.family]
    const socket = await openSocket({
      family: endpoint.family,
      address: bindAddress,
      port: localPort,
      reuseAddr: true,
    })
    // ACKs, NACKs and STATUS come back to this socket while the publisher is busy sending.
    sizeRecvBuffer(socket, DEFAULT_RECV_BUFFER_BYTES)
    const configure = (s: Socket) => {
      if (endpoint.mode === 'multicast') {
        s.setMulticastInterface(endpoint.iface!.multicastInterface)
        s.setMulticastTTL(ttl)
        s.setMulticastLoopback(loopback)
      } else {
        if (endpoint.mode === 'broadcast') s.setBroadcast(true)
        s.setTTL(Math.max(ttl, 1))
      }
    }
    const destination = endpoint.mode === 'multicast' ? endpoint.groups[0]! : endpoint.address!
    let sender: Socket | undefined
    try {
      configure(socket)
      if (CONNECTED_SENDS && endpoint.mode !== 'unicast') {
        // See CONNECTED_SENDS: a second socket on the same address and port, connected to the
        // destination, sends; the first one keeps receiving acks and replies from anyone.
        sender = await openSocket({
          family: endpoint.family,
          address: bindAddress,
          port: socket.address().port,
          reuseAddr: true,
        })
        configure(sender)
        try {
          await connectSocket(sender, endpoint.port, destination)
        } catch {
          // No route to the destination yet (e.g. the interface is down): send unconnected, so
          // that sends fail and are counted one by one, and succeed once the route is there.
          await closeSocket(sender)
          sender = undefined
        }
      }
    } catch (error) {
      await closeSocket(socket)
      if (sender !== undefined) await closeSocket(sender)
      throw transportError('SHOAL_SOCKET', `cannot configure the socket: ${(error as Error).message}`, error)
    }
    return new UdpLink(socket, sender, destination, endpoint.port)
  }

  send(datagram: Datagram, done: SendDone): void {
    if (this.#port === undefined) this.#sender.send(datagram, done)
    else this.#sender.send(datagram, this.#port, this.destination.address, done)
  }

  onDatagram(handler: (data: Buffer, address: string, port: number) => void): void {
    this.#socket.on('message', (data, rinfo) => handler(data, rinfo.address, rinfo.port))
  }

  onError(handler: (error: Error) => void): void {
    this.#socket.on('error', handler)
    if (this.#sender !== this.#socket) this.#sender.on('error', handler)
  }

  async close(): Promise<void> {
    await closeSocket(this.#socket)
    if (this.#sender !== this.#socket) await closeSocket(this.#sender)
  }
}

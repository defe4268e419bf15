/**
 * Subscriber: joins a group (or listens for broadcast/unicast), checks and reassembles frames,
 * decodes messages, accounts for loss per (source, topic), and answers ack requests.
 * A bad datagram never throws: it is counted by reason and reported as a `'warning'` event. Every
 * datagram read ends in exactly one outcome (`stats().outcomes`), and every table a stranger's
 * datagrams can grow is bounded (WIRE.md “Security”).
 */

import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:dgram'
import { EventEmitter, on } from 'node:events'
import { hostname } from 'node:os'
import { checkTtl } from './net/address.js'
import { resolveEndpoint } from './net/endpoint.js'
import { budgetForMtu } from './net/interface.js'
import { readKernelDrops, socketInode } from './net/kernel-drops.js'
import { openMembership } from './net/membership.js'
import { closeSocket, DEFAULT_RECV_BUFFER_BYTES } from './net/socket.js'
import { ReceiveEngine } from './receive/engine.js'
import {
  checkLimits,
  checkRepairTiming,
  type ReceivedFrame,
  type SubscriberInfo,
  type SubscriberOptions,
} from './receive/options.js'
import type { Keyring } from './seal/keyring.js'
import type { DatagramOutcome, StatsSnapshot } from './stats.js'

export { DEFAULT_QUEUE_LIMIT, MAX_HELD_BYTES, MAX_HELD_FRAMES, ORDER_HOLD_MS } from './receive/delivery.js'
export type {
  ForwardDatagram,
  FrameSource,
  RawDatagram,
  ReceivedFrame,
  SchemaVerifier,
  SubscriberInfo,
  SubscriberOptions,
  TransportWarning,
} from './receive/options.js'

/** How often partial messages are checked for expiry, and idle streams let go, ms. */
export const SWEEP_INTERVAL_MS = 250
/** The kernel's drop count is read again at most this often, ms. */
export const KERNEL_DROPS_INTERVAL_MS = 250

export class Subscriber extends EventEmitter {
  readonly info: SubscriberInfo
  readonly #socket: Socket
  /** Everything done with the datagrams read (see `receive/engine.ts`). */
  readonly #engine: ReceiveEngine
  readonly #sweeper: NodeJS.Timeout
  /** The socket's inode, for its kernel drop counter; undefined where there is none. */
  readonly #inode: string | undefined
  #kernelDrops: number | undefined
  #kernelDropsAt = Number.NEGATIVE_INFINITY
  #closed = false
  /** Datagrams sent with reply(), and their bytes. */
  readonly #replied = { datagrams: 0, bytes: 0 }
  #leave: Array<() => void> = []

  private constructor(socket: Socket, options: SubscriberOptions, info: SubscriberInfo) {
    super()
    this.#socket = socket
    this.info = info
    // Random per subscriber start; sent in acks and NACKs so a restarted receiver is told apart.
    const sessionId = randomBytes(4).readUInt32BE(0)
    this.#engine = new ReceiveEngine(options, info, sessionId, {
      emit: (event, payload) => this.emit(event, payload),
      listenerCount: (event) => this.listenerCount(event),
      send: (datagram, to, done) =>
        socket.send(datagram, to.port, to.address, (error) => done(error ?? null)),
    })
    this.#inode = socketInode(socket)
    this.#sweeper = setInterval(() => {
      for (const event of this.#engine.sweep(performance.now())) this.emit('source', event)
    }, SWEEP_INTERVAL_MS)
    this.#sweeper.unref()
    socket.on('message', (data, rinfo) => this.#engine.receive(data, rinfo.address, rinfo.port))
    socket.on('error', (error) => this.#engine.warn({ reason: 'socket-error', detail: error.message }))
  }

  static async create(options: SubscriberOptions): Promise<Subscriber> {
    const endpoint = resolveEndpoint(options, 'subscriber')
    if (typeof options.repair === 'object') checkRepairTiming(options.repair)
    checkLimits(options)
    const ttl = options.ttl === undefined ? undefined : checkTtl(options.ttl)
    const { family, mode, iface } = endpoint
    const { socket, recvBuffer, leave } = await openMembership(endpoint, {
      reuseAddr: options.reuseAddr ?? true,
      recvBufferBytes: options.recvBufferBytes ?? DEFAULT_RECV_BUFFER_BYTES,
      ttl,
    })
    const bound = socket.address()
    const info: SubscriberInfo = {
      mode,
      family,
      groups: endpoint.groups,
      source: endpoint.source,
      port: endpoint.port,
      interface: iface?.name,
      interfaceAddress: iface?.address,
      bound: { address: bound.address, port: bound.port },
      recvBuffer,
      name: options.name ?? `${hostname()}:${process.pid}`,
      budget: budgetForMtu(iface?.mtu, family),
    }
    const subscriber = new Subscriber(socket, options, info)
    subscriber.#leave = leave
    return subscriber
  }

  /** Frames as they arrive. Ends when the subscriber closes. */
  async *[Symbol.asyncIterator](): AsyncIterator<ReceivedFrame> {
    const engine = this.#engine.delivery
    engine.iterating++
    const ac = new AbortController()
    const onClose = () => ac.abort()
    this.once('close', onClose)
    try {
      for await (const [frame] of on(this, 'frame', { signal: ac.signal })) {
        engine.queued--
        engine.queuedBytes -= (frame as ReceivedFrame).payload.length
        yield frame as ReceivedFrame
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error
    } finally {
      this.off('close', onClose)
      engine.iterating--
    }
  }

  /**
   * Counters now. `received` lists the streams tracked; `streams.retired` adds up those let go.
   * `outcomes` says where every datagram read went (they add up to `datagramsIn`); `kernelDrops` is
   * what the kernel dropped before this subscriber could read it (Linux).
   */
  /**
   * A re-read key file: opens with every id in `keyring`, seals its control frames with the
   * highest (rotation without loss). Only for a subscriber created with `seal`.
   */
  setKeyring(keyring: Keyring): void {
    this.#engine.setKeyring(keyring)
  }

  stats(): StatsSnapshot {
    const snapshot = this.#engine.snapshot()
    snapshot.datagramsOut += this.#replied.datagrams
    snapshot.bytesOut += this.#replied.bytes
    const kernelDrops = this.kernelDrops()
    if (kernelDrops !== undefined) snapshot.kernelDrops = kernelDrops
    return snapshot
  }

  /**
   * Datagrams the kernel dropped for this subscriber's socket because its receive buffer was full
   * (`/proc/net/udp` drops); undefined where the system does not say.
   */
  kernelDrops(): number | undefined {
    // Once closed, the socket's line in /proc is gone: the count read as it closed stays.
    if (this.#closed) return this.#kernelDrops
    // Reading /proc/net/udp costs in proportion to the host's UDP sockets: at most once per interval.
    const now = performance.now()
    if (now - this.#kernelDropsAt >= KERNEL_DROPS_INTERVAL_MS) {
      this.#kernelDrops = readKernelDrops(this.#inode)
      this.#kernelDropsAt = now
    }
    return this.#kernelDrops
  }

  /** What became of the datagrams read so far, by outcome (as in `stats().outcomes`, for less). */
  outcomes(): Partial<Record<DatagramOutcome, number>> {
    return { ...this.#engine.outcomes }
  }

  /** Reassembly state: partial messages and bytes held, completions, expiries, evictions. */
  reassemblyStats() {
    return this.#engine.reassemblyStats()
  }

  /**
   * Where the frames of stream (`sessionId`, `topic`) come from (its sender's address and port),
   * when tracked: a relay sends a receiver's SCHEMA_REQUEST about that stream there.
   */
  senderOf(sessionId: number, topic: string): { address: string; port: number } | undefined {
    return this.#engine.senderOf(sessionId, topic)
  }

  /** Sends a raw datagram from this socket (unicast replies in raw mode); counted as sent. */
  reply(data: Uint8Array, to: { address: string; port: number }): Promise<void> {
    this.#replied.datagrams++
    this.#replied.bytes += data.length
    return new Promise((resolve, reject) =>
      this.#socket.send(data, to.port, to.address, (error) => (error ? reject(error) : resolve())),
    )
  }

  /** Leaves the groups and releases the socket. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#kernelDropsAt = Number.NEGATIVE_INFINITY
    this.kernelDrops()
    this.#closed = true
    clearInterval(this.#sweeper)
    // Publishers stop waiting for this receiver now, not after their receiver timeout.
    await this.#engine.leave()
    this.#engine.close()
    for (const leave of this.#leave) {
      try {
        leave()
      } catch {
        // Membership already gone (interface removed): nothing to leave.
      }
    }
    await closeSocket(this.#socket)
    this.emit('close')
  }
}

export function createSubscriber(options: SubscriberOptions): Promise<Subscriber> {
  return Subscriber.create(options)
}

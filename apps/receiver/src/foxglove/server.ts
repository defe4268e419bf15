import { once } from 'node:events'
import { isIP } from 'node:net'
import wsProtocol from '@foxglove/ws-protocol'
import type { shoal } from '@shoal/schema'
import type { Logger } from '@shoal/service'
import type { ReceivedFrame } from '@shoal/transport'
import { WebSocketServer } from 'ws'
import { ChannelTable, type ChannelTableOptions } from './channels.js'
import { ClientGate } from './client-gate.js'
import { createFoxgloveCounters, type FoxgloveCounters } from './counters.js'
import {
  FOXGLOVE_CLOSE_GRACE_MS,
  FOXGLOVE_CONTROL_HEADROOM_BYTES,
  FOXGLOVE_DEFAULT_ORIGINS,
  FOXGLOVE_MAX_CLIENTS,
  FOXGLOVE_MAX_REQUEST_BYTES,
  FOXGLOVE_MAX_SUBSCRIPTIONS,
  FOXGLOVE_SEND_BUFFER_BYTES,
  FOXGLOVE_SERVER_NAME,
} from './limits.js'
import { encodeRawImage } from './raw-image.js'

const { FoxgloveServer } = wsProtocol

/** RFC 6455 close codes the server uses. */
const CLOSE_GOING_AWAY = 1001
const CLOSE_PROTOCOL_ERROR = 1002
const CLOSE_TRY_AGAIN_LATER = 1013

const NS_PER_MS = 1_000_000n
const HTTP_FORBIDDEN = 403

/** Whether a handshake with this Origin header (undefined: none sent) may go on. */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true
  if (allowed.includes('*')) return true
  const normalized = origin.toLowerCase().replace(/\/+$/, '')
  return allowed.some(
    (entry) =>
      entry.toLowerCase().replace(/\/+$/, '') === normalized ||
      (entry === 'file://' && normalized === 'file:'),
  )
}

export interface FoxgloveBridgeOptions extends ChannelTableOptions {
  /** Address to bind; loopback unless the user says otherwise. */
  readonly host: string
  /** TCP port; 0 picks a free one. */
  readonly port: number
  readonly maxClients?: number
  readonly sendBufferBytes?: number
  readonly maxSubscriptions?: number
  /**
   * Web origins (`https://host:port`, `file://`) whose pages may connect; `*` lets every page.
   * Connections with no Origin header (clients that are not browsers) are always let in.
   * {@link FOXGLOVE_DEFAULT_ORIGINS} by default.
   */
  readonly allowedOrigins?: readonly string[]
  readonly logger?: Logger
  /** Clock for the channel table's idle times; Date.now by default. */
  readonly now?: () => number
}

/** The server's counters at one instant, with its gauges. */
export interface FoxgloveStats extends Readonly<FoxgloveCounters> {
  readonly clients: number
  readonly channels: number
  readonly topics: number
  /** Topics unadvertised to make room for a new one. */
  readonly channelEvictions: number
}

export interface FoxgloveBridge {
  /** Where it listens: `ws://127.0.0.1:8765`. */
  readonly url: string
  readonly port: number
  /** Advertises the frame's topic if new, and sends the frame to the clients subscribed to it. */
  publish(frame: ReceivedFrame): void
  stats(): FoxgloveStats
  close(): Promise<void>
}

function urlOf(host: string, port: number): string {
  return `ws://${isIP(host) === 6 ? `[${host}]` : host}:${port}`
}

/**
 * A Foxglove WebSocket server (`@foxglove/ws-protocol`'s `FoxgloveServer` over `ws`) fed with a
 * receiver's frames: every topic a channel of encoding `protobuf` with its type's
 * `FileDescriptorSet`, camera topics a second one as `foxglove.RawImage`; each client behind a
 * {@link ClientGate} (send-buffer cap, subscription cap). The library speaks the protocol and
 * survives a client's bad requests (it reports them as 'error' events, counted here).
 */
export async function startFoxgloveBridge(options: FoxgloveBridgeOptions): Promise<FoxgloveBridge> {
  const maxClients = options.maxClients ?? FOXGLOVE_MAX_CLIENTS
  const sendBufferBytes = options.sendBufferBytes ?? FOXGLOVE_SEND_BUFFER_BYTES
  const maxSubscriptions = options.maxSubscriptions ?? FOXGLOVE_MAX_SUBSCRIPTIONS
  const allowedOrigins = options.allowedOrigins ?? FOXGLOVE_DEFAULT_ORIGINS
  const now = options.now ?? Date.now
  const logger = options.logger
  const counters = createFoxgloveCounters()

  const server = new FoxgloveServer({ name: FOXGLOVE_SERVER_NAME, capabilities: [] })
  const clients = new Set<ClientGate>()
  /** Channels with at least one subscriber: the only ones worth sending (or converting) for. */
  const subscribed = new Set<number>()
  server.on('subscribe', (channelId) => subscribed.add(channelId))
  server.on('unsubscribe', (channelId) => subscribed.delete(channelId))
  server.on('error', (error) => {
    counters.clientErrors.bad_message++
    logger?.debug({ err: error }, 'foxglove client sent a bad request')
  })

  const table = new ChannelTable(
    {
      addChannel: (channel) => server.addChannel(channel),
      removeChannel(channelId) {
        // The library drops the subscriptions to it without an 'unsubscribe' event.
        server.removeChannel(channelId)
        subscribed.delete(channelId)
        for (const client of clients) client.channelRemoved(channelId)
      },
    },
    options,
  )

  const wss = new WebSocketServer({
    host: options.host,
    port: options.port,
    maxPayload: FOXGLOVE_MAX_REQUEST_BYTES,
    perMessageDeflate: false,
    handleProtocols: (protocols) => server.handleProtocols(protocols),
    // A web page's handshake carries its Origin; refused before the upgrade (no WebSocket at all).
    verifyClient: (info, done) => {
      if (originAllowed(info.req.headers.origin, allowedOrigins)) return done(true)
      counters.connections.bad_origin++
      logger?.warn(
        { origin: info.origin, client: info.req.socket.remoteAddress },
        'foxglove connection refused: its web origin is not in --foxglove-origin',
      )
      done(false, HTTP_FORBIDDEN, 'origin not allowed (see --foxglove-origin)')
    },
  })
  await Promise.race([once(wss, 'listening'), once(wss, 'error').then(([error]) => Promise.reject(error))])
  const address = wss.address()
  const port = typeof address === 'object' && address !== null ? address.port : options.port
  // After listening, a server error (none is expected) is logged rather than thrown.
  wss.on('error', (error) => logger?.error({ err: error }, 'foxglove server error'))

  wss.on('connection', (ws, request) => {
    const name = `${request.socket.remoteAddress}:${request.socket.remotePort}`
    if (ws.protocol !== FoxgloveServer.SUPPORTED_SUBPROTOCOL) {
      counters.connections.wrong_protocol++
      ws.on('error', () => counters.clientErrors.socket_error++)
      ws.close(CLOSE_PROTOCOL_ERROR, `expected subprotocol ${FoxgloveServer.SUPPORTED_SUBPROTOCOL}`)
      return
    }
    if (clients.size >= maxClients) {
      counters.connections.max_clients++
      ws.on('error', () => counters.clientErrors.socket_error++)
      ws.close(CLOSE_TRY_AGAIN_LATER, `at most ${maxClients} Foxglove clients`)
      logger?.warn({ client: name, maxClients }, 'foxglove client refused: --foxglove-max-clients reached')
      return
    }
    counters.connections.accepted++
    const gate = new ClientGate(ws, name, {
      sendBufferBytes,
      controlHeadroomBytes: FOXGLOVE_CONTROL_HEADROOM_BYTES,
      maxSubscriptions,
      channelExists: (channelId) => table.has(channelId),
      counters,
      onSlow(client, state, dropped) {
        if (state === 'dropping')
          logger?.warn(
            { client: client.name, sendBuffer: sendBufferBytes },
            'foxglove client not keeping up: dropping messages to it',
          )
        else logger?.info({ client: client.name, dropped }, 'foxglove client caught up')
      },
    })
    clients.add(gate)
    ws.on('close', () => {
      clients.delete(gate)
      logger?.info({ client: name, dropped: gate.dropped }, 'foxglove client disconnected')
    })
    server.handleConnection(gate, name)
    logger?.info({ client: name }, 'foxglove client connected')
  })

  return {
    url: urlOf(options.host, port),
    port,
    publish(frame: ReceivedFrame): void {
      if (frame.typeName === undefined) {
        counters.dropped.unknown_type++
        return
      }
      const channels = table.channelsFor(frame.topic, frame.typeName, now())
      if (typeof channels === 'string') {
        counters.dropped[channels]++
        return
      }
      if (subscribed.size === 0) return
      // The message's log time: when the receiver got it (its header stamp stays in the message).
      const timestamp = BigInt(frame.receivedAt) * NS_PER_MS
      if (subscribed.has(channels.own)) server.sendMessage(channels.own, timestamp, frame.payload)
      if (channels.rawImage === undefined || !subscribed.has(channels.rawImage)) return
      let rawImage: Uint8Array
      try {
        if (frame.message === undefined) throw new Error('frame not decoded')
        rawImage = encodeRawImage(frame.message as shoal.v1.Image.$Properties)
      } catch (error) {
        counters.dropped.image_conversion++
        logger?.debug({ err: error, topic: frame.topic }, 'camera frame not converted to foxglove.RawImage')
        return
      }
      server.sendMessage(channels.rawImage, timestamp, rawImage)
    },
    stats: () => ({
      ...counters,
      dropped: { ...counters.dropped },
      clientErrors: { ...counters.clientErrors },
      connections: { ...counters.connections },
      clients: clients.size,
      channels: table.channels,
      topics: table.topics,
      channelEvictions: table.evictions,
    }),
    async close() {
      const closing = [...wss.clients].map((ws) => {
        const closed = once(ws, 'close')
        ws.close(CLOSE_GOING_AWAY, 'shoal-recv stopping')
        return closed
      })
      const grace = setTimeout(() => {
        for (const ws of wss.clients) ws.terminate()
      }, FOXGLOVE_CLOSE_GRACE_MS)
      await Promise.all(closing)
      clearTimeout(grace)
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
}

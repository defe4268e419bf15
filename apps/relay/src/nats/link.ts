/**
 * One connection to a NATS server per `nats://` route, kept up for the relay's life: it reconnects
 * forever (the client's own loop), and starts over when the client gives up or the first
 * attempt fails, without touching the relay's other routes. Its state is what the routes read
 * before they publish: nothing is handed to the client while it is not connected (the NATS client
 * for Node has no bound on what it buffers meanwhile: no `ReconnectBufSize` as in Go's client).
 */
import { readFileSync } from 'node:fs'
import { checkServerIdentity as checkIdentity, type PeerCertificate } from 'node:tls'
import {
  connect,
  credsAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node'
import type { Logger } from '@shoal/service'

/** Wait between reconnect attempts, ms (the client adds up to 100 ms of jitter). */
export const NATS_RECONNECT_WAIT_MS = 500
/** How long one connection attempt may take, ms. */
export const NATS_CONNECT_TIMEOUT_MS = 2_000
/** The client pings the server this often, ms; `NATS_MAX_PINGS_OUT` unanswered close the link. */
export const NATS_PING_INTERVAL_MS = 5_000
export const NATS_MAX_PINGS_OUT = 2
/** At start the relay waits this long for a first connection before it runs without one, ms. */
export const NATS_START_WAIT_MS = 3_000
/** After the client gave up (or a connect failed), a new one starts after this long, ms. */
export const NATS_RESTART_MS = 2_000
/** At close, how long the client may take to send what it holds before it is closed anyway, ms. */
export const NATS_DRAIN_MS = 2_000

/** Credentials and TLS: passed to the client as they are, never logged. */
export interface NatsAuth {
  readonly user: string | undefined
  readonly password: string | undefined
  readonly token: string | undefined
  /** A `.creds` file (JWT and NKey seed), read at each connect. */
  readonly credsFile: string | undefined
  readonly tlsCa: string | undefined
  readonly tlsCert: string | undefined
  readonly tlsKey: string | undefined
}

export type NatsState = 'connecting' | 'connected' | 'reconnecting' | 'closed'

export interface NatsLinkStats {
  readonly state: NatsState
  /** Connections lost (each a `disconnect` of the client). */
  readonly disconnects: number
  /** Connections made again after a loss. */
  readonly reconnects: number
}

export function connectOptions(
  server: { host: string; port: number },
  auth: NatsAuth,
  name: string,
): NodeConnectionOptions {
  const host = server.host.includes(':') ? `[${server.host}]` : server.host
  // The client checks the server's certificate against the name it resolved, or against
  // "localhost" for an IP address: the route's host is what the certificate must name.
  const checkServerIdentity = (_name: string, cert: PeerCertificate) => checkIdentity(server.host, cert)
  const tls =
    auth.tlsCa === undefined && auth.tlsCert === undefined
      ? undefined
      : {
          ...(auth.tlsCa === undefined ? {} : { caFile: auth.tlsCa }),
          ...(auth.tlsCert === undefined ? {} : { certFile: auth.tlsCert }),
          ...(auth.tlsKey === undefined ? {} : { keyFile: auth.tlsKey }),
          // Passed on to node:tls by the client (its TlsOptions type does not list it).
          checkServerIdentity,
        }
  const credsFile = auth.credsFile
  return {
    servers: `${host}:${server.port}`,
    name,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: NATS_RECONNECT_WAIT_MS,
    timeout: NATS_CONNECT_TIMEOUT_MS,
    pingInterval: NATS_PING_INTERVAL_MS,
    maxPingOut: NATS_MAX_PINGS_OUT,
    // The route names one server: the cluster's gossip may not add others behind its back.
    ignoreClusterUpdates: true,
    ...(auth.user === undefined ? {} : { user: auth.user, pass: auth.password ?? '' }),
    ...(auth.token === undefined ? {} : { token: auth.token }),
    ...(credsFile === undefined ? {} : { authenticator: credsAuthenticator(() => readFileSync(credsFile)) }),
    ...(tls === undefined ? {} : { tls }),
  }
}

export class NatsLink {
  #state: NatsState = 'connecting'
  #disconnects = 0
  #reconnects = 0
  #connection: NatsConnection | undefined
  #restart: NodeJS.Timeout | undefined
  readonly #options: NodeConnectionOptions
  readonly #logger: Logger
  readonly #route: string
  /**
   * Called on every new connection (not on the client's reconnects: its subscriptions carry over);
   * the connection counts as made once what it returns has resolved.
   */
  readonly #onConnection: (connection: NatsConnection) => void | Promise<void>

  constructor(
    route: string,
    options: NodeConnectionOptions,
    logger: Logger,
    onConnection: (connection: NatsConnection) => void | Promise<void> = () => {},
  ) {
    this.#route = route
    this.#options = options
    this.#logger = logger
    this.#onConnection = onConnection
  }

  /** The connection, only while connected: publish through it, or count the frame dropped. */
  get connected(): NatsConnection | undefined {
    return this.#state === 'connected' ? this.#connection : undefined
  }

  get state(): NatsState {
    return this.#state
  }

  stats(): NatsLinkStats {
    return { state: this.#state, disconnects: this.#disconnects, reconnects: this.#reconnects }
  }

  /**
   * Connects; resolves once connected or after {@link NATS_START_WAIT_MS} of an unreachable server
   * (it goes on trying). Rejects when the server answers but refuses the relay (credentials, TLS):
   * a relay started with wrong ones stops and says so.
   */
  async open(): Promise<void> {
    const deadline = performance.now() + NATS_START_WAIT_MS
    let last = ''
    for (;;) {
      try {
        await this.#connected(await connect(this.#options))
        return
      } catch (error) {
        if (!unreachable(error)) throw error
        last = (error as Error).message
        if (performance.now() >= deadline || this.#state === 'closed') break
        await new Promise((resolve) => setTimeout(resolve, NATS_RECONNECT_WAIT_MS))
      }
    }
    // A TLS handshake the server drops (no client certificate it takes) also ends in a timeout.
    this.#logger.warn(
      { route: this.#route, server: this.#options.servers, err: last },
      `NATS server not reachable yet (or not answering this relay); trying every ${NATS_RECONNECT_WAIT_MS} ms, frames for it are dropped meanwhile (nats-disconnected)`,
    )
    this.#attempt().catch((error: unknown) => this.#failed(error))
  }

  /** One connection in the background: waits for the server (`waitOnFirstConnect`). */
  async #attempt(): Promise<void> {
    await this.#connected(await connect({ ...this.#options, waitOnFirstConnect: true }))
  }

  /** A new connection: used from now on, its status followed. */
  async #connected(connection: NatsConnection): Promise<void> {
    if (this.#state === 'closed') {
      await connection.close()
      return
    }
    // What a new connection needs first (an input's subscription confirmed), bounded: a server
    // that stops answering now is followed like any other loss, below.
    await settleWithin(Promise.resolve(this.#onConnection(connection)), NATS_CONNECT_TIMEOUT_MS)
    if (this.state === 'closed') {
      // close() came meanwhile (it saw no connection to close)
      await connection.close().catch(() => {})
      return
    }
    this.#connection = connection
    this.#state = 'connected'
    this.#logger.info({ route: this.#route, server: connection.getServer() }, 'connected to NATS')
    void this.#follow(connection)
  }

  async #follow(connection: NatsConnection): Promise<void> {
    const watch = (async () => {
      for await (const status of connection.status()) {
        if (this.#state === 'closed') return
        if (status.type === 'disconnect') {
          this.#disconnects++
          this.#state = 'reconnecting'
          this.#logger.warn({ route: this.#route }, 'NATS connection lost; reconnecting')
        } else if (status.type === 'reconnect') {
          this.#reconnects++
          this.#state = 'connected'
          this.#logger.info({ route: this.#route }, 'NATS connection back')
        } else if (status.type === 'error' || status.type === 'slowConsumer')
          this.#logger.warn(
            { route: this.#route, status: status.type, err: 'error' in status ? String(status.error) : '' },
            'NATS',
          )
      }
    })()
    const closed = await connection.closed()
    await watch.catch(() => {})
    if (this.#state === 'closed') return
    // The client gave up (it should not, with endless reconnects; a server that kept refusing us).
    this.#state = 'connecting'
    this.#logger.warn({ route: this.#route, err: closed?.message }, 'NATS connection closed; starting over')
    this.#scheduleRestart()
  }

  #scheduleRestart(): void {
    this.#restart = setTimeout(() => {
      this.#attempt().catch((error: unknown) => this.#failed(error))
    }, NATS_RESTART_MS)
  }

  #failed(error: unknown): void {
    if (this.#state === 'closed') return
    this.#logger.warn(
      { route: this.#route, err: (error as Error).message },
      'NATS connect failed; trying again',
    )
    this.#scheduleRestart()
  }

  /**
   * Sends what the client holds (connected: at most {@link NATS_DRAIN_MS}), then closes; no restart
   * after. Disconnected, it closes at once: a drain would wait for a server that may not come back.
   */
  async close(): Promise<void> {
    if (this.#state === 'closed') return
    const connected = this.#state === 'connected'
    this.#state = 'closed'
    clearTimeout(this.#restart)
    const connection = this.#connection
    if (connection === undefined || connection.isClosed()) return
    if (connected) await settleWithin(connection.drain(), NATS_DRAIN_MS)
    if (!connection.isClosed()) await connection.close().catch(() => {})
  }
}

/** Errors of a server not there (yet): refused, unreachable, timed out; not a refusal by the server. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
])

function unreachable(error: unknown): boolean {
  const e = error as { name?: string; code?: string; cause?: { code?: string } }
  if (e.name === 'TimeoutError') return true
  return UNREACHABLE_CODES.has(e.code ?? '') || UNREACHABLE_CODES.has(e.cause?.code ?? '')
}

/** Waits for `promise` to settle (either way), or `ms`, whichever comes first. */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
  })
  await Promise.race([promise.catch(() => {}), late])
  clearTimeout(timer)
}

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import type { Health } from './health.js'
import { createEventHub, type EventHubStats } from './web/events.js'
import { WEB_PAGE_HEADERS, WEB_PAGE_HTML } from './web/page.js'
import { readWebSummary } from './web/summary.js'

export interface HttpServerOptions {
  /** Address to bind; the services default to 127.0.0.1 so metrics stay on the host. */
  readonly host: string
  /** 0 picks a free port. */
  readonly port: number
  readonly registry: Registry
  readonly health: Health
}

export interface HttpServerHandle {
  readonly host: string
  readonly port: number
  /** `http://127.0.0.1:9464`, IPv6 hosts in brackets. */
  readonly url: string
  /** The web page's event streams: open now, refused (cap), dropped (not reading). */
  webClients(): EventHubStats
  close(): Promise<void>
}

const PATHS = ['/', '/events', '/metrics', '/healthz']

/**
 * Serves `GET /metrics` (the registry in Prometheus text format), `GET /healthz` (JSON, 503
 * until the service is ready), and the web page: `GET /` and its live feed `GET /events`
 * (Server-Sent Events, the `shoal_*` series and the health body once a second). Resolves once
 * listening; rejects if the address cannot be bound.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const events = createEventHub({ summary: () => readWebSummary(options.registry, options.health) })
  const server = createServer((request, response) => {
    handle(options, events.attach, request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
      response.end(`${error instanceof Error ? error.message : String(error)}\n`)
    })
  })
  server.keepAliveTimeout = 5_000

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    host: address.address,
    port: address.port,
    url: `http://${urlHost}:${address.port}`,
    webClients: () => events.stats(),
    close: () =>
      new Promise<void>((resolve) => {
        events.close()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

async function handle(
  options: HttpServerOptions,
  attach: (request: IncomingMessage, response: ServerResponse) => void,
  request: IncomingMessage,
  response: ServerResponse,
) {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname
  if (!PATHS.includes(path)) {
    reply(response, 404, 'text/plain; charset=utf-8', 'not found; try /, /metrics or /healthz\n')
    return
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD')
    reply(response, 405, 'text/plain; charset=utf-8', 'method not allowed\n')
    return
  }
  if (path === '/') {
    response.writeHead(200, { ...WEB_PAGE_HEADERS, 'content-length': Buffer.byteLength(WEB_PAGE_HTML) })
    response.end(request.method === 'HEAD' ? undefined : WEB_PAGE_HTML)
    return
  }
  if (path === '/events') {
    attach(request, response)
    return
  }
  if (path === '/metrics') {
    reply(
      response,
      200,
      options.registry.contentType,
      await options.registry.metrics(),
      request.method === 'HEAD',
    )
    return
  }
  const { statusCode, body } = options.health.report()
  reply(response, statusCode, 'application/json', `${JSON.stringify(body)}\n`, request.method === 'HEAD')
}

function reply(response: ServerResponse, status: number, type: string, body: string, headOnly = false) {
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
  response.end(headOnly ? undefined : body)
}

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import type { Health } from './health.js'

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
  close(): Promise<void>
}

/**
 * Serves `GET /metrics` (the registry in Prometheus text format) and `GET /healthz` (JSON, 503
 * until the service is ready). Resolves once listening; rejects if the address cannot be bound.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const server = createServer((request, response) => {
    handle(options, request, response).catch((error: unknown) => {
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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

async function handle(options: HttpServerOptions, request: IncomingMessage, response: ServerResponse) {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname
  if (path !== '/metrics' && path !== '/healthz') {
    reply(response, 404, 'text/plain; charset=utf-8', 'not found; try /metrics or /healthz\n')
    return
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD')
    reply(response, 405, 'text/plain; charset=utf-8', 'method not allowed\n')
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

import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { createHealth } from './health.js'
import { type HttpServerHandle, startHttpServer } from './http.js'
import { registerTransportMetrics } from './metrics.js'
import { parsePrometheusText, sampleValue } from './testing/prom-text.js'

const servers: HttpServerHandle[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

async function serve() {
  const registry = new Registry()
  const health = createHealth({ service: 'shoal-test', version: '0.0.1' })
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, registry, health })
  servers.push(server)
  return { registry, health, server }
}

describe('startHttpServer', () => {
  it('binds loopback on a free port', async () => {
    const { server } = await serve()
    expect(server.host).toBe('127.0.0.1')
    expect(server.port).toBeGreaterThan(0)
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`)
  })

  it('answers /healthz 503 until ready, 200 with a JSON body once ready, 503 when stopping', async () => {
    const { server, health } = await serve()
    const before = await fetch(`${server.url}/healthz`)
    expect(before.status).toBe(503)
    expect(await before.json()).toMatchObject({ status: 'starting', service: 'shoal-test' })

    health.markReady({ groups: ['239.255.0.1'] })
    const ready = await fetch(`${server.url}/healthz`)
    expect(ready.status).toBe(200)
    expect(ready.headers.get('content-type')).toBe('application/json')
    expect(await ready.json()).toMatchObject({ status: 'ready', version: '0.0.1', groups: ['239.255.0.1'] })

    health.markStopping()
    health.markReady()
    expect((await fetch(`${server.url}/healthz`)).status).toBe(503)
  })

  it('serves the registry as Prometheus text on /metrics', async () => {
    const { server, registry } = await serve()
    registerTransportMetrics(registry, () => ({
      sent: [],
      received: [{ source: 'a', topic: 't', frames: 3, bytes: 30, gaps: 1, duplicates: 0, reordered: 0 }],
      drops: { crc: 2 },
      datagramsIn: 4,
      datagramsOut: 0,
    }))
    const response = await fetch(`${server.url}/metrics`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const families = parsePrometheusText(await response.text())
    expect(sampleValue(families, 'shoal_gaps_total', { topic: 't', source: 'a' })).toBe(1)
    expect(sampleValue(families, 'shoal_drops_total', { reason: 'crc' })).toBe(2)
  })

  it('serves the web page on / with a policy that allows only its own script, style and origin', async () => {
    const { server } = await serve()
    const response = await fetch(`${server.url}/`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const policy = response.headers.get('content-security-policy') ?? ''
    expect(policy).toMatch(/default-src 'none'/)
    expect(policy).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'(;|$)/)
    expect(policy).toMatch(/connect-src 'self'/)
    const html = await response.text()
    expect(html).toMatch(/^<!doctype html>/)
    expect(html).toContain('/events')
    // no asset from elsewhere: every src/href is inline data or absent
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//)
    expect(html).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/)
  })

  it('streams summaries of the registry on /events', async () => {
    const { server, registry, health } = await serve()
    registerTransportMetrics(registry, () => ({
      sent: [],
      received: [{ source: 'a', topic: 'imu', frames: 3, bytes: 30, gaps: 1, duplicates: 0, reordered: 0 }],
      drops: {},
      datagramsIn: 3,
      datagramsOut: 0,
    }))
    health.markReady()
    const controller = new AbortController()
    const response = await fetch(`${server.url}/events`, { signal: controller.signal })
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
    let text = ''
    while (!/\ndata: .*\n\n/.test(text)) text += (await reader.read()).value ?? ''
    controller.abort()
    const data = JSON.parse(/\ndata: (.*)\n\n/.exec(text)![1]!)
    expect(data.streams).toEqual([expect.objectContaining({ topic: 'imu', frames: 3, gaps: 1 })])
    expect(data.health).toMatchObject({ status: 'ready' })
    expect(server.webClients().refused).toBe(0)
  })

  it('answers 404 elsewhere and 405 to other methods', async () => {
    const { server } = await serve()
    expect((await fetch(`${server.url}/nope`)).status).toBe(404)
    const post = await fetch(`${server.url}/metrics`, { method: 'POST' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
  })

  it('rejects when the port is taken', async () => {
    const { server } = await serve()
    await expect(
      startHttpServer({
        host: '127.0.0.1',
        port: server.port,
        registry: new Registry(),
        health: createHealth({ service: 's', version: 'v' }),
      }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' })
  })
})

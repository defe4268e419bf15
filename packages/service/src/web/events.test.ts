import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createEventHub, type EventHub, type EventHubOptions, WEB_EVENTS_RETRY_MS } from './events.js'

const open: { server: Server; hub: EventHub }[] = []
afterEach(async () => {
  for (const { server, hub } of open.splice(0)) {
    hub.close()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

async function serve(options: EventHubOptions) {
  const hub = createEventHub(options)
  const server = createServer((request, response) => hub.attach(request, response))
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve))
  open.push({ server, hub })
  return { hub, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events` }
}

/** Reads an event stream until `n` events are complete; returns the raw text. */
async function readEvents(url: string, n: number, controller = new AbortController()): Promise<string> {
  const response = await fetch(url, { signal: controller.signal })
  expect(response.status).toBe(200)
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  while (text.split('\n\n').filter((block) => block.includes('data: ')).length < n) {
    const { value, done } = await reader.read()
    if (done) break
    text += value
  }
  controller.abort()
  return text
}

async function until(predicate: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('createEventHub', () => {
  it('streams text/event-stream: a retry field, then one summary event per tick as one JSON line', async () => {
    let n = 0
    const { url } = await serve({ summary: () => ({ n: ++n, topic: 'a\nb' }), intervalMs: 20 })
    const head = await fetch(url)
    expect(head.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(head.headers.get('cache-control')).toBe('no-store')
    await head.body?.cancel()

    const text = await readEvents(url, 3)
    const blocks = text.split('\n\n').filter((block) => block !== '')
    expect(blocks[0]).toBe(`retry: ${WEB_EVENTS_RETRY_MS}`)
    const events = blocks.slice(1, 4).map((block) => {
      const lines = block.split('\n')
      expect(lines).toHaveLength(2) // a newline in the data would have split it
      expect(lines[0]).toBe('event: summary')
      expect(lines[1]).toMatch(/^data: \{/)
      return JSON.parse(lines[1]!.slice('data: '.length)) as { n: number; topic: string }
    })
    expect(events.map((event) => event.topic)).toEqual(['a\nb', 'a\nb', 'a\nb'])
    const counts = events.map((event) => event.n)
    expect(counts[1]! > counts[0]! && counts[2]! > counts[1]!).toBe(true)
  })

  it('takes one summary per tick, whatever the number of pages', async () => {
    let calls = 0
    const { url, hub } = await serve({ summary: () => ++calls, intervalMs: 50 })
    const controllers = [new AbortController(), new AbortController()]
    const [a, b] = await Promise.all(controllers.map((c) => readEvents(url, 4, c)))
    // each page saw summaries of the shared sequence, not a sequence of its own
    const seen = (text: string) => text.match(/^data: (\d+)$/gm)!.map((line) => Number(line.slice(6)))
    expect(new Set([...seen(a!), ...seen(b!)]).size).toBeLessThan(seen(a!).length + seen(b!).length)
    await until(() => hub.stats().clients === 0, 'both pages gone')
  })

  it('answers 503 past the client cap, and takes a page again once one left', async () => {
    const { url, hub } = await serve({ summary: () => ({}), intervalMs: 1000, maxClients: 2 })
    const first = new AbortController()
    const responses = [await fetch(url, { signal: first.signal }), await fetch(url)]
    expect(responses.map((r) => r.status)).toEqual([200, 200])
    const refused = await fetch(url)
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe(String(WEB_EVENTS_RETRY_MS / 1000))
    expect(await refused.text()).toMatch(/at most 2/)
    expect(hub.stats()).toMatchObject({ clients: 2, refused: 1 })

    first.abort()
    await until(() => hub.stats().clients === 1, 'the first page gone')
    const again = await fetch(url)
    expect(again.status).toBe(200)
    await again.body?.cancel()
    await responses[1]!.body?.cancel()
  })

  it('drops a page that does not read instead of buffering for it', async () => {
    const big = 'x'.repeat(512 * 1024)
    const { url, hub } = await serve({ summary: () => big, intervalMs: 5, maxBufferedBytes: 64 * 1024 })
    const { port } = new URL(url)
    const socket = connect({ host: '127.0.0.1', port: Number(port) })
    socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
    socket.pause() // never reads: the kernel's buffers fill, then Node's
    let closed = false
    socket.on('close', () => {
      closed = true
    })
    socket.on('error', () => {})
    await until(() => hub.stats().clients === 1, 'the page connected')
    await until(() => hub.stats().dropped === 1, 'the page dropped')
    expect(hub.stats().clients).toBe(0)
    socket.resume() // now drain: the server ended the connection
    await until(() => closed, 'the connection closed')
  })

  it('ends every stream on close and refuses new ones', async () => {
    const { url, hub } = await serve({ summary: () => 1, intervalMs: 1000 })
    const response = await fetch(url)
    await until(() => hub.stats().clients === 1, 'the page connected')
    hub.close()
    expect(await response.text()).toMatch(/^retry: /)
    expect((await fetch(url)).status).toBe(503)
  })

  it('sends a failure event when the summary throws, and keeps going', async () => {
    let n = 0
    const { url } = await serve({
      summary: () => {
        if (++n === 1) throw new Error('scrape broke')
        return n
      },
      intervalMs: 20,
    })
    const text = await readEvents(url, 2)
    expect(text).toContain('event: failure\ndata: "scrape broke"\n\n')
    expect(text).toMatch(/event: summary\ndata: \d+\n\n/)
  })
})

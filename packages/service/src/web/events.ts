import type { IncomingMessage, ServerResponse } from 'node:http'

/** How often `/events` pushes a summary to every open page, ms. */
export const WEB_EVENTS_INTERVAL_MS = 1000
/** Pages open at once; one more gets 503 (each costs one write per interval). */
export const WEB_EVENTS_MAX_CLIENTS = 8
/**
 * Bytes that may wait in a page's connection (not yet taken by the kernel) before the page is cut
 * off: a page that does not read is dropped, never buffered for without bound.
 */
export const WEB_EVENTS_MAX_BUFFERED_BYTES = 256 * 1024
/** What EventSource waits before it reconnects, ms (the `retry:` field). */
export const WEB_EVENTS_RETRY_MS = 2000

export interface EventHubOptions {
  /** The next event's data: taken once per interval while a page is open, shared by all of them. */
  readonly summary: () => unknown
  readonly intervalMs?: number
  readonly maxClients?: number
  readonly maxBufferedBytes?: number
}

export interface EventHubStats {
  /** Pages connected now. */
  readonly clients: number
  /** Pages turned away with 503, the cap reached. */
  readonly refused: number
  /** Pages cut off for not reading. */
  readonly dropped: number
}

export interface EventHub {
  /** Answers a `GET /events`: a Server-Sent Events stream, or 503 when the cap is reached. */
  attach(request: IncomingMessage, response: ServerResponse): void
  stats(): EventHubStats
  /** Ends every stream and stops the timer. */
  close(): void
}

/**
 * Server-Sent Events for the web page: `event: summary` with one JSON object per interval. The
 * summary is taken once per tick (not per page), so a scrape's cost does not grow with the pages
 * open; the timer runs only while a page is.
 */
export function createEventHub(options: EventHubOptions): EventHub {
  const intervalMs = options.intervalMs ?? WEB_EVENTS_INTERVAL_MS
  const maxClients = options.maxClients ?? WEB_EVENTS_MAX_CLIENTS
  const maxBuffered = options.maxBufferedBytes ?? WEB_EVENTS_MAX_BUFFERED_BYTES
  const clients = new Set<ServerResponse>()
  let timer: NodeJS.Timeout | undefined
  let ticking = false
  let refused = 0
  let dropped = 0
  let closed = false

  const remove = (response: ServerResponse) => {
    clients.delete(response)
    if (clients.size === 0 && timer !== undefined) {
      clearInterval(timer)
      timer = undefined
    }
  }

  const send = (response: ServerResponse, frame: string) => {
    // writableLength: what Node holds for this socket beyond what the kernel took.
    if (response.writableLength > maxBuffered) {
      dropped++
      remove(response)
      response.destroy()
      return
    }
    response.write(frame)
  }

  const tick = async () => {
    if (ticking) return // a slow summary: skip a beat rather than pile up
    ticking = true
    try {
      const frame = `event: summary\ndata: ${JSON.stringify(await options.summary())}\n\n`
      for (const response of [...clients]) send(response, frame)
    } catch (error) {
      const frame = `event: failure\ndata: ${JSON.stringify(error instanceof Error ? error.message : String(error))}\n\n`
      for (const response of [...clients]) send(response, frame)
    } finally {
      ticking = false
    }
  }

  return {
    attach(request, response) {
      if (closed || clients.size >= maxClients) {
        refused++
        const body = `too many pages open (at most ${maxClients}); close one and reload\n`
        response.writeHead(503, {
          'content-type': 'text/plain; charset=utf-8',
          'content-length': Buffer.byteLength(body),
          'retry-after': String(Math.ceil(WEB_EVENTS_RETRY_MS / 1000)),
        })
        response.end(body)
        return
      }
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      })
      if (request.method === 'HEAD') {
        response.end()
        return
      }
      request.socket.setNoDelay(true)
      clients.add(response)
      response.on('close', () => remove(response))
      response.write(`retry: ${WEB_EVENTS_RETRY_MS}\n\n`)
      timer ??= setInterval(() => void tick(), intervalMs)
      void tick()
    },
    stats: () => ({ clients: clients.size, refused, dropped }),
    close() {
      closed = true
      for (const response of [...clients]) {
        remove(response)
        response.end()
      }
    },
  }
}

import wsProtocol, { type IWebSocket, type StatusMessage } from '@foxglove/ws-protocol'
import type { RawData, WebSocket } from 'ws'
import type { FoxgloveCounters } from './counters.js'

const { StatusLevel } = wsProtocol

/** `ws`'s `WebSocket.OPEN`, a constant of the protocol (RFC 6455 readyState). */
const OPEN = 1

/**
 * Once a client is dropping, messages to it stay dropped until its buffer has drained to this
 * fraction of the cap: one warning per slow spell, not one per message that happens to fit.
 */
export const FOXGLOVE_RESUME_FRACTION = 0.5

/** The status id of the "not keeping up" warning, so that the "caught up" note replaces it. */
export const SEND_BUFFER_STATUS_ID = 'shoal-recv.send-buffer'

export interface ClientGateOptions {
  /** Bytes queued for the client past which messages to it are dropped. */
  readonly sendBufferBytes: number
  /** What control messages (advertisements, status) may add past that before the client is cut off. */
  readonly controlHeadroomBytes: number
  /** Subscriptions one client may hold at once. */
  readonly maxSubscriptions: number
  /** Whether the server advertises this channel now (a subscription to another is refused by the library). */
  readonly channelExists: (channelId: number) => boolean
  readonly counters: FoxgloveCounters
  /** A slow spell began (`dropped` 1) or ended (`dropped` in all). */
  readonly onSlow?: (client: ClientGate, state: 'dropping' | 'resumed', dropped: number) => void
}

type Outgoing = string | ArrayBuffer | ArrayBufferView

function byteLength(data: Outgoing): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * One Foxglove client's WebSocket as `FoxgloveServer` sees it: a `ws` socket behind two gates the
 * library does not have.
 *
 * Out: every message data frame (the library sends a 13-byte header with `fin: false`, then the
 * payload) is held until its payload arrives, then sent whole or dropped whole: dropped when the
 * client already has bytes queued (`bufferedAmount`) and this message would take it past the cap.
 * A client that does not read thus costs at most the cap, or one message when a single message is
 * larger. The first drop of a slow spell sends the client one status warning; the first message
 * sent again (the buffer drained to {@link FOXGLOVE_RESUME_FRACTION} of the cap) sends a note with
 * the count. Control messages (JSON) are never dropped, being few and small; a client whose queue
 * passes the cap plus the headroom anyway is disconnected.
 *
 * In: `subscribe` requests are cut to the per-client cap before the library sees them, each one
 * refused answered with an error status. To know a client's count, the gate keeps the client's
 * subscriptions as the library will: it applies the same rules (a subscription id used twice, a
 * channel subscribed twice, an unknown channel: ignored).
 */
export class ClientGate implements IWebSocket {
  binaryType = 'arraybuffer'
  onerror: ((event: unknown) => void) | null | undefined = null
  onopen: ((event: unknown) => void) | null | undefined = null
  onclose: ((event: unknown) => void) | null | undefined = null
  onmessage: ((event: unknown) => void) | null | undefined = null

  readonly name: string
  readonly #ws: WebSocket
  readonly #options: ClientGateOptions
  /** subscription id → channel id, as the library holds them for this client. */
  readonly #subscriptions = new Map<number, number>()
  readonly #subscribedChannels = new Set<number>()
  /** A message data header waiting for its payload. */
  #header: ArrayBuffer | ArrayBufferView | undefined
  #dropping = false
  #droppedInSpell = 0
  /** Messages dropped for this client, in all. */
  dropped = 0
  /** The most bytes ever queued for this client right after a send. */
  peakBuffered = 0

  constructor(ws: WebSocket, name: string, options: ClientGateOptions) {
    this.#ws = ws
    this.name = name
    this.#options = options
    ws.on('message', (data, isBinary) => this.#receive(data, isBinary))
    ws.on('close', (code, reason) => this.onclose?.({ code, reason: reason.toString(), wasClean: true }))
    // A frame that breaks RFC 6455, a message over maxPayload, a reset connection: ws closes the
    // socket itself (then 'close' follows); without a listener the error would end the process.
    ws.on('error', () => options.counters.clientErrors.socket_error++)
  }

  get protocol(): string {
    return this.#ws.protocol
  }

  /** Subscriptions this client holds now. */
  get subscriptions(): number {
    return this.#subscriptions.size
  }

  close(): void {
    this.#ws.close()
  }

  /** The library removed a channel, and every subscription to it. */
  channelRemoved(channelId: number): void {
    if (!this.#subscribedChannels.delete(channelId)) return
    for (const [id, channel] of this.#subscriptions) if (channel === channelId) this.#subscriptions.delete(id)
  }

  send(data: Outgoing, options?: { fin?: boolean }): void {
    if (typeof data === 'string') {
      this.#sendControl(data)
      return
    }
    if (options?.fin === false) {
      this.#header = data
      return
    }
    const header = this.#header
    this.#header = undefined
    this.#sendData(header, data)
  }

  #sendData(header: ArrayBuffer | ArrayBufferView | undefined, payload: ArrayBuffer | ArrayBufferView): void {
    const { counters, sendBufferBytes } = this.#options
    const ws = this.#ws
    if (ws.readyState !== OPEN) {
      counters.dropped.client_closed++
      return
    }
    const size = (header?.byteLength ?? 0) + payload.byteLength
    const queued = ws.bufferedAmount
    const full = queued > 0 && queued + size > sendBufferBytes
    if (full || (this.#dropping && queued > sendBufferBytes * FOXGLOVE_RESUME_FRACTION)) {
      this.#drop()
      return
    }
    if (this.#dropping) this.#resume()
    if (header === undefined) ws.send(payload)
    else {
      ws.send(header, { fin: false })
      ws.send(payload, { fin: true })
    }
    counters.messagesSent++
    counters.bytesSent += size
    this.#notePeak()
  }

  #drop(): void {
    const { counters } = this.#options
    counters.dropped.send_buffer++
    this.dropped++
    this.#droppedInSpell++
    if (this.#dropping) return
    this.#dropping = true
    counters.slowSpells++
    const cap = this.#options.sendBufferBytes
    this.#status(
      StatusLevel.WARNING,
      `shoal-recv: this client is not keeping up; messages to it are dropped while more than ${cap} bytes wait for it`,
    )
    this.#options.onSlow?.(this, 'dropping', 1)
  }

  #resume(): void {
    const dropped = this.#droppedInSpell
    this.#dropping = false
    this.#droppedInSpell = 0
    this.#status(StatusLevel.INFO, `shoal-recv: caught up; ${dropped} messages to this client were dropped`)
    this.#options.onSlow?.(this, 'resumed', dropped)
  }

  #status(level: StatusMessage['level'], message: string): void {
    const status: StatusMessage = { op: 'status', level, message, id: SEND_BUFFER_STATUS_ID }
    this.#sendControl(JSON.stringify(status))
  }

  #sendControl(text: string): void {
    const ws = this.#ws
    if (ws.readyState !== OPEN) return
    const { sendBufferBytes, controlHeadroomBytes, counters } = this.#options
    if (ws.bufferedAmount + byteLength(text) > sendBufferBytes + controlHeadroomBytes) {
      counters.clientErrors.send_buffer_overflow++
      ws.terminate()
      return
    }
    ws.send(text)
    this.#notePeak()
  }

  #notePeak(): void {
    const queued = this.#ws.bufferedAmount
    if (queued > this.peakBuffered) this.peakBuffered = queued
    if (queued > this.#options.counters.peakBufferedBytes) this.#options.counters.peakBufferedBytes = queued
  }

  #receive(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      // Client publishing, service calls: this server declares no such capability; the library
      // ignores or refuses them.
      this.onmessage?.({ data })
      return
    }
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString()
      : Buffer.isBuffer(data)
        ? data.toString()
        : Buffer.from(data).toString()
    this.onmessage?.({ data: this.#gateRequest(text) })
  }

  /** The request as the library should see it: `subscribe` cut to the cap; others as they came. */
  #gateRequest(text: string): string {
    let request: unknown
    try {
      request = JSON.parse(text)
    } catch {
      return text // the library reports it (an 'error' event)
    }
    if (!isRecord(request)) return text
    if (request.op === 'unsubscribe' && Array.isArray(request.subscriptionIds)) {
      for (const id of request.subscriptionIds) {
        const channel = typeof id === 'number' ? this.#subscriptions.get(id) : undefined
        if (channel === undefined) continue
        this.#subscriptions.delete(id as number)
        this.#subscribedChannels.delete(channel)
      }
      return text
    }
    if (request.op !== 'subscribe' || !Array.isArray(request.subscriptions)) return text
    const kept: Array<{ id: number; channelId: number }> = []
    for (const entry of request.subscriptions as unknown[]) {
      const id = isRecord(entry) ? entry.id : undefined
      const channelId = isRecord(entry) ? entry.channelId : undefined
      if (!Number.isInteger(id) || !Number.isInteger(channelId)) {
        this.#options.counters.clientErrors.bad_subscription++
        continue
      }
      const subscription = { id: id as number, channelId: channelId as number }
      const acceptable =
        !this.#subscriptions.has(subscription.id) &&
        !this.#subscribedChannels.has(subscription.channelId) &&
        this.#options.channelExists(subscription.channelId)
      if (acceptable && this.#subscriptions.size >= this.#options.maxSubscriptions) {
        this.#options.counters.clientErrors.subscription_limit++
        this.#sendControl(
          JSON.stringify({
            op: 'status',
            level: StatusLevel.ERROR,
            message: `shoal-recv: at most ${this.#options.maxSubscriptions} subscriptions per client; ignoring the one to channel ${subscription.channelId}`,
          } satisfies StatusMessage),
        )
        continue
      }
      if (acceptable) {
        this.#subscriptions.set(subscription.id, subscription.channelId)
        this.#subscribedChannels.add(subscription.channelId)
      }
      kept.push(subscription)
    }
    return JSON.stringify({ op: 'subscribe', subscriptions: kept })
  }
}

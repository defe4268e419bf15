import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import type { WebSocket } from 'ws'
import { ClientGate, type ClientGateOptions, SEND_BUFFER_STATUS_ID } from './client-gate.js'
import { createFoxgloveCounters } from './counters.js'

/** The part of a `ws` WebSocket the gate uses; `bufferedAmount` grows with what is sent until `drain`. */
class FakeSocket extends EventEmitter {
  readyState = 1
  protocol = 'foxglove.websocket.v1'
  bufferedAmount = 0
  readonly sent: Array<{ data: string | Uint8Array; fin: boolean | undefined }> = []
  terminated = false
  send(data: string | Uint8Array, options?: { fin?: boolean }): void {
    this.sent.push({ data, fin: options?.fin })
    this.bufferedAmount += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength
  }
  drain(bytes = this.bufferedAmount): void {
    this.bufferedAmount -= bytes
  }
  terminate(): void {
    this.terminated = true
    this.readyState = 3
  }
  close(): void {
    this.readyState = 2
  }
  statuses(): Array<{ level: number; message: string; id?: string }> {
    return this.sent
      .filter((s): s is { data: string; fin: undefined } => typeof s.data === 'string')
      .map((s) => JSON.parse(s.data))
      .filter((m) => m.op === 'status')
  }
  binary(): Uint8Array[] {
    return this.sent.filter((s) => typeof s.data !== 'string').map((s) => s.data as Uint8Array)
  }
}

const CAP = 1_000
const HEADER = new Uint8Array(13)

function gate(overrides: Partial<ClientGateOptions> = {}) {
  const ws = new FakeSocket()
  const counters = createFoxgloveCounters()
  const slow: Array<[string, number]> = []
  const client = new ClientGate(ws as unknown as WebSocket, 'test', {
    sendBufferBytes: CAP,
    controlHeadroomBytes: 500,
    maxSubscriptions: 2,
    channelExists: (id) => id <= 10,
    counters,
    onSlow: (_client, state, dropped) => slow.push([state, dropped]),
    ...overrides,
  })
  /** What the library does for one message: a header with fin false, then the payload. */
  const message = (size: number) => {
    client.send(HEADER, { fin: false })
    client.send(new Uint8Array(size), { fin: true })
  }
  const forwarded: unknown[] = []
  client.onmessage = (event) => forwarded.push((event as { data: unknown }).data)
  const request = (body: unknown) => ws.emit('message', Buffer.from(JSON.stringify(body)), false)
  return { ws, counters, slow, client, message, forwarded, request }
}

describe('ClientGate, sending', () => {
  it('sends a message whole, header and payload as two fragments of one WebSocket message', () => {
    const { ws, counters, message } = gate()
    message(100)
    expect(ws.sent.map((s) => [(s.data as Uint8Array).byteLength, s.fin])).toEqual([
      [13, false],
      [100, true],
    ])
    expect(counters.messagesSent).toBe(1)
    expect(counters.bytesSent).toBe(113)
  })

  it('drops whole messages that would take the queue past the cap, and warns once per spell', () => {
    const { ws, counters, slow, message } = gate()
    message(487) // 500 queued
    message(487) // 1000: exactly the cap, sent
    message(1) // would pass it: dropped, warning
    message(1) // dropped, no second warning
    expect(ws.binary()).toHaveLength(4)
    expect(counters.dropped.send_buffer).toBe(2)
    expect(counters.slowSpells).toBe(1)
    const [warning] = ws.statuses()
    expect(ws.statuses()).toHaveLength(1)
    expect(warning).toMatchObject({ level: 1, id: SEND_BUFFER_STATUS_ID })
    expect(warning!.message).toContain('not keeping up')
    expect(slow).toEqual([['dropping', 1]])
  })

  it('keeps dropping until the queue has drained to half the cap, then says how many were dropped', () => {
    const { ws, counters, slow, message } = gate()
    message(987)
    message(100) // dropped
    ws.drain(400) // 600 + status queued: above half
    message(10) // still dropped, though it would fit
    expect(counters.dropped.send_buffer).toBe(2)
    ws.drain()
    message(10)
    expect(counters.dropped.send_buffer).toBe(2)
    expect(ws.statuses().map((s) => [s.level, s.id])).toEqual([
      [1, SEND_BUFFER_STATUS_ID],
      [0, SEND_BUFFER_STATUS_ID],
    ])
    expect(ws.statuses()[1]!.message).toContain('2 messages')
    expect(slow).toEqual([
      ['dropping', 1],
      ['resumed', 2],
    ])
    // A new spell, a new warning.
    message(990)
    message(990)
    expect(counters.slowSpells).toBe(2)
    expect(ws.statuses().filter((s) => s.level === 1)).toHaveLength(2)
  })

  it('sends a message larger than the cap when nothing is queued, so that no size is never shown', () => {
    const { ws, counters, message } = gate()
    message(5 * CAP)
    expect(counters.messagesSent).toBe(1)
    message(1)
    expect(counters.dropped.send_buffer).toBe(1)
    expect(ws.binary()).toHaveLength(2)
  })

  it('never drops control messages, but cuts off a client whose queue passes cap and headroom', () => {
    const { ws, counters, client } = gate()
    ws.bufferedAmount = 1_400
    client.send(JSON.stringify({ op: 'advertise', channels: [] }))
    expect(ws.sent).toHaveLength(1)
    client.send('x'.repeat(200))
    expect(ws.terminated).toBe(true)
    expect(counters.clientErrors.send_buffer_overflow).toBe(1)
  })

  it('counts messages for a closing client as dropped, sends nothing', () => {
    const { ws, counters, message } = gate()
    ws.readyState = 2
    message(10)
    expect(ws.sent).toHaveLength(0)
    expect(counters.dropped.client_closed).toBe(1)
  })
})

describe('ClientGate, requests', () => {
  it('passes requests on as text; counts socket errors', () => {
    const { ws, counters, forwarded } = gate()
    ws.emit('message', Buffer.from('not json'), false)
    ws.emit('message', [Buffer.from('{"op":'), Buffer.from('"x"}')], false)
    ws.emit('message', Buffer.from([1, 2, 3]), true)
    ws.emit('error', new Error('bad frame'))
    expect(forwarded).toEqual(['not json', '{"op":"x"}', Buffer.from([1, 2, 3])])
    expect(counters.clientErrors.socket_error).toBe(1)
  })

  it('cuts subscriptions to the cap, refusing each extra one with an error status', () => {
    const { ws, counters, client, forwarded, request } = gate()
    request({
      op: 'subscribe',
      subscriptions: [
        { id: 1, channelId: 1 },
        { id: 2, channelId: 2 },
        { id: 3, channelId: 3 },
      ],
    })
    expect(JSON.parse(forwarded[0] as string)).toEqual({
      op: 'subscribe',
      subscriptions: [
        { id: 1, channelId: 1 },
        { id: 2, channelId: 2 },
      ],
    })
    expect(client.subscriptions).toBe(2)
    expect(counters.clientErrors.subscription_limit).toBe(1)
    expect(ws.statuses()).toEqual([
      expect.objectContaining({ level: 2, message: expect.stringContaining('at most 2') }),
    ])
  })

  it('counts subscriptions as the library will: duplicates and unknown channels take no room', () => {
    const { client, forwarded, request, counters } = gate()
    request({
      op: 'subscribe',
      subscriptions: [
        { id: 1, channelId: 1 },
        { id: 1, channelId: 2 }, // id used: ignored by the library
        { id: 2, channelId: 1 }, // channel subscribed: ignored
        { id: 3, channelId: 99 }, // no such channel: ignored
        { id: 'x', channelId: 3 }, // malformed: removed here
        { id: 4, channelId: 4 },
      ],
    })
    expect(client.subscriptions).toBe(2)
    expect(JSON.parse(forwarded[0] as string).subscriptions).toHaveLength(5)
    expect(counters.clientErrors).toMatchObject({ bad_subscription: 1, subscription_limit: 0 })
  })

  it('frees room on unsubscribe and when a channel goes away', () => {
    const { client, forwarded, request } = gate()
    request({
      op: 'subscribe',
      subscriptions: [
        { id: 1, channelId: 1 },
        { id: 2, channelId: 2 },
      ],
    })
    request({ op: 'unsubscribe', subscriptionIds: [1, 77] })
    expect(client.subscriptions).toBe(1)
    expect(forwarded[1]).toBe('{"op":"unsubscribe","subscriptionIds":[1,77]}')
    client.channelRemoved(2)
    expect(client.subscriptions).toBe(0)
    request({
      op: 'subscribe',
      subscriptions: [
        { id: 5, channelId: 5 },
        { id: 6, channelId: 6 },
      ],
    })
    expect(client.subscriptions).toBe(2)
  })
})

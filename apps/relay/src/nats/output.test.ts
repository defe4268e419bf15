import type { NatsConnection } from '@nats-io/transport-node'
import { describe, expect, it } from 'vitest'
import { HEADER } from './headers.js'
import type { NatsLink, NatsLinkStats } from './link.js'
import { NATS_MAX_PENDING_BYTES, NatsOutput, type OutgoingMessage } from './output.js'

/** A client that records publishes and answers each flush when told to. */
function fakeLink(maxPayload = 1024 * 1024) {
  const published: Array<{ subject: string; payload: Uint8Array; headers: Map<string, string> }> = []
  const flushes: Array<() => void> = []
  const stats: { -readonly [K in keyof NatsLinkStats]: NatsLinkStats[K] } = {
    state: 'connected',
    disconnects: 0,
    reconnects: 0,
  }
  const connection = {
    info: { max_payload: maxPayload },
    publish(
      subject: string,
      payload: Uint8Array,
      options: { headers: { get(k: string): string; keys(): string[] } },
    ) {
      const headers = new Map(options.headers.keys().map((k) => [k, options.headers.get(k)]))
      published.push({ subject, payload, headers })
    },
    flush: () => new Promise<void>((resolve) => flushes.push(resolve)),
  } as unknown as NatsConnection
  const link = {
    get connected() {
      return stats.state === 'connected' ? connection : undefined
    },
    stats: () => ({ ...stats }),
  } as unknown as NatsLink
  return { link, stats, published, flushes }
}

const message = (bytes: number, topic = 'sensors/imu'): OutgoingMessage => ({
  topic,
  typeName: 'shoal.v1.Imu',
  fingerprint: 0x1234,
  payload: new Uint8Array(bytes),
  sessionId: 0xabcd,
  sequence: 9,
  hops: 1,
})

describe('NatsOutput', () => {
  it('publishes on PREFIX.TOPIC with the Shoal headers', () => {
    const { link, published } = fakeLink()
    const output = new NatsOutput('r', link, 'site', () => true)
    expect(output.publish(message(10))).toBe(true)
    expect(published[0]).toMatchObject({ subject: 'site.sensors.imu' })
    expect(published[0]!.headers.get(HEADER.session)).toBe('0000abcd')
    expect(published[0]!.headers.get(HEADER.sequence)).toBe('9')
    expect(output.counters).toMatchObject({ published: 1, bytes: 10 })
  })

  it('drops by reason: filtered, disconnected, over max_payload', () => {
    const { link, stats, published } = fakeLink(100)
    const output = new NatsOutput('r', link, 'site', (topic) => topic !== 'camera')
    output.publish(message(10, 'camera'))
    output.publish(message(101))
    stats.state = 'reconnecting'
    output.publish(message(10))
    expect(published).toHaveLength(0)
    expect(output.counters.dropped).toMatchObject({
      filtered: 1,
      'nats-max-payload': 1,
      'nats-disconnected': 1,
    })
  })

  it(`holds at most ${NATS_MAX_PENDING_BYTES} bytes not confirmed by the server, then drops (nats-backlog)`, async () => {
    const { link, published, flushes } = fakeLink()
    const output = new NatsOutput('r', link, 'site', () => true)
    const size = 512 * 1024
    const fits = NATS_MAX_PENDING_BYTES / size
    for (let i = 0; i < fits + 5; i++) output.publish(message(size))
    expect(published).toHaveLength(fits)
    expect(output.counters.dropped['nats-backlog']).toBe(5)
    expect(output.pendingBytes).toBe(NATS_MAX_PENDING_BYTES)
    // The server answers the flush that covered the first message; then the one for the rest.
    flushes.shift()!()
    await Promise.resolve()
    await Promise.resolve()
    expect(output.pendingBytes).toBe(NATS_MAX_PENDING_BYTES - size)
    flushes.shift()!()
    await Promise.resolve()
    await Promise.resolve()
    expect(output.pendingBytes).toBe(0)
    expect(output.publish(message(size))).toBe(true)
  })

  it('starts the count over after a lost connection (what the client held is gone or sent)', () => {
    const { link, stats } = fakeLink()
    const output = new NatsOutput('r', link, 'site', () => true)
    for (let i = 0; i < 16; i++) output.publish(message(512 * 1024))
    expect(output.pendingBytes).toBe(NATS_MAX_PENDING_BYTES)
    stats.disconnects = 1
    expect(output.publish(message(10))).toBe(true)
    expect(output.pendingBytes).toBe(10)
  })
})

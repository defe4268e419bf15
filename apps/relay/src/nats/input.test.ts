import { describe, expect, it } from 'vitest'
import { writeHeaders } from './headers.js'
import { type IncomingMessage, NATS_MAX_INFLIGHT_BYTES, NATS_MESSAGE_COST_BYTES, NatsInput } from './input.js'

const headers = (hops = 1) =>
  writeHeaders({
    typeName: 'shoal.v1.Imu',
    fingerprint: 7,
    sessionId: 0xfeed,
    sequence: 42,
    hops,
    stampNs: undefined,
    sourceId: undefined,
  })

function input(deliver: (m: IncomingMessage) => Promise<boolean> = async () => true, maxHops = 8) {
  const got: IncomingMessage[] = []
  const nats = new NatsInput(
    'r',
    'site',
    (topic) => topic !== 'camera',
    maxHops,
    (m) => {
      got.push(m)
      return deliver(m)
    },
  )
  return { nats, got }
}

describe('NatsInput', () => {
  it('hands on the topic, identity and payload, one hop more', async () => {
    const { nats, got } = input()
    nats.message({ subject: 'site.sensors.imu', data: new Uint8Array([1, 2]), headers: headers(1) })
    await Promise.resolve()
    expect(got).toEqual([
      {
        topic: 'sensors/imu',
        fingerprint: 7,
        payload: new Uint8Array([1, 2]),
        sessionId: 0xfeed,
        sequence: 42,
        hops: 2,
      },
    ])
    await new Promise((resolve) => setImmediate(resolve))
    expect(nats.counters).toMatchObject({ received: 1, forwarded: 1 })
  })

  it('drops by reason: bad subject, no headers, past max hops, filtered, no output took it, send failed', async () => {
    const { nats } = input(async (m) => m.sequence === 42 && m.topic !== 'nobody')
    const data = new Uint8Array(1)
    nats.message({ subject: 'other.imu', data, headers: headers() })
    nats.message({ subject: 'site.%41', data, headers: headers() })
    nats.message({ subject: 'site.imu', data })
    nats.message({ subject: 'site.imu', data, headers: headers(8) })
    nats.message({ subject: 'site.camera', data, headers: headers() })
    nats.message({ subject: 'site.nobody', data, headers: headers() })
    const failing = input(async () => {
      throw new Error('socket gone')
    })
    failing.nats.message({ subject: 'site.imu', data, headers: headers() })
    await new Promise((resolve) => setImmediate(resolve))
    expect(nats.counters.dropped).toMatchObject({
      'bad-subject': 2,
      malformed: 1,
      'max-hops': 1,
      filtered: 2,
    })
    expect(failing.nats.counters.dropped['send-failed']).toBe(1)
  })

  it(`holds at most ${NATS_MAX_INFLIGHT_BYTES} bytes the outputs have not sent, then drops (backlog)`, async () => {
    let release: () => void = () => {}
    const held = new Promise<boolean>((resolve) => {
      release = () => resolve(true)
    })
    const { nats } = input(() => held)
    const size = 4 * 1024 * 1024 - NATS_MESSAGE_COST_BYTES
    for (let i = 0; i < NATS_MAX_INFLIGHT_BYTES / (size + NATS_MESSAGE_COST_BYTES) + 2; i++)
      nats.message({ subject: 'site.imu', data: new Uint8Array(size), headers: headers() })
    expect(nats.counters.dropped.backlog).toBe(2)
    release()
    await new Promise((resolve) => setImmediate(resolve))
    expect(nats.message({ subject: 'site.imu', data: new Uint8Array(size), headers: headers() })).toBe(true)
  })

  it(`charges each message ${NATS_MESSAGE_COST_BYTES} bytes besides its payload: a flood of empty ones is bounded too`, async () => {
    let release: () => void = () => {}
    const held = new Promise<boolean>((resolve) => {
      release = () => resolve(true)
    })
    const { nats, got } = input(() => held)
    const most = NATS_MAX_INFLIGHT_BYTES / NATS_MESSAGE_COST_BYTES
    for (let i = 0; i < most + 10; i++)
      nats.message({ subject: 'site.imu', data: new Uint8Array(0), headers: headers() })
    // Before: every empty message was taken while the output was stuck, without any bound.
    expect(got).toHaveLength(most)
    expect(nats.counters.dropped.backlog).toBe(10)
    release()
    await new Promise((resolve) => setImmediate(resolve))
    expect(nats.counters.forwarded).toBe(most)
    expect(nats.message({ subject: 'site.imu', data: new Uint8Array(0), headers: headers() })).toBe(true)
  })
})

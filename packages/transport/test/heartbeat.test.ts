/**
 * HEARTBEAT frames on loopback (every socket on 127.0.0.0/8): loss after a stream's last frame, and
 * publishers that go quiet for good.
 */
import { createSocket, type Socket } from 'node:dgram'
import { Imu } from '@shoal/schema'
import { afterEach, describe, expect, it } from 'vitest'
import { createPublisher, createSubscriber, type ReceivedFrame, type SourceEvent } from '../src/index.js'
import { encodeHeartbeats, encodeTopic, encodeWholeFrame } from '../src/wire/index.js'
import { closeAfterEach, uniqueEndpoint, waitFor } from './support.js'

const track = closeAfterEach()
const sockets: Socket[] = []
afterEach(() => {
  for (const s of sockets.splice(0)) s.close()
})

/** A bare sender on `address`: frames of session 0x4b1d on topic imu, and heartbeats, by hand. */
async function bareSender(address: string, group: string, port: number) {
  const socket = createSocket('udp4')
  sockets.push(socket)
  await new Promise<void>((resolve) => socket.bind(0, address, resolve))
  socket.setMulticastInterface('127.0.0.1')
  const send = (datagram: Uint8Array) =>
    new Promise<void>((resolve, reject) =>
      socket.send(datagram, port, group, (e) => (e ? reject(e) : resolve())),
    )
  const topicBytes = encodeTopic('imu')
  return {
    frame: (sequence: number) =>
      send(encodeWholeFrame(0, 0, 0x4b1d, sequence, Imu.fingerprint, topicBytes, Imu.encode({}))),
    heartbeat: async (last: number) => {
      for (const d of encodeHeartbeats(0x4b1d, 0, [{ topicBytes, sequence: last }], 1_472)) await send(d)
    },
  }
}

describe('heartbeats', () => {
  it('show the loss after a stream’s last frame at once; a stranger’s heartbeat moves nothing', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1' }))
    const sender = await bareSender('127.0.0.1', group, port)
    for (let s = 0; s < 8; s++) await sender.frame(s) // 8 and 9 are lost
    await waitFor(() => sub.stats().datagramsIn === 8, 5_000)
    const stranger = await bareSender('127.0.0.2', group, port)
    await stranger.heartbeat(500)
    await sender.heartbeat(9)
    await waitFor(() => sub.stats().heartbeats?.received === 2, 5_000)
    expect(sub.stats().received[0]).toMatchObject({ frames: 8, gaps: 2 })
    expect(sub.stats().outcomes).toMatchObject({ delivered: 8, heartbeat: 2 })
  })

  it('a publisher closing sends a last heartbeat; a quiet one beats while its receivers wait', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1' }))
    const frames: ReceivedFrame[] = []
    sub.on('frame', (f: ReceivedFrame) => frames.push(f))
    const pub = await createPublisher({
      group,
      port,
      interface: '127.0.0.1',
      heartbeat: { minMs: 5, maxMs: 50 },
    })
    for (let i = 0; i < 20; i++) await pub.publish('imu', Imu, {})
    await waitFor(() => (sub.stats().heartbeats?.received ?? 0) >= 3, 5_000, 'heartbeats while quiet')
    await pub.close()
    const sent = pub.stats().heartbeats!.sent
    await waitFor(() => sub.stats().heartbeats?.received === sent, 5_000, 'the last heartbeat')
    expect(frames).toHaveLength(20)
    expect(sub.stats().received[0]).toMatchObject({ frames: 20, gaps: 0 })
  })

  it('a publisher that stops is gone after sourceGoneMs; its restart is a new session, alive, with no false gap', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1', sourceGoneMs: 300 }))
    const events: SourceEvent[] = []
    sub.on('source', (e: SourceEvent) => events.push(e))
    const first = await createPublisher({ group, port, interface: '127.0.0.1', heartbeat: { maxMs: 100 } })
    for (let i = 0; i < 5; i++) await first.publish('imu', Imu, {})
    await waitFor(() => events.length === 1, 5_000, 'alive')
    // Still alive while it is quiet: its heartbeats keep coming.
    await new Promise((resolve) => setTimeout(resolve, 600))
    expect(events.map((e) => e.state)).toEqual(['alive'])
    await first.close()
    const second = await track(
      createPublisher({ group, port, interface: '127.0.0.1', heartbeat: { maxMs: 100 } }),
    )
    for (let i = 0; i < 5; i++) await second.publish('imu', Imu, {})
    await waitFor(() => events.length === 3, 5_000, 'the first gone, the second alive')
    expect(events.map((e) => [e.state, e.sessionId])).toEqual(
      expect.arrayContaining([
        ['alive', first.sessionId],
        ['gone', first.sessionId],
        ['alive', second.sessionId],
      ]),
    )
    expect(sub.stats().received.every((s) => s.gaps === 0)).toBe(true)
    expect(sub.stats().sources).toEqual({ alive: 1, gone: 1 })
  })
})

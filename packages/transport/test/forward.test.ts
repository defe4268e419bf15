/**
 * Forward mode, the relay's half of the transport: a subscriber with `forward: true` hands over
 * checked datagrams, `publisher.forward()` sends them on. Loopback only (127.0.0.1).
 */
import { Image, Imu, nowStampNs } from '@shoal/schema'
import { describe, expect, it } from 'vitest'
import {
  createPublisher,
  createSubscriber,
  type ForeignAck,
  type ForwardDatagram,
  type ReceivedFrame,
} from '../src/index.js'
import { FrameKind } from '../src/wire/index.js'
import { closeAfterEach, uniqueEndpoint, waitFor } from './support.js'

const track = closeAfterEach()

/** Source group A → forwarding subscriber → batching publisher → group B. */
async function hop() {
  const a = uniqueEndpoint()
  const b = uniqueEndpoint()
  const inbound = await track(createSubscriber({ ...a, interface: '127.0.0.1', forward: true }))
  const outbound = await track(createPublisher({ ...b, interface: '127.0.0.1', batch: true }))
  const forwarded: ForwardDatagram[] = []
  inbound.on('datagram', (d: ForwardDatagram) => {
    forwarded.push(d)
    void outbound.forward(d.data, d.header.hops + 1)
  })
  return { a, b, outbound, forwarded }
}

describe('forward mode', () => {
  it('passes whole frames batched and fragments one by one; downstream reassembles with the original session and sequence', async () => {
    const { a, b, forwarded } = await hop()
    const sink = await track(createSubscriber({ ...b, interface: '127.0.0.1' }))
    const got: ReceivedFrame[] = []
    sink.on('frame', (f) => got.push(f))
    const source = await track(createPublisher({ ...a, interface: '127.0.0.1', budget: 1_472 }))

    for (let i = 0; i < 50; i++)
      await source.publish('imu', Imu, {
        header: { sourceId: 'imu0', frameId: `${i}`, stampNs: nowStampNs() },
      })
    const data = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff)
    const image = await source.publish('camera', Image, { width: 1000, height: 100, step: 1000, data })
    expect(image.datagrams).toBeGreaterThan(60)

    await waitFor(() => got.length === 51, 10_000, 'every frame through the hop')
    // Every fragment passed on by itself (a fragment the inbound side asked for again, when the
    // source held back for its STATUS looked like a lost tail, may pass twice).
    const fragments = forwarded.filter((d) => d.header.topic === 'camera').map((d) => d.header.fragmentIndex)
    expect(new Set(fragments).size).toBe(image.datagrams)
    expect(got.every((f) => f.source.sessionId === source.sessionId && f.hops === 1)).toBe(true)
    expect(got.filter((f) => f.topic === 'imu').map((f) => f.sequence)).toEqual([...Array(50).keys()])
    const camera = got.find((f) => f.topic === 'camera')!
    expect(camera.sequence).toBe(image.sequence)
    expect(Buffer.compare((camera.message as { data: Uint8Array }).data, data)).toBe(0)
    expect(sink.stats().drops).toEqual({})
  })

  it("hands an ack for a forwarded frame to the forwarding publisher as 'foreign-ack'", async () => {
    const { a, b, outbound } = await hop()
    await track(createSubscriber({ ...b, interface: '127.0.0.1', ack: true, name: 'far' }))
    const source = await track(createPublisher({ ...a, interface: '127.0.0.1' }))
    const acks: ForeignAck[] = []
    outbound.on('foreign-ack', (ack: ForeignAck) => acks.push(ack))

    const result = await source.publish('imu', Imu, { header: { sourceId: 'imu0' } }, { ack: true })
    await waitFor(() => acks.length === 1, 5_000, 'the ack at the forwarding publisher')
    expect(acks[0]!.header).toMatchObject({
      kind: FrameKind.ACK,
      sessionId: source.sessionId,
      topic: 'imu',
      sequence: result.sequence,
    })
  })
})

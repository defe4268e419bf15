/**
 * `publisher.forwardMessage()`: a whole message from another medium (the relay's NATS bridge) goes
 * out with its original session, sequence and hops, whole, batched or fragmented, and a receiver
 * counts its stream's loss exactly. Loopback only (127.0.0.1).
 */
import { Image, Imu, nowStampNs } from '@shoal/schema'
import { describe, expect, it } from 'vitest'
import { createPublisher, createSubscriber, type ReceivedFrame } from '../src/index.js'
import { closeAfterEach, uniqueEndpoint, waitFor } from './support.js'

const track = closeAfterEach()
const SESSION = 0xdead_beef

async function pair(batch: boolean) {
  const endpoint = uniqueEndpoint()
  const sink = await track(createSubscriber({ ...endpoint, interface: '127.0.0.1', repair: false }))
  const got: ReceivedFrame[] = []
  sink.on('frame', (f: ReceivedFrame) => got.push(f))
  const publisher = await track(
    createPublisher({ ...endpoint, interface: '127.0.0.1', batch, heartbeat: false, budget: 1_472 }),
  )
  return { sink, got, publisher }
}

const imu = (i: number) =>
  Imu.encode({ header: { sourceId: 'imu0', frameId: `${i}`, stampNs: nowStampNs() } })

describe('publisher.forwardMessage', () => {
  for (const batch of [true, false]) {
    it(`sends with the given session, sequence and hops (${batch ? 'batched' : 'unbatched'}); the gap left is counted lost`, async () => {
      const { sink, got, publisher } = await pair(batch)
      // Sequences 100..119 without 105-107: three lost on the way to the bridge.
      const sequences = [...Array(20).keys()].map((i) => 100 + i).filter((s) => s < 105 || s > 107)
      await Promise.all(
        sequences.map((sequence) =>
          publisher.forwardMessage({
            topic: 'sensors/imu',
            fingerprint: Imu.fingerprint,
            payload: imu(sequence),
            sessionId: SESSION,
            sequence,
            hops: 2,
          }),
        ),
      )
      await waitFor(() => got.length === sequences.length, 5_000, 'every forwarded message')
      expect(got.map((f) => f.sequence)).toEqual(sequences)
      expect(
        got.every((f) => f.source.sessionId === SESSION && f.hops === 2 && f.topic === 'sensors/imu'),
      ).toBe(true)
      expect((got[0]!.message as { header: { frameId: string } }).header.frameId).toBe('100')
      const stream = sink.stats().received.find((s) => s.topic === 'sensors/imu')!
      expect(stream.gaps).toBe(3)
      expect(stream.frames).toBe(sequences.length)
      // The publisher's own session sent nothing: no stream of its own.
      expect(publisher.stats().sent).toEqual([])
    })
  }

  it('fragments a message larger than the budget; the receiver reassembles it under the original identity', async () => {
    const { got, publisher } = await pair(true)
    const data = new Uint8Array(50_000).map((_, i) => (i * 13) & 0xff)
    const payload = Image.encode({ width: 500, height: 100, step: 500, data })
    const result = await publisher.forwardMessage({
      topic: 'camera',
      fingerprint: Image.fingerprint,
      payload,
      sessionId: SESSION,
      sequence: 7,
      hops: 1,
    })
    expect(result.datagrams).toBeGreaterThan(30)
    await waitFor(() => got.length === 1, 5_000, 'the reassembled image')
    expect(got[0]).toMatchObject({ topic: 'camera', sequence: 7, hops: 1 })
    expect(got[0]!.source.sessionId).toBe(SESSION)
    expect(Buffer.compare((got[0]!.message as { data: Uint8Array }).data, data)).toBe(0)
  })

  it('rejects a session, sequence or hop count out of range, and a bad topic', async () => {
    const { publisher } = await pair(true)
    const good = {
      topic: 't',
      fingerprint: Imu.fingerprint,
      payload: imu(0),
      sessionId: 1,
      sequence: 1,
      hops: 1,
    }
    await expect(publisher.forwardMessage({ ...good, sessionId: 2 ** 32 })).rejects.toThrow(/sessionId/)
    await expect(publisher.forwardMessage({ ...good, sequence: -1 })).rejects.toThrow(/sequence/)
    await expect(publisher.forwardMessage({ ...good, hops: 256 })).rejects.toThrow(/hops/)
    await expect(publisher.forwardMessage({ ...good, topic: '' })).rejects.toMatchObject({
      code: 'SHOAL_BAD_TOPIC',
    })
  })
})

/**
 * Reassembly buffers over real sockets (127.0.0.1 only): buffers of given-up messages are reused,
 * and what a subscriber delivered is never overwritten.
 */
import { Image, nowStampNs } from '@shoal/schema'
import { expect, it } from 'vitest'
import { createPublisher, createSubscriber, type ReceivedFrame } from '../src/index.js'
import { encodeTopic, FrameKind, fragmentMessage } from '../src/wire/index.js'
import { closeAfterEach, uniqueEndpoint, waitFor } from './support.js'

const track = closeAfterEach()

/** A 64 KiB image (two fragments on loopback), every pixel `fill`. */
const image = (fill: number) => ({
  header: { sourceId: 'cam', frameId: 'f', stampNs: nowStampNs() },
  width: 256,
  height: 256,
  encoding: 'mono8',
  step: 256,
  data: new Uint8Array(256 * 256).fill(fill),
})

it('a delivered image keeps its bytes while later images reuse the buffers of lost ones', async () => {
  const { group, port } = uniqueEndpoint()
  // One partial message at a time: each new image evicts the lost one before it.
  const sub = await track(
    createSubscriber({ group, port, interface: '127.0.0.1', reassembly: { maxPartialMessages: 1 } }),
  )
  const pub = await track(createPublisher({ group, port, interface: '127.0.0.1' }))
  const got: ReceivedFrame[] = []
  sub.on('frame', (f) => got.push(f))

  await pub.publish('camera', Image, image(1))
  await waitFor(() => got.length === 1, 5_000, 'the first image')
  const first = got[0]!
  const firstPayload = first.payload.slice()
  const firstData = (first.message as { data: Uint8Array }).data

  const rounds = 6
  for (let k = 0; k < rounds; k++) {
    // The first fragment of an image from another source, whose second fragment never comes.
    const [lost] = fragmentMessage(
      {
        kind: FrameKind.DATA,
        flags: 0,
        hops: 0,
        topic: 'camera',
        sessionId: 0xabc,
        sequence: k,
        fingerprint: Image.fingerprint,
        extensionLength: 0,
      },
      encodeTopic('camera'),
      Image.encode(image(100 + k)),
      pub.info.budget,
    )
    await pub.sendRaw(lost!)
    await pub.publish('camera', Image, image(10 + k))
  }
  await waitFor(() => got.length === 1 + rounds, 5_000, 'the later images')

  expect(sub.reassemblyStats().reusedBuffers).toBeGreaterThanOrEqual(1)
  expect(first.payload).toEqual(firstPayload)
  expect(firstData).toEqual(new Uint8Array(256 * 256).fill(1))
  got.slice(1).forEach((f, k) => {
    expect((f.message as { data: Uint8Array }).data).toEqual(new Uint8Array(256 * 256).fill(10 + k))
    expect(f.payload.buffer).not.toBe(first.payload.buffer)
  })
})

it('with reuseBuffers, each image arrives whole and into the buffer the one before it used', async () => {
  const { group, port } = uniqueEndpoint()
  const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1', reuseBuffers: true }))
  const pub = await track(createPublisher({ group, port, interface: '127.0.0.1' }))
  const seen: Array<{ fill: boolean; buffer: ArrayBufferLike }> = []
  sub.on('frame', (f) => {
    // Checked inside the listener: that is as long as the payload is valid.
    const data = (f.message as { data: Uint8Array }).data
    seen.push({ fill: data.every((b) => b === 20 + seen.length), buffer: f.payload.buffer })
  })
  for (let k = 0; k < 5; k++) {
    await pub.publish('camera', Image, image(20 + k))
    await waitFor(() => seen.length === k + 1, 5_000, `image ${k}`)
  }
  expect(seen.map((s) => s.fill)).toEqual([true, true, true, true, true])
  expect(new Set(seen.map((s) => s.buffer)).size).toBe(1)
  expect(sub.reassemblyStats().reusedBuffers).toBe(4)
})

it('with reuseBuffers, frames queued for an async iterator keep their own buffers', async () => {
  const { group, port } = uniqueEndpoint()
  const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1', reuseBuffers: true }))
  const pub = await track(createPublisher({ group, port, interface: '127.0.0.1' }))
  const frames = sub[Symbol.asyncIterator]()
  const next = frames.next() // the iterator is open from here on
  for (let k = 0; k < 3; k++) await pub.publish('camera', Image, image(30 + k))
  const got: ReceivedFrame[] = [(await next).value as ReceivedFrame]
  for (let k = 1; k < 3; k++) got.push((await frames.next()).value as ReceivedFrame)
  got.forEach((f, k) => {
    expect((f.message as { data: Uint8Array }).data).toEqual(new Uint8Array(256 * 256).fill(30 + k))
  })
  expect(sub.reassemblyStats().reusedBuffers).toBe(0)
  await frames.return?.()
})

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

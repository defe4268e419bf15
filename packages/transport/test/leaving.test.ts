/**
 * A receiver that closes says so (a STATUS flagged LEAVING, WIRE.md “STATUS”): its publisher stops
 * waiting for it at once instead of for its receiver timeout. On loopback (127.0.0.1 only).
 */
import { createSocket } from 'node:dgram'
import { Temperature } from '@shoal/schema'
import { describe, expect, it } from 'vitest'
import { createPublisher, createSubscriber } from '../src/index.js'
import { encodeControlFrame, encodeLeavingStatus, FrameKind } from '../src/wire/index.js'
import { closeAfterEach, uniqueEndpoint, waitFor } from './support.js'

const track = closeAfterEach()
/** Bounds on waits (not speed checks): far above what each takes, below the receiver timeout. */
const WAIT_MS = 5_000

async function reporting() {
  const { group, port } = uniqueEndpoint()
  const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1' }))
  // A receiver timeout far longer than any wait here: only a LEAVING can let the receiver go.
  const pub = await track(
    createPublisher({ group, port, interface: '127.0.0.1', flow: { receiverTimeoutMs: 60_000 } }),
  )
  // A STATUS goes once the stream has a few datagrams: publish until the publisher counts the receiver.
  await waitFor(
    async () => {
      await pub.publish('temperature', Temperature, { celsius: 20 })
      return pub.stats().flow?.receivers === 1
    },
    WAIT_MS,
    'the receiver to report',
  )
  return { pub, sub, port }
}

describe('a receiver leaving', () => {
  it('close() tells its publisher, which lets it go at once (counted left, not timed out)', async () => {
    const { pub, sub } = await reporting()
    await sub.close()
    await waitFor(() => pub.stats().flow?.left === 1, WAIT_MS, 'the publisher to let the receiver go')
    expect(pub.stats().flow).toMatchObject({ receivers: 0, left: 1, timedOut: 0 })
  })

  it('a LEAVING from another address and port (a stranger with a plain socket) lets no receiver go', async () => {
    const { pub } = await reporting()
    const stranger = createSocket('udp4')
    await new Promise<void>((resolve) => stranger.bind(0, '127.0.0.1', resolve))
    try {
      const send = (datagram: Uint8Array) =>
        new Promise<void>((resolve, reject) =>
          stranger.send(datagram, pub.info.local.port, '127.0.0.1', (error) =>
            error ? reject(error) : resolve(),
          ),
        )
      // Receiver sessions a stranger might guess: none names a receiver at its address and port.
      for (let guess = 0; guess < 64; guess++) await send(encodeLeavingStatus(pub.sessionId, guess, 0))
      // Then a STATUS too short to read: once it is counted, everything before it was read.
      const about = { sessionId: pub.sessionId, sequence: 0, topic: '*' }
      await send(encodeControlFrame(FrameKind.STATUS, about, new Uint8Array(3)))
      await waitFor(() => pub.stats().drops['bad-status'] === 1, WAIT_MS, 'the forged statuses read')
      expect(pub.stats().flow).toMatchObject({ receivers: 1, left: 0 })
    } finally {
      stranger.close()
    }
  })
})

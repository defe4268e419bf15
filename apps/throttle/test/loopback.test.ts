/**
 * shoal-throttle in this process between real sockets on 127.0.0.1 (the network rule: loopback only):
 * a publisher on the input group, the service, a subscriber on the output group.
 */
import { randomInt } from 'node:crypto'
import { Imu, nowStampNs } from '@shoal/schema'
import { configHarness } from '@shoal/service/testing'
import { createPublisher, createSubscriber, type ReceivedFrame } from '@shoal/transport'
import { afterEach, expect, it } from 'vitest'
import { resolveThrottleConfig, throttleFlags } from '../src/config.js'
import { openThrottle } from '../src/pipeline.js'

/** The one bound on any wait here (not a speed check). */
const WAIT_MS = 10_000
const open: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()))
})

async function waitFor(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

it('republishes every frame of the subscribed topics on the output group, and counts them', async () => {
  // Test files run in parallel: groups and a port no other test uses at the same time.
  const input = `239.255.${randomInt(1, 255)}.${randomInt(1, 255)}`
  const output = `239.254.${randomInt(1, 255)}.${randomInt(1, 255)}`
  const port = randomInt(20_000, 60_000)
  const { resolve } = configHarness(throttleFlags, resolveThrottleConfig)
  const config = resolve([
    '--interface',
    '127.0.0.1',
    '--group',
    input,
    '--out-group',
    output,
    '--port',
    String(port),
    '--topic',
    'imu',
  ])
  const service = await openThrottle(config)
  open.push(service)
  const subscriber = await createSubscriber({ group: output, port, interface: '127.0.0.1' })
  open.push(subscriber)
  const frames: ReceivedFrame[] = []
  subscriber.on('frame', (f: ReceivedFrame) => frames.push(f))
  const publisher = await createPublisher({ group: input, port, interface: '127.0.0.1' })
  open.push(publisher)

  const count = 20
  for (let i = 0; i < count; i++) {
    await publisher.publish('imu', Imu, {
      header: { sourceId: 'imu0', frameId: `${i}`, stampNs: nowStampNs() },
    })
    await publisher.publish('not-subscribed', Imu, { header: { sourceId: 'imu0', frameId: `${i}` } })
  }
  await waitFor(() => frames.length === count, `${count} frames on the output`)

  expect(frames.map((f) => (f.message as { header?: { frameId?: string } }).header?.frameId)).toEqual(
    [...Array(count).keys()].map(String),
  )
  expect(frames.every((f) => f.topic === 'imu' && f.typeName === Imu.typeName)).toBe(true)
  expect(service.counters()).toEqual({
    received: count,
    published: count,
    dropped: { 'send-failed': 0, busy: 0 },
  })
})

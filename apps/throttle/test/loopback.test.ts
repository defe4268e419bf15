/**
 * shoal-throttle in this process between real sockets on 127.0.0.1 (the network rule: loopback
 * only): a publisher on the input group, the throttle, a subscriber on the output group. The
 * throttle's clock and ticks are the test's, so every count is exact.
 */
import { randomInt } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createDynamicRegistry,
  Imu,
  loadProtoTypes,
  type MessageType,
  NavSatFix,
  registry,
} from '@shoal/schema'
import { configHarness } from '@shoal/service/testing'
import {
  createPublisher,
  createSubscriber,
  type Publisher,
  type PublisherOptions,
  type ReceivedFrame,
} from '@shoal/transport'
import { afterEach, describe, expect, it } from 'vitest'
import { resolveThrottleConfig, throttleFlags } from '../src/config.js'
import { openThrottle, type Pipeline } from '../src/pipeline.js'

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

const frameId = (f: ReceivedFrame) => (f.message as { header?: { frameId?: string } }).header?.frameId

/** A throttle between two fresh groups, with a fake clock and ticks run by hand. */
async function setUp(args: string[], publisherOptions: Partial<PublisherOptions> = {}) {
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
    ...args,
  ])
  const clock = { now: 0 }
  const ticks = new Map<number, () => void>()
  const throttle = await openThrottle(config, {
    now: () => clock.now,
    every: (ms, run) => {
      ticks.set(ms, run)
      return () => ticks.delete(ms)
    },
  })
  open.push(throttle)
  const subscriber = await createSubscriber({ group: output, port, interface: '127.0.0.1' })
  open.push(subscriber)
  const frames: ReceivedFrame[] = []
  subscriber.on('frame', (f: ReceivedFrame) => frames.push(f))
  const publisher = await createPublisher({ group: input, port, interface: '127.0.0.1', ...publisherOptions })
  open.push(publisher)
  return { throttle, publisher, frames, clock, ticks }
}

/** Publishes one frame at fake time `at` and waits until the throttle has taken it. */
async function send(
  throttle: Pipeline,
  publisher: Publisher,
  clock: { now: number },
  at: number,
  topic: string,
  i: number,
) {
  clock.now = at
  const before = throttle.counters().received
  if (topic === 'gps') await publisher.publish(topic, NavSatFix, { header: { frameId: `${i}` }, latitude: i })
  else await publisher.publish(topic, Imu, { header: { sourceId: 'imu0', frameId: `${i}` } })
  await waitFor(() => throttle.counters().received === before + 1, `the throttle to receive ${topic} ${i}`)
}

/**
 * Runs `use` with `acme.v1.NAME { shoal.v1.Header header = 1; double FIELD = 2; }`, a type no
 * build of Shoal has, loaded from a `.proto` written to a temporary folder (removed after).
 */
async function withType(
  name: string,
  field: string,
  use: (type: MessageType, proto: string) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-throttle-proto-'))
  try {
    const proto = join(dir, `${name.toLowerCase()}.proto`)
    writeFileSync(
      proto,
      `syntax = "proto3";\npackage acme.v1;\nimport "shoal/v1/header.proto";\nmessage ${name} { shoal.v1.Header header = 1; double ${field} = 2; }\n`,
    )
    const type = loadProtoTypes([proto]).types.find((t) => t.typeName === `acme.v1.${name}`)
    if (type === undefined) throw new Error(`acme.v1.${name} not loaded`)
    await use(type, proto)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('sender → throttle → receiver on loopback', () => {
  it('--rate imu=10: 100 Hz in, the first of each 100 ms window out, the rest counted as rate', async () => {
    const { throttle, publisher, frames, clock } = await setUp(['--rate', 'imu=10'])
    for (let i = 0; i < 100; i++) await send(throttle, publisher, clock, i * 10, 'imu', i)
    await waitFor(() => throttle.counters().published === 10, '10 frames published')
    await waitFor(() => frames.length === 10, '10 frames on the output')
    expect(frames.map(frameId)).toEqual(['0', '10', '20', '30', '40', '50', '60', '70', '80', '90'])
    expect(frames.every((f) => f.topic === 'imu' && f.typeName === Imu.typeName)).toBe(true)
    expect(throttle.counters()).toMatchObject({
      received: 100,
      published: 10,
      dropped: { rate: 90, busy: 0 },
    })
  })

  it('--latest gps: only the newest frame since the last tick goes out at each tick; unmatched topics pass', async () => {
    const { throttle, publisher, frames, clock, ticks } = await setUp(['--latest', 'gps=2'])
    const tick = ticks.get(500)
    if (tick === undefined) throw new Error('no 500 ms tick for --latest gps=2')
    for (let i = 0; i < 7; i++) await send(throttle, publisher, clock, i, 'gps', i)
    for (let i = 0; i < 3; i++) await send(throttle, publisher, clock, 7 + i, 'imu', i)
    tick()
    for (let i = 7; i < 10; i++) await send(throttle, publisher, clock, i, 'gps', i)
    tick()
    tick() // nothing new: nothing goes out
    await waitFor(() => frames.length === 5, '5 frames on the output')
    expect(frames.filter((f) => f.topic === 'gps').map(frameId)).toEqual(['6', '9'])
    expect(frames.filter((f) => f.topic === 'imu').map(frameId)).toEqual(['0', '1', '2'])
    expect(throttle.counters()).toMatchObject({
      received: 13,
      published: 5,
      dropped: { superseded: 8, rate: 0 },
    })
  })

  it('--unmatched drop: topics no rule names are dropped and counted', async () => {
    const { throttle, publisher, frames, clock } = await setUp(['--rate', 'imu=1000', '--unmatched', 'drop'])
    for (let i = 0; i < 5; i++) await send(throttle, publisher, clock, i * 10, 'imu', i)
    for (let i = 0; i < 4; i++) await send(throttle, publisher, clock, 100, 'gps', i)
    await waitFor(() => frames.length === 5, '5 frames on the output')
    expect(frames.map((f) => f.topic)).toEqual(['imu', 'imu', 'imu', 'imu', 'imu'])
    expect(throttle.counters()).toMatchObject({ received: 9, published: 5, dropped: { unmatched: 4 } })
  })

  it('--proto: a type the receiver was not built with is republished with its schema, and decodes beyond', async () => {
    // The output is the throttle's own session: receivers ask it, not the first publisher, for schemas.
    await withType('Wind', 'speed', async (Wind, proto) => {
      const { throttle, publisher, frames } = await setUp(['--proto', proto])
      for (let i = 1; i <= 3; i++) await publisher.publish('weather/wind', Wind, { speed: i })
      await waitFor(() => frames.length === 3, '3 wind frames decoded on the output')
      expect(frames.map((f) => [f.typeName, (f.message as { speed: number }).speed])).toEqual([
        ['acme.v1.Wind', 1],
        ['acme.v1.Wind', 2],
        ['acme.v1.Wind', 3],
      ])
      expect(throttle.counters()).toMatchObject({ received: 3, published: 3 })
    })
  })

  it('no --proto: the throttle learns a type its publisher announces in-band, and answers for it beyond', async () => {
    await withType('Gust', 'peak', async (Gust) => {
      // Only the first publisher knows the type: it announces it on its first send (WIRE.md “Schemas”).
      const source = createDynamicRegistry(registry)
      source.add(Gust)
      const { throttle, publisher, frames } = await setUp([], { schemas: source })
      for (let i = 1; i <= 3; i++) await publisher.publish('weather/gust', Gust, { peak: i })
      await waitFor(() => frames.length === 3, '3 gust frames decoded beyond the throttle')
      expect(frames.map((f) => [f.typeName, (f.message as { peak: number }).peak])).toEqual([
        ['acme.v1.Gust', 1],
        ['acme.v1.Gust', 2],
        ['acme.v1.Gust', 3],
      ])
      expect(throttle.counters()).toMatchObject({ received: 3, published: 3 })
      expect(throttle.transportStats().schemas).toMatchObject({ accepted: 1 })
    })
  })
})

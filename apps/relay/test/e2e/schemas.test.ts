/**
 * In-band schemas (WIRE.md “Schemas”) end to end, every process in a private network namespace:
 *
 *   a (a publisher of acme.v1.Wind) ── sitea ── r (shoal-relay) ── siteb ── b (shoal-recv)
 *   x (plain UDP sockets) ─────────── sitea                         siteb ── y (plain UDP sockets)
 *
 * `shoal-recv` is started without any `.proto`: it learns Wind from the publisher's announce, which
 * it asks for through the relay (it joins after the first-send announce went by), and prints the
 * frames decoded. A forged announce (a fingerprint that is not its descriptor's) is rejected and
 * counted. A flood of SCHEMA_REQUESTs from x makes the publisher send no more than its named limits.
 * The publisher is a fixture on @shoal/transport (`fixtures/schema-publisher.mjs`); x and y use
 * plain sockets and the wire codec (`fixtures/schema-kit.mjs`).
 */
import { fileURLToPath } from 'node:url'
import { createNetwork, type Network, requireNetns } from '@shoal/netns'
import { sampleValue } from '@shoal/service/testing'
import {
  SCHEMA_ANNOUNCE_INTERVAL_MS,
  SCHEMA_BUDGET_BURST_BYTES,
  SCHEMA_BUDGET_BYTES_PER_SECOND,
  SCHEMA_HOLD_FRAMES,
} from '@shoal/transport'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertBuilt,
  fixtureReady,
  fixtureResult,
  frames,
  type Running,
  scrape,
  startFixture,
  startOn,
  stopAll,
  sumOf,
} from './support.js'

const netns = requireNetns()
const PORT = 7400
const WIND_PROTO = fileURLToPath(
  new URL('../../../../packages/schema/test/fixtures/proto/acme/v1/wind.proto', import.meta.url),
)

interface PublisherInfo {
  session: string
  port: number
  fingerprint: number
}

interface PublisherResult {
  sent: number
  schemas: { announced: number; announcedBytes: number; requested: number; limited: number; unknown: number }
}

interface FloodResult {
  requests: number
  floodMs: number
  seen: { announces: number; datagrams: number; bytes: number }
}

describe.skipIf(netns.skip)('in-band schemas: a receiver with no .proto learns a custom type', () => {
  let net: Network
  const running: Running[] = []
  let run = 0

  beforeAll(async () => {
    assertBuilt()
    net = await createNetwork({
      hosts: ['a', 'r', 'b', 'x', 'y'],
      segments: [
        { name: 'sitea', hosts: ['a', 'r', 'x'] },
        { name: 'siteb', hosts: ['r', 'b', 'y'] },
      ],
    })
  }, 30_000)

  afterAll(async () => {
    await stopAll(running)
    await net?.destroy()
  })

  const groups = () => {
    run++
    return { ga: `239.255.31.${run}`, gb: `239.255.32.${run}` }
  }
  const ip = (host: string) => net.host(host).ipv4()

  function track(p: Running) {
    running.push(p)
    return p
  }

  function publisher(ga: string, seconds: number, rate = 20) {
    return track(
      startFixture(net.host('a'), 'schema-publisher.mjs', [
        '--iface',
        ip('a'),
        '--group',
        ga,
        '--port',
        String(PORT),
        '--rate',
        String(rate),
        '--seconds',
        String(seconds),
      ]),
    )
  }

  const info = (p: Running) => JSON.parse(p.stdout().split('\n')[0]!) as PublisherInfo

  it('shoal-recv without --proto asks through the relay, then prints every Wind frame decoded', async () => {
    const { ga, gb } = groups()
    const r = track(
      startOn(net.host('r'), 'relay', [
        '--in',
        `multicast://${ga}:${PORT}?interface=v-sitea`,
        '--out',
        `multicast://${gb}:${PORT}?interface=v-siteb`,
        '--http',
        '0',
      ]),
    )
    await r.waitForLog('ready')
    const a = publisher(ga, 6)
    await fixtureReady(a)
    // b joins after the first-send announce went by: it must ask.
    await new Promise((resolve) => setTimeout(resolve, 500))
    const b = track(
      startOn(net.host('b'), 'recv', [
        ...['--interface', 'v-siteb', '--group', gb, '--port', String(PORT)],
        ...['--output', 'json', '--http', '0'],
      ]),
    )
    await b.waitForLog('ready')
    await b.waitUntil('a decoded Wind frame', () =>
      frames(b).some((f) => f.type === 'acme.v1.Wind') ? true : undefined,
    )
    const result = await fixtureResult<PublisherResult>(a, 20_000)
    const wind = frames(b).filter((f) => f.topic === 'wind')
    expect(wind.length).toBeGreaterThan(0)
    expect(wind.at(-1)).toMatchObject({
      type: 'acme.v1.Wind',
      fingerprint: `0x${info(a).fingerprint.toString(16).padStart(8, '0')}`,
      hops: 1,
      message: { directionDeg: 270, site: 'north ridge', header: { sourceId: 'mast-1' } },
    })
    // Printed in order; once the schema came, every frame (the type is known from then on).
    const sequences = wind.map((f) => f.sequence)
    expect(sequences).toEqual([...sequences].sort((x, y) => x - y))
    expect(sequences.at(-1)).toBe(result.sent - 1)
    // The announce on first send, then the one b asked for (through r).
    expect(result.schemas.announced).toBe(2)
    expect(result.schemas.requested).toBeGreaterThanOrEqual(1)
    const bm = await scrape(net.host('b'), b)
    expect(sampleValue(bm, 'shoal_schema_events_total', { event: 'accepted' })).toBe(1)
    expect(sampleValue(bm, 'shoal_schema_events_total', { event: 'requested' })).toBeGreaterThanOrEqual(1)
    // The frames between b's join and the schema were held for it and printed after (up to
    // SCHEMA_HOLD_FRAMES; past it, counted unknown): every frame b saw is printed or counted.
    const held = sampleValue(bm, 'shoal_schema_events_total', { event: 'held' })
    expect(held).toBeGreaterThanOrEqual(1)
    expect(held).toBeLessThanOrEqual(SCHEMA_HOLD_FRAMES)
    expect(sampleValue(bm, 'shoal_schema_events_total', { event: 'released' })).toBe(held)
    const unknown = sumOf(bm, 'shoal_drops_total', { reason: 'unknown-type' })
    // The first frames held are the first b saw, printed first.
    expect(wind.length + unknown).toBe(result.sent - wind[0]!.sequence)
    const rm = await scrape(net.host('r'), r)
    expect(sampleValue(rm, 'shoal_relay_schemas_total', { result: 'forwarded' })).toBeGreaterThanOrEqual(1)
    expect(sampleValue(rm, 'shoal_relay_schemas_total', { result: 'announced' })).toBe(2)
  }, 60_000)

  it('shoal-send --proto publishes a custom type; shoal-recv without it prints every frame', async () => {
    const { ga, gb } = groups()
    const r = track(
      startOn(net.host('r'), 'relay', [
        '--in',
        `multicast://${ga}:${PORT}?interface=v-sitea`,
        '--out',
        `multicast://${gb}:${PORT}?interface=v-siteb`,
      ]),
    )
    await r.waitForLog('ready')
    const b = track(
      startOn(net.host('b'), 'recv', [
        ...['--interface', 'v-siteb', '--group', gb, '--port', String(PORT), '--output', 'json'],
      ]),
    )
    await b.waitForLog('ready')
    const count = 20
    const lines = Array.from(
      { length: count },
      (_, i) =>
        `${JSON.stringify({ topic: 'weather/wind', type: 'acme.v1.Wind', message: { speed: i, site: 'mast' } })}\n`,
    ).join('')
    const a = track(
      startOn(
        net.host('a'),
        'send',
        [
          ...['--interface', 'v-sitea', '--group', ga, '--port', String(PORT)],
          '--proto',
          WIND_PROTO,
          '--input',
          '-',
        ],
        { input: lines },
      ),
    )
    expect((await a.exited()).code).toBe(0)
    await b.waitUntil(`${count} Wind frames`, () =>
      frames(b).filter((f) => f.type === 'acme.v1.Wind').length >= count ? true : undefined,
    )
    const wind = frames(b).filter((f) => f.topic === 'weather/wind')
    expect(wind.map((f) => f.message.speed ?? 0)).toEqual([...Array(count).keys()])
    expect(wind.map((f) => f.sequence)).toEqual([...Array(count).keys()])
    expect(wind[0]).toMatchObject({ type: 'acme.v1.Wind', hops: 1, message: { site: 'mast' } })
  }, 60_000)

  it('a forged announce whose fingerprint does not match its descriptor is rejected and counted', async () => {
    const { gb } = groups()
    const b = track(
      startOn(net.host('b'), 'recv', [
        ...['--interface', 'v-siteb', '--group', gb, '--port', String(PORT)],
        ...['--output', 'json', '--http', '0'],
      ]),
    )
    await b.waitForLog('ready')
    const y = track(
      startFixture(net.host('y'), 'schema-kit.mjs', ['--iface', ip('y'), '--to', `${gb}:${PORT}`, '--forge']),
    )
    await fixtureResult(y)
    let bm = await scrape(net.host('b'), b)
    for (
      let i = 0;
      i < 50 && sampleValue(bm, 'shoal_drops_total', { reason: 'schema-mismatch' }) !== 1;
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      bm = await scrape(net.host('b'), b)
    }
    expect(sampleValue(bm, 'shoal_drops_total', { reason: 'schema-mismatch' })).toBe(1)
    expect(sampleValue(bm, 'shoal_schema_events_total', { event: 'rejected' })).toBe(1)
    expect(sampleValue(bm, 'shoal_schema_events_total', { event: 'accepted' })).toBe(0)
  }, 30_000)

  it('a flood of SCHEMA_REQUESTs from a third host stays within the publisher’s named limits', async () => {
    const { ga } = groups()
    const seconds = 5
    const a = publisher(ga, seconds + 4, 10)
    await fixtureReady(a)
    const { session, port, fingerprint } = info(a)
    // Past the first-send announce: from here on every announce is the flood's doing.
    await new Promise((resolve) => setTimeout(resolve, SCHEMA_ANNOUNCE_INTERVAL_MS + 200))
    const x = track(
      startFixture(net.host('x'), 'schema-kit.mjs', [
        ...['--iface', ip('x'), '--to', `${ip('a')}:${port}`, '--flood', String(seconds)],
        ...['--session', session, '--topic', 'wind', '--fingerprint', String(fingerprint)],
        ...['--listen', `${ga}:${PORT}`, '--rate', '2000'],
      ]),
    )
    const flood = await fixtureResult<FloodResult>(x, 30_000)
    const result = await fixtureResult<PublisherResult>(a, 30_000)
    const floodSeconds = flood.floodMs / 1000
    expect(flood.requests).toBeGreaterThan(1000 * seconds)
    // One type: at most one announce per interval while the flood lasted, and one more at its start.
    const perInterval = Math.ceil((flood.floodMs + 1_500) / SCHEMA_ANNOUNCE_INTERVAL_MS) + 1
    expect(flood.seen.announces).toBeGreaterThan(0)
    expect(flood.seen.announces).toBeLessThanOrEqual(perInterval)
    expect(flood.seen.bytes).toBeLessThanOrEqual(
      SCHEMA_BUDGET_BURST_BYTES + SCHEMA_BUDGET_BYTES_PER_SECOND * (floodSeconds + 1.5),
    )
    // The publisher counted the flood: most of it refused, the made-up fingerprints as unknown.
    expect(result.schemas.requested).toBeGreaterThanOrEqual(flood.requests * 0.9)
    expect(result.schemas.unknown).toBeGreaterThanOrEqual(flood.requests * 0.45)
    expect(result.schemas.limited).toBeGreaterThan(flood.requests * 0.4)
    expect(result.schemas.announced).toBeLessThanOrEqual(perInterval + 1)
  }, 60_000)
})

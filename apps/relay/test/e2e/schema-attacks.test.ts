/**
 * Attacks on a receiver's schema learner (WIRE.md “Schemas”) by a third host with plain UDP
 * sockets (`fixtures/schema-poisoner.mjs`: node:dgram and the wire codec), beside a real shoal-send
 * and shoal-recv, every process in a private network namespace:
 *
 *   a (shoal-send --proto wind.proto) ── lan ── b (shoal-recv, no --proto)
 *                                          └──── x (the attacker)
 *
 * What is refused is counted by reason. Two tests pin limits that hold by design and are not
 * defended without a group key (see each test): a stranger can announce a renamed copy of a real
 * type first (the fingerprint does not cover names), and can fill the learned-type table.
 */
import { fileURLToPath } from 'node:url'
import { createNetwork, type Network, requireNetns } from '@shoal/netns'
import { sampleValue } from '@shoal/service/testing'
import { MAX_LEARNED_TYPES, MAX_PENDING_SCHEMAS, SCHEMA_REQUESTS_PER_SECOND } from '@shoal/transport'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type KeyDir, keyDir } from './keys.js'
import {
  assertBuilt,
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

interface Sent {
  announces: number
  datagrams: number
  bytes: number
  requests?: number
  requestedFingerprints?: number
}

describe.skipIf(netns.skip)('attacks on schema learning: a third host with plain UDP sockets', () => {
  let net: Network
  let keys: KeyDir
  const running: Running[] = []
  let run = 0

  beforeAll(async () => {
    assertBuilt()
    keys = keyDir()
    net = await createNetwork({ hosts: ['a', 'b', 'x'], segments: [{ name: 'lan', hosts: ['a', 'b', 'x'] }] })
  }, 30_000)

  afterAll(async () => {
    await stopAll(running)
    await net?.destroy()
    keys?.remove()
  })

  const group = () => `239.255.43.${++run}`
  const ip = (host: string) => net.host(host).ipv4()
  const track = (p: Running) => {
    running.push(p)
    return p
  }

  async function receiver(g: string, extra: string[] = []) {
    const b = track(
      startOn(net.host('b'), 'recv', [
        ...['--interface', 'v-lan', '--group', g, '--port', String(PORT), '--output', 'json', '--http', '0'],
        ...extra,
      ]),
    )
    await b.waitForLog('ready')
    return b
  }

  function attacker(g: string, args: string[]) {
    return track(
      startFixture(net.host('x'), 'schema-poisoner.mjs', [
        '--iface',
        ip('x'),
        '--to',
        `${g}:${PORT}`,
        ...args,
      ]),
    )
  }

  /** shoal-send --proto wind.proto publishing `count` Wind lines (speed 0..count-1, site "mast"). */
  async function sendWind(g: string, count: number, extra: string[] = []) {
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
          ...[
            '--interface',
            'v-lan',
            '--group',
            g,
            '--port',
            String(PORT),
            '--proto',
            WIND_PROTO,
            '--input',
            '-',
          ],
          ...extra,
        ],
        { input: lines },
      ),
    )
    expect((await a.exited()).code).toBe(0)
  }

  async function metricsWhen(b: Running, done: (m: Awaited<ReturnType<typeof scrape>>) => boolean) {
    let m = await scrape(net.host('b'), b)
    for (let i = 0; i < 100 && !done(m); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      m = await scrape(net.host('b'), b)
    }
    return m
  }
  const drops = (m: Awaited<ReturnType<typeof scrape>>, reason: string) =>
    sumOf(m, 'shoal_drops_total', { reason })
  const events = (m: Awaited<ReturnType<typeof scrape>>, event: string) =>
    sumOf(m, 'shoal_schema_events_total', { event })

  it('an announce of 8,192 fields (180 KB, 6 s for protobufjs to build) is refused by count, before it is built', async () => {
    const g = group()
    const b = await receiver(g)
    const x = attacker(g, ['--costly'])
    const sent = await fixtureResult<Sent & { setBytes: number }>(x, 30_000)
    expect(sent.setBytes).toBeGreaterThan(150_000)
    const m = await metricsWhen(b, (m) => drops(m, 'schema-too-large') === 1)
    // Before @shoal/schema's MAX_DESCRIPTOR_FIELDS_PER_MESSAGE: `schema-mismatch`, seconds later.
    expect(drops(m, 'schema-too-large')).toBe(1)
    expect(drops(m, 'schema-mismatch')).toBe(0)
    expect(events(m, 'rejected')).toBe(1)
    // And b goes on learning: a real custom type right after is learnt and every frame printed.
    await sendWind(g, 20)
    await b.waitUntil('20 Wind frames', () =>
      frames(b).filter((f) => f.type === 'acme.v1.Wind').length >= 20 ? true : undefined,
    )
    expect(frames(b).map((f) => f.message.speed ?? 0)).toEqual([...Array(20).keys()])
  }, 60_000)

  it('made-up fingerprints from a stranger: requests go back to the stranger only, at most SCHEMA_REQUESTS_PER_SECOND', async () => {
    const g = group()
    const b = await receiver(g)
    const n = 2_000
    const x = attacker(g, ['--unknown', String(n), '--listen-ms', '3000'])
    const sent = await fixtureResult<Sent>(x, 60_000)
    expect(sent.datagrams).toBe(n)
    const m = await metricsWhen(b, (m) => drops(m, 'unknown-type') === n)
    expect(drops(m, 'unknown-type')).toBe(n)
    // Within the ~3 s it sent and listened, asks at the receiver's request rate (its burst, then
    // SCHEMA_REQUESTS_PER_SECOND; the pending table lets the oldest go): far fewer than the frames.
    expect(sent.requests).toBeGreaterThan(0)
    expect(sent.requests).toBeLessThanOrEqual(SCHEMA_REQUESTS_PER_SECOND * 6)
    expect(sent.requestedFingerprints).toBeLessThanOrEqual(sent.requests ?? 0)
    expect(events(m, 'requested')).toBe(sent.requests)
    expect(events(m, 'requests_suppressed')).toBeGreaterThan(0)
    expect(sampleValue(m, 'shoal_schemas_pending')).toBeLessThanOrEqual(MAX_PENDING_SCHEMAS)
  }, 90_000)

  it('KNOWN LIMIT, no key: a renamed copy of Wind announced first is learnt (names are not fingerprinted), and never replaced', async () => {
    const g = group()
    const b = await receiver(g)
    const x = attacker(g, ['--rename'])
    await fixtureResult<Sent>(x, 30_000)
    await metricsWhen(b, (m) => events(m, 'accepted') === 1)
    await sendWind(g, 5)
    await b.waitUntil('5 Wind frames', () =>
      frames(b).filter((f) => f.type === 'acme.v1.Wind').length >= 5 ? true : undefined,
    )
    // The real publisher's frames, shown under the stranger's names.
    const last = frames(b).at(-1)!
    expect(last.message).toMatchObject({ forged_speed: 4, forged_site: 'mast' })
    expect(last.message).not.toHaveProperty('site')
    const m = await scrape(net.host('b'), b)
    expect(events(m, 'accepted')).toBe(1)
    expect(events(m, 'known')).toBeGreaterThanOrEqual(1) // the real announce, ignored as known
  }, 60_000)

  it('with a group key the stranger’s renamed announce is refused (unauthenticated) and the real one learnt', async () => {
    const g = group()
    const file = keys.write(`schema-${run}.keys`, { 1: keys.key() })
    const b = await receiver(g, ['--key-file', file])
    const x = attacker(g, ['--rename'])
    await fixtureResult<Sent>(x, 30_000)
    await metricsWhen(b, (m) => drops(m, 'unauthenticated') >= 1)
    await sendWind(g, 5, ['--key-file', file])
    await b.waitUntil('5 Wind frames', () =>
      frames(b).filter((f) => f.type === 'acme.v1.Wind').length >= 5 ? true : undefined,
    )
    expect(frames(b).at(-1)!.message).toMatchObject({ speed: 4, site: 'mast' })
    const m = await scrape(net.host('b'), b)
    expect(drops(m, 'unauthenticated')).toBe(1)
    expect(events(m, 'accepted')).toBe(1)
  }, 60_000)

  it(`KNOWN LIMIT, no key: ${MAX_LEARNED_TYPES} made-up types fill the learned table; a real new type is then schemas-full`, async () => {
    const g = group()
    const b = await receiver(g)
    const x = attacker(g, ['--fill', String(MAX_LEARNED_TYPES)])
    await fixtureResult<Sent>(x, 60_000)
    let m = await metricsWhen(b, (m) => events(m, 'accepted') === MAX_LEARNED_TYPES)
    expect(events(m, 'accepted')).toBe(MAX_LEARNED_TYPES)
    await sendWind(g, 5)
    m = await metricsWhen(b, (m) => drops(m, 'unknown-type') === 5)
    expect(drops(m, 'schemas-full')).toBeGreaterThanOrEqual(1)
    expect(drops(m, 'unknown-type')).toBe(5)
    expect(frames(b).filter((f) => f.type === 'acme.v1.Wind')).toHaveLength(0)
  }, 90_000)
})

/**
 * Types that are not built in, loaded with `--proto` (issue 13, "self-describing streams", offline
 * part), on loopback (interface 127.0.0.1): `shoal-send --proto X --input -` publishes them,
 * `shoal-relay --proto X` forwards them, `shoal-recv --proto X` prints and records them (MCAP and
 * Shoal's own format both carry their schema, so `shoal-recv --from` reads them back without
 * `--proto`), and a `shoal-recv` without `--proto` learns them from the sender's in-band
 * announce (WIRE.md “Schemas”), then prints and records them like the others.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertBuilt,
  frames,
  loopbackEndpoint,
  type Running,
  startLocal,
  stopAll,
  stoppedSummary,
} from './support.js'

const LOOPBACK = '127.0.0.1'
const WIND_PROTO = fileURLToPath(new URL('./fixtures/proto/acme/v1/wind.proto', import.meta.url))
const running: Running[] = []
const scratch = mkdtempSync(join(tmpdir(), 'shoal-proto-e2e-'))

function start(app: 'send' | 'recv' | 'relay', args: string[], input?: string) {
  const p = startLocal(app, args, { input })
  running.push(p)
  return p
}

beforeAll(() => assertBuilt())
afterAll(async () => {
  await stopAll(running)
  rmSync(scratch, { recursive: true, force: true })
})

const COUNT = 20
/** One JSON line per reading; the header's source and stamp are left to shoal-send. */
const lines = Array.from({ length: COUNT }, (_, i) =>
  JSON.stringify({
    topic: 'weather/wind',
    type: 'acme.v1.Wind',
    message: { speed: 3 + i / 4, directionDeg: 270, gusts: [i, i + 0.5], site: 'pier' },
  }),
).join('\n')

describe('--proto: a type that is not built in, end to end', () => {
  it('is published, forwarded by a relay, printed and recorded by a receiver with --proto, and learnt in-band by one without', async () => {
    const a = loopbackEndpoint()
    const b = loopbackEndpoint()
    const near = ['--interface', LOOPBACK, '--group', a.group, '--port', String(a.port)]
    const far = ['--interface', LOOPBACK, '--group', b.group, '--port', String(b.port)]
    const record = join(scratch, 'wind.mcap')
    const shoalRecord = join(scratch, 'wind.rec')
    const learntRecord = join(scratch, 'learnt.mcap')

    const withProto = start('recv', [...far, '--proto', WIND_PROTO, '--output', 'json', '--record', record])
    const recorder = start('recv', [
      ...far,
      '--proto',
      WIND_PROTO,
      '--output',
      'none',
      '--record',
      shoalRecord,
    ])
    const without = start('recv', [...near, '--output', 'json', '--record', learntRecord])
    const relay = start('relay', [
      '--proto',
      WIND_PROTO,
      '--in',
      `multicast://${a.group}:${a.port}?interface=${LOOPBACK}`,
      '--out',
      `multicast://${b.group}:${b.port}?interface=${LOOPBACK}`,
    ])
    await Promise.all([withProto, recorder, without, relay].map((p) => p.waitForLog('ready')))

    const send = start('send', [...near, '--proto', WIND_PROTO, '--input', '-'], lines)
    expect(stoppedSummary(await send.exited())).toMatchObject({ frames: COUNT, lines: COUNT, badLines: 0 })
    await withProto.waitUntil(`${COUNT} frames`, () => (frames(withProto).length >= COUNT ? true : undefined))

    const got = frames(withProto)
    expect(got.map((f) => f.type)).toEqual(Array(COUNT).fill('acme.v1.Wind'))
    expect(got.map((f) => f.topic)).toEqual(Array(COUNT).fill('weather/wind'))
    expect(got.map((f) => f.message.speed)).toEqual(Array.from({ length: COUNT }, (_, i) => 3 + i / 4))
    expect(got[3]?.message).toMatchObject({ directionDeg: 270, gusts: [3, 3.5], site: 'pier' })
    // shoal-send fills the header's source id in, as for built-in types
    expect(got[0]?.message).toMatchObject({ header: { sourceId: expect.stringMatching(/./) } })
    expect(stoppedSummary(await withProto.stop())).toMatchObject({ frames: COUNT, gaps: 0, drops: 0 })
    expect(stoppedSummary(await recorder.stop())).toMatchObject({ frames: COUNT, gaps: 0, drops: 0 })

    // The receiver without --proto learnt the type from the sender's announce: every frame printed.
    await without.waitUntil(`${COUNT} frames`, () => (frames(without).length >= COUNT ? true : undefined))
    expect(frames(without).map((f) => f.message)).toEqual(got.map((f) => f.message))
    expect(stoppedSummary(await without.stop())).toMatchObject({ frames: COUNT, gaps: 0, drops: 0 })
    await relay.stop()

    // The recordings describe the type themselves (the learnt one too): read back with no --proto.
    for (const file of [record, shoalRecord, learntRecord]) {
      const replay = start('recv', ['--from', file, '--output', 'json'])
      expect((await replay.exited()).code, file).toBe(0)
      const read = frames(replay)
      expect(read.map((f) => f.type)).toEqual(Array(COUNT).fill('acme.v1.Wind'))
      expect(read.map((f) => f.message)).toEqual(got.map((f) => f.message))
    }
  })

  it('a bad --proto exits 2 naming the flag and the file, in every service', async () => {
    const missing = join(scratch, 'nope.proto')
    const apps = [
      ['send', ['--input', '-']],
      ['recv', []],
      ['relay', ['--in', 'multicast://239.255.9.9:7400', '--out', 'multicast://239.255.9.8:7400']],
    ] as const
    for (const [app, args] of apps) {
      const exit = await start(app, [...args, '--proto', missing], '').exited()
      expect(exit.code, `shoal-${app}`).toBe(2)
      expect(exit.stderr).toContain(`invalid --proto: ${missing}: ENOENT`)
    }
  })
})

/**
 * Seed interop at app level, on loopback in this namespace (every socket on interface 127.0.0.1, so
 * nothing reaches a real network): the seed programs (tools/seed, Python written like the seed
 * tutorials) and the apps' raw mode understand each other, and what such a program sends into a
 * relay's Shoal input is dropped and counted, not forwarded.
 *
 * (Each bundle run from a directory outside the workspace, --help and a loopback run, is in each
 * app's own cli/bundle tests; not repeated here.)
 */
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parsePrometheusText, sampleValue } from '@shoal/service/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type AppName,
  assertBuilt,
  loopbackEndpoint,
  type Running,
  startLocal,
  stopAll,
  stoppedSummary,
  watch,
} from './support.js'

const seed = (name: string) => fileURLToPath(new URL(`../../../../tools/seed/${name}`, import.meta.url))
const python = spawnSync('python3', ['--version']).status === 0
if (!python && process.env.CI === 'true')
  throw new Error('python3 is missing: the seed interop tests need it')
if (!python) console.warn('skipping seed interop: python3 not found')

const LOOPBACK = '127.0.0.1'
const running: Running[] = []

function startPython(script: string, args: string[]) {
  const child = spawn('python3', [seed(script), ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 30_000,
  })
  const p = watch(script, child)
  running.push(p)
  return p
}

function startApp(app: AppName, args: string[], input?: string) {
  const p = startLocal(app, args, { input })
  running.push(p)
  return p
}

beforeAll(() => assertBuilt())
afterAll(() => stopAll(running))

describe.skipIf(!python)('seed interop, app level (loopback)', () => {
  it('tools/seed/mcast_recv.py receives each stdin line shoal-send --raw sends; its replies are printed', async () => {
    const { group, port } = loopbackEndpoint()
    const lines = ['hello seed', 'second line, with spaces', 'ünïcode ✓']
    const recv = startPython('mcast_recv.py', [
      group,
      String(port),
      LOOPBACK,
      '--count',
      String(lines.length),
      '--reply',
      '--timeout',
      '10',
    ])
    await recv.waitUntil('ready', () => (recv.stdout().startsWith('ready\n') ? true : undefined))
    const send = startApp(
      'send',
      ['--raw', '--interface', LOOPBACK, '--group', group, '--port', String(port), '--ack-timeout', '1s'],
      `${lines.join('\n')}\n`,
    )
    expect((await recv.exited()).code).toBe(0)
    const got = recv
      .stdout()
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(' '))
    expect(got.map(([, , hex]) => Buffer.from(hex!, 'hex').toString())).toEqual(lines)
    expect(new Set(got.map(([address]) => address))).toEqual(new Set([LOOPBACK]))
    // The seed receiver answered each datagram to its sender's port: shoal-send prints the replies.
    const exit = await send.exited()
    expect(stoppedSummary(exit)).toMatchObject({ datagrams: lines.length, replies: lines.length })
    const replies = send.json<{ from: string; text: string }>()
    expect(replies.map((r) => r.text)).toEqual(lines.map((line) => `ack:${line}`))
  })

  it('shoal-recv --raw prints what tools/seed/mcast_send.py sends, text and binary', async () => {
    const { group, port } = loopbackEndpoint()
    const recv = startApp('recv', [
      '--raw',
      '--interface',
      LOOPBACK,
      '--group',
      group,
      '--port',
      String(port),
      '--output',
      'json',
    ])
    await recv.waitForLog('ready')
    const common = [group, String(port), LOOPBACK, '--count', '2', '--interval', '0.01']
    const text = startPython('mcast_send.py', [...common, '--text', 'hello from a seed sender'])
    expect((await text.exited()).code).toBe(0)
    const binary = startPython('mcast_send.py', [...common, '--hex', 'deadbeef00ff'])
    expect((await binary.exited()).code).toBe(0)
    const lines = () => recv.json<{ from: { address: string }; bytes: number; text?: string; hex?: string }>()
    await recv.waitUntil('4 datagrams', () => (lines().length >= 4 ? true : undefined))
    expect(lines().map(({ bytes, text, hex }) => ({ bytes, text, hex }))).toEqual([
      { bytes: 24, text: 'hello from a seed sender', hex: undefined },
      { bytes: 24, text: 'hello from a seed sender', hex: undefined },
      { bytes: 6, text: undefined, hex: 'deadbeef00ff' },
      { bytes: 6, text: undefined, hex: 'deadbeef00ff' },
    ])
    expect(new Set(lines().map((l) => l.from.address))).toEqual(new Set([LOOPBACK]))
    expect(stoppedSummary(await recv.stop())).toMatchObject({ datagrams: 4 })
  })

  it('plain datagrams sent into a relay’s input are counted by reason, never forwarded, and frames still flow', async () => {
    const from = loopbackEndpoint()
    const to = loopbackEndpoint()
    const relay = startApp('relay', [
      '--in',
      `multicast://${from.group}:${from.port}?interface=${LOOPBACK}`,
      '--out',
      `multicast://${to.group}:${to.port}?interface=${LOOPBACK}`,
      '--http',
      '0',
    ])
    const recv = startApp('recv', ['--interface', LOOPBACK, '--group', to.group, '--port', String(to.port)])
    await Promise.all([relay.waitForLog('ready'), recv.waitForLog('ready')])
    const seedSend = (payload: string[]) =>
      startPython('mcast_send.py', [from.group, String(from.port), LOOPBACK, ...payload]).exited()
    // Too short for a header; 40 bytes without the magic; the magic with an unknown version.
    const bad = [
      ['--text', 'garbage'],
      ['--hex', `5858${'00'.repeat(38)}`],
      ['--hex', `534809${'00'.repeat(37)}`],
    ]
    for (const payload of bad) expect((await seedSend(payload)).code).toBe(0)
    const count = 50
    const send = startApp('send', [
      '--interface',
      LOOPBACK,
      '--group',
      from.group,
      '--port',
      String(from.port),
      '--count',
      String(count),
      '--sensors',
      'imu',
    ])
    expect((await send.exited()).code).toBe(0)
    await recv.waitUntil(`${count} frames`, () => (recv.json().length >= count ? true : undefined))

    const url = (await relay.waitForLog('serving /metrics and /healthz')).url as string
    const families = parsePrometheusText(await (await fetch(`${url}/metrics`)).text())
    for (const reason of ['truncated', 'bad-magic', 'bad-version'])
      expect(sampleValue(families, 'shoal_drops_total', { reason }), reason).toBe(1)
    expect(sampleValue(families, 'shoal_relay_forwarded_total')).toBe(count)
    expect(stoppedSummary(await recv.stop())).toMatchObject({ frames: count, gaps: 0, drops: 0 })
    expect(stoppedSummary(await relay.stop())).toMatchObject({
      received: count,
      forwarded: count,
      dropped: 0,
    })
  })
})

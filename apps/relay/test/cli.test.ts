import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Imu, NavSatFix } from '@shoal/schema'
import {
  COMMON_CONFIG_ERROR_CASES,
  parsePrometheusText,
  requireBuilt,
  runCli,
  sampleValue,
  startCli,
} from '@shoal/service/testing'
import { createPublisher, createSubscriber, type ReceivedFrame } from '@shoal/transport'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { uniqueGroup, uniquePort, waitFor } from './support.js'

/** Relays started by a test: killed after it, whether its assertions passed or not. */
const started: Array<ReturnType<typeof startCli>> = []
afterEach(() => {
  for (const running of started.splice(0))
    if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL')
})
const start = (...args: Parameters<typeof startCli>) => {
  const running = startCli(...args)
  started.push(running)
  return running
}

const BIN = fileURLToPath(new URL('../dist/shoal-relay.js', import.meta.url))
const ROUTES = ['--in', 'multicast://239.1.1.1:7400', '--out', 'unicast://127.0.0.1:7500']
const scratch = mkdtempSync(join(tmpdir(), 'shoal-relay-test-'))

beforeAll(() => requireBuilt(BIN))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('shoal-relay', () => {
  it('--help prints usage, the route syntax and every flag, and exits 0', async () => {
    const result = await runCli(BIN, ['--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Usage: shoal-relay \[options\]\n/)
    expect(result.stdout).toContain('<scheme>://<host>[:port]')
    for (const flag of ['--in', '--out', '--topic', '--relay-id', '--max-hops', '--ttl', '--http']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${flag}\\b`, 'm'))
    }
  })

  it('--version prints the package version', async () => {
    const result = await runCli(BIN, ['--version'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^shoal-relay \d+\.\d+\.\d+\n$/)
  })

  it.each([
    ...COMMON_CONFIG_ERROR_CASES.map((c) => ({ ...c, args: [...ROUTES, ...c.args] })),
    {
      args: ['--in', 'multicast://10.0.0.1:7400', '--out', 'unicast://127.0.0.1:7500'],
      flag: '--in',
      message: /^invalid --in multicast:\/\/10\.0\.0\.1:7400: host 10\.0\.0\.1: not a multicast address/,
    },
    {
      args: ['--in', 'multicast://239.1.1.1?interface=nosuch0', '--out', 'unicast://127.0.0.1:7500'],
      flag: '--in',
      message: /interface=nosuch0: no such interface on this host/,
    },
    { args: ['--out', 'unicast://127.0.0.1:7500'], flag: '--in', message: /needs at least one --in/ },
    {
      args: ['--in', 'udp://0.0.0.0:7500?allow=10.0.2.7/24', '--out', 'multicast://239.2.2.2'],
      flag: '--in',
      message:
        /^invalid --in udp:\/\/0\.0\.0\.0:7500\?allow=10\.0\.2\.7\/24: allow=10\.0\.2\.7\/24: 10\.0\.2\.7\/24 has bits set past the prefix: the network is 10\.0\.2\.0\/24/,
    },
    {
      args: ['--in', 'udp://0.0.0.0:7500?allow=relay-a.example', '--out', 'multicast://239.2.2.2'],
      flag: '--in',
      message: /allow=relay-a\.example: expected an IPv4 or IPv6 address or prefix/,
    },
    {
      args: [...ROUTES, '--max-hops', '0'],
      flag: '--max-hops',
      message: /^invalid --max-hops 0: expected an integer 1-255$/,
    },
  ])('$args exits 2 naming $flag', async ({ args, flag, message }) => {
    const result = await runCli(BIN, args)
    expect(result.code).toBe(2)
    const [first] = result.stderr.split('\n')
    expect(first).toContain(flag)
    expect(first?.replace(/^shoal-relay: /, '')).toMatch(message)
  })

  it('reads routes from a YAML config file and stops on SIGTERM with a summary, exit 0', async () => {
    const file = join(scratch, 'relay.yml')
    const port = uniquePort()
    writeFileSync(
      file,
      `in:\n  - ${uniqueGroup().route.replace('127.0.0.1', 'lo')}\nout:\n  - unicast://127.0.0.1:${port}?ttl=2\nmax-hops: 3\n`,
    )
    const running = start(BIN, ['--config', file])
    const [line] = await running.waitFor(/^\{.*"msg":"forwarding".*$/m)
    expect(JSON.parse(line)).toMatchObject({
      inputs: [{ scheme: 'multicast', interface: 'lo', bound: expect.stringMatching(/^239\.255\./) }],
      outputs: [{ scheme: 'unicast', host: '127.0.0.1', port, ttl: 2, destination: `127.0.0.1:${port}` }],
      maxHops: 3,
    })
    await running.waitFor(/"msg":"ready"/)
    running.child.kill('SIGTERM')
    const result = await running.exited
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(
      /^shoal-relay: stopped \(SIGTERM\) after \d+\.\ds: received=0 forwarded=0 dropped=0 not-allowed=0 loop=0 filtered=0 max-hops=0 duplicate=0 invalid=0 acks=0 ack-route-conflicts=0 kernel-drops=0$/m,
    )
    expect(result.stdout).toBe('')
  })

  it('serves /metrics (transport and relay counters) and /healthz while forwarding', async () => {
    const a = uniqueGroup()
    const b = uniqueGroup()
    const running = start(BIN, ['--in', a.route, '--out', b.route, '--http', '0', '--relay-id', 'edge-1'])
    const [, url] = await running.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/)
    await running.waitFor(/"msg":"ready"/)
    const { frames, close } = await collect(b)
    const publisher = await createPublisher({ ...a, interface: '127.0.0.1' })
    try {
      await publisher.sendRaw(new TextEncoder().encode('not a Shoal frame, but long enough to be read'))
      for (let i = 0; i < 20; i++) await publisher.publish('imu', Imu, { header: { sourceId: 'imu0' } })
      await waitFor(() => frames.length === 20, '20 frames on B')
    } finally {
      await publisher.close()
      await close()
    }
    const health = await fetch(`${url}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ relayId: 'edge-1', inputs: 1, outputs: 1 })

    const metrics = parsePrometheusText(await (await fetch(`${url}/metrics`)).text())
    // the publisher's heartbeats, counted apart from frames, pass through too
    const beats = sampleValue(metrics, 'shoal_relay_heartbeats_total', { result: 'received' })
    expect(sampleValue(metrics, 'shoal_relay_heartbeats_total', { result: 'forwarded' })).toBe(beats)
    expect(sampleValue(metrics, 'shoal_relay_received_total')).toBe(20)
    expect(sampleValue(metrics, 'shoal_relay_forwarded_total')).toBe(20)
    for (const reason of ['not-allowed', 'loop', 'filtered', 'max-hops', 'duplicate'])
      expect(sampleValue(metrics, 'shoal_relay_dropped_total', { reason })).toBe(0)
    expect(sampleValue(metrics, 'shoal_relay_sent_total', { output: b.route })).toBe(20)
    expect(sampleValue(metrics, 'shoal_relay_table_entries', { table: 'dedup' })).toBe(20 + beats)
    expect(sampleValue(metrics, 'shoal_relay_table_entries', { table: 'ack-routes' })).toBe(0)
    for (const table of ['dedup', 'ack-routes'])
      expect(sampleValue(metrics, 'shoal_relay_table_evictions_total', { table })).toBe(0)
    for (const event of ['conflict', 'moved', 'refused'])
      expect(sampleValue(metrics, 'shoal_relay_ack_routes_total', { event })).toBe(0)
    expect(sampleValue(metrics, 'shoal_relay_acks_total', { result: 'malformed' })).toBe(0)
    expect(sampleValue(metrics, 'shoal_relay_info', { relay_id: 'edge-1' })).toBe(1)
    expect(sampleValue(metrics, 'shoal_frames_total', { direction: 'in', topic: 'imu' })).toBe(20)
    expect(sampleValue(metrics, 'shoal_datagrams_total', { direction: 'in' })).toBe(21 + beats)
    expect(sampleValue(metrics, 'shoal_drops_total', { reason: 'bad-magic' })).toBe(1)
    expect(sampleValue(metrics, 'shoal_datagrams_total', { direction: 'out' })).toBeGreaterThan(0)

    running.child.kill('SIGTERM')
    const result = await running.exited
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(
      /: received=20 forwarded=20 dropped=0 .* invalid=1 acks=0 ack-route-conflicts=0 kernel-drops=0$/m,
    )
  })

  it('a route that cannot open is a runtime failure: exit 1 naming the route', async () => {
    const result = await runCli(BIN, ['--in', 'udp://127.0.0.2:7400', '--out', uniqueGroup().route])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^shoal-relay: failed to start: --in udp:\/\/127\.0\.0\.2:7400: /m)
  })

  it('runs as a single file outside the workspace: --help, and a short loopback run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-relay-bundle-'))
    try {
      const copy = join(dir, 'shoal-relay.js')
      copyFileSync(BIN, copy)
      const help = await runCli(copy, ['--help'], { cwd: dir })
      expect(help.code).toBe(0)
      expect(help.stdout).toMatch(/^Usage: shoal-relay /)

      const a = uniqueGroup()
      const b = uniqueGroup()
      const running = start(copy, ['--in', a.route, '--out', b.route], { cwd: dir })
      await running.waitFor(/"msg":"ready"/)
      const { frames, close } = await collect(b)
      const publisher = await createPublisher({ ...a, interface: '127.0.0.1' })
      try {
        for (let i = 0; i < 5; i++) await publisher.publish('gps', NavSatFix, { latitude: i })
        await waitFor(() => frames.length === 5, '5 frames on B')
      } finally {
        await publisher.close()
        await close()
      }
      expect(frames.map((f) => [f.sequence, f.hops, f.source.sessionId])).toEqual(
        [0, 1, 2, 3, 4].map((i) => [i, 1, publisher.sessionId]),
      )
      running.child.kill('SIGTERM')
      const result = await running.exited
      expect(result.code).toBe(0)
      expect(result.stderr).toMatch(/: received=5 forwarded=5 dropped=0 /m)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

/** A subscriber on a loopback group that keeps every frame. */
async function collect(group: { group: string; port: number }) {
  const subscriber = await createSubscriber({ ...group, interface: '127.0.0.1' })
  const frames: ReceivedFrame[] = []
  subscriber.on('frame', (f: ReceivedFrame) => frames.push(f))
  return { frames, close: () => subscriber.close() }
}

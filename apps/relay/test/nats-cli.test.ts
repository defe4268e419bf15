/**
 * The built `shoal-relay` with a `nats://` route against a real nats-server on 127.0.0.1: /healthz
 * and /metrics while it runs, the summary line, a server gone at start (it runs and counts), and
 * bad NATS flags exiting 2.
 */
import { fileURLToPath } from 'node:url'
import { Imu } from '@shoal/schema'
import { requireBuilt, runCli, startCli } from '@shoal/service/testing'
import { createPublisher } from '@shoal/transport'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { freePort, NatsServer, requireNatsServer } from './nats-server.js'
import { uniqueGroup } from './support.js'

const BIN = fileURLToPath(new URL('../dist/shoal-relay.js', import.meta.url))
const cleanup: Array<() => Promise<unknown> | unknown> = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})
beforeAll(() => requireBuilt(BIN))

/** One sample of /metrics (read from the text: early scrapes hold Node's event-loop gauges as NaN, which parsePrometheusText refuses). */
async function sample(url: string, name: string, labels: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

/** Polls `read` until it gives `want`; a bound, not a speed check. */
async function until(read: () => Promise<number | undefined>, want: number, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while ((await read()) !== want) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe.skipIf(requireNatsServer().skip)('shoal-relay with nats://', () => {
  it('reports the route on /healthz and /metrics, and its counts in the summary line', async () => {
    const server = await NatsServer.start()
    cleanup.push(() => server.close())
    const a = uniqueGroup()
    const route = `${server.url}/cli`
    const running = startCli(BIN, ['--in', a.route, '--out', route, '--http', '0'])
    cleanup.push(() => running.child.exitCode === null && running.child.kill('SIGKILL'))
    const [, url] = await running.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/)
    await running.waitFor(/"msg":"ready"/)
    expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ inputs: 1, outputs: 1 })

    const publisher = await createPublisher({ ...a, interface: '127.0.0.1' })
    cleanup.push(() => publisher.close())
    for (let i = 0; i < 10; i++) await publisher.publish('imu', Imu, { header: { sourceId: 'imu0' } })
    const r = `route="${route}"`
    await until(
      () => sample(url!, 'shoal_relay_nats_messages_total', `${r},direction="out"`),
      10,
      '10 messages published',
    )
    expect(await sample(url!, 'shoal_relay_nats_connected', r)).toBe(1)
    expect(await sample(url!, 'shoal_relay_nats_dropped_total', `${r},reason="nats-disconnected"`)).toBe(0)
    expect(await sample(url!, 'shoal_relay_nats_bytes_total', r)).toBeGreaterThan(0)

    await server.stop()
    await until(() => sample(url!, 'shoal_relay_nats_connected', r), 0, 'the route to show disconnected')
    for (let i = 0; i < 5; i++) await publisher.publish('imu', Imu, { header: { sourceId: 'imu0' } })
    const down = `${r},reason="nats-disconnected"`
    await until(() => sample(url!, 'shoal_relay_nats_dropped_total', down), 5, '5 frames dropped')
    running.child.kill('SIGTERM')
    const result = await running.exited
    expect(result.code).toBe(0)
    // Frames went only to NATS: the line counts them there, not as received=0 forwarded=0.
    expect(result.stderr).toMatch(
      /: invalid=0(?: kernel-drops=\d+)? nats-out=10 nats-in=0 nats-dropped=5 nats-reconnects=0$/m,
    )
  })

  it('starts with no server reachable, says so, and counts what it cannot publish', async () => {
    const port = await freePort()
    const a = uniqueGroup()
    const route = `nats://127.0.0.1:${port}/x`
    const running = startCli(BIN, ['--in', a.route, '--out', route, '--http', '0'])
    cleanup.push(() => running.child.exitCode === null && running.child.kill('SIGKILL'))
    const [, url] = await running.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/)
    await running.waitFor(/NATS server not reachable yet/)
    await running.waitFor(/"msg":"ready"/)
    const publisher = await createPublisher({ ...a, interface: '127.0.0.1' })
    cleanup.push(() => publisher.close())
    for (let i = 0; i < 3; i++) await publisher.publish('imu', Imu, { header: { sourceId: 'imu0' } })
    const dropped = `route="${route}",reason="nats-disconnected"`
    await until(() => sample(url!, 'shoal_relay_nats_dropped_total', dropped), 3, '3 frames dropped')
    running.child.kill('SIGTERM')
    const result = await running.exited
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/ nats-out=0 nats-in=0 nats-dropped=3 nats-reconnects=0$/m)
  })

  it.each([
    [['--out', 'nats://127.0.0.1/a/b'], '--out'],
    [['--out', 'nats://127.0.0.1/a', '--nats-tls-key', '/nonexistent'], '--nats-tls-key'],
    [['--out', 'nats://127.0.0.1/a', '--nats-stream-max-age', '10'], '--nats-stream-max-age'],
  ])('%j exits 2 naming %s', async (args, flag) => {
    const result = await runCli(BIN, ['--in', 'multicast://239.1.1.1:7400', ...args])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(flag)
  })
})

/**
 * The three bundles as a user runs them, on loopback (127.0.0.1 only, the network rule):
 * shoal-send → shoal-throttle → shoal-recv. The receiver sees imu at the lower rate, gps as its
 * latest value twice a second, and no temperature (--unmatched drop); the throttle's summary
 * accounts for every frame the sender sent, exactly.
 */
import { randomInt } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { requireBuilt, runCli, startCli } from '@shoal/service/testing'
import { afterEach, beforeAll, expect, it } from 'vitest'

const bundle = (app: string, bin: string) =>
  fileURLToPath(new URL(`../../${app}/dist/${bin}.js`, import.meta.url))
const THROTTLE = bundle('throttle', 'shoal-throttle')
const SEND = bundle('sender', 'shoal-send')
const RECV = bundle('receiver', 'shoal-recv')
beforeAll(() => requireBuilt(THROTTLE, SEND, RECV))

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

/** `name: stopped (…) after …s: a=1 b=2` → `{ a: 1, b: 2 }`. */
function summaryOf(name: string, stderr: string): Record<string, number> {
  const line = new RegExp(`^${name}: stopped \\(.+?\\) after [\\d.]+s: (.*)$`, 'm').exec(stderr)
  if (line === null) throw new Error(`no ${name} summary line in:\n${stderr}`)
  return Object.fromEntries([...line[1]!.matchAll(/([\w-]+)=(\d+)/g)].map(([, k, v]) => [k!, Number(v)]))
}

it('sender → throttle → receiver: lower rates out, every frame in accounted for', async () => {
  const input = `239.255.${randomInt(1, 255)}.${randomInt(1, 255)}`
  const output = `239.254.${randomInt(1, 255)}.${randomInt(1, 255)}`
  const port = String(randomInt(20_000, 60_000))
  const net = ['--interface', '127.0.0.1', '--port', port]
  const recv = start(RECV, [...net, '--group', output, '--output', 'json'], { timeoutMs: 30_000 })
  await recv.waitFor(/"msg":"ready"/)
  const throttle = start(
    THROTTLE,
    [
      ...net,
      '--group',
      input,
      '--out-group',
      output,
      '--rate',
      'imu=5',
      '--latest',
      'gps=2',
      '--unmatched',
      'drop',
    ],
    { timeoutMs: 30_000 },
  )
  await throttle.waitFor(/"msg":"ready"/)

  const sent = await runCli(
    SEND,
    [
      ...net,
      '--group',
      input,
      '--sensors',
      'imu,gps,temperature',
      '--rate',
      'imu=100,gps=20,temperature=2',
      '--duration',
      '2s',
    ],
    { timeoutMs: 30_000 },
  )
  expect(sent.code).toBe(0)
  const frames = summaryOf('shoal-send', sent.stderr).frames!
  // The held gps frame goes out at the next tick (500 ms); then the throttle's summary is final.
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  throttle.child.kill('SIGTERM')
  const throttled = await throttle.exited
  expect(throttled.code).toBe(0)
  const summary = summaryOf('shoal-throttle', throttled.stderr)
  // Give the receiver the last frames' time to arrive, then stop it.
  await new Promise((resolve) => setTimeout(resolve, 500))
  recv.child.kill('SIGTERM')
  const received = await recv.exited
  const lines = received.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { topic: string })
  const count = (topic: string) => lines.filter((l) => l.topic === topic).length

  // Every frame sent reached the throttle (loopback) and ended in exactly one place.
  expect(summary.received).toBe(frames)
  expect(summary.received).toBe(summary.published! + summary.dropped!)
  expect(summary.dropped).toBe(summary.rate! + summary.superseded! + summary.unmatched! + summary.stopped!)
  expect(summary).toMatchObject({ evicted: 0, memory: 0, 'send-failed': 0, busy: 0 })
  // The receiver got exactly what the throttle published: imu thinned, gps latest, no temperature.
  expect(lines.length).toBe(summary.published)
  expect(count('temperature')).toBe(0)
  expect(summary.unmatched).toBeGreaterThan(0)
  // 2 s of imu at 100 Hz through windows of 200 ms: at most one per window the run touched.
  expect(count('imu')).toBeGreaterThan(0)
  expect(count('imu')).toBeLessThanOrEqual(12)
  expect(summary.rate).toBeGreaterThan(100)
  // gps at 20 Hz, published twice a second at most: the rest superseded.
  expect(count('gps')).toBeGreaterThan(0)
  expect(count('gps')).toBeLessThanOrEqual(7)
  expect(summary.superseded).toBeGreaterThan(20)
})

/** The built bundle, as a user runs it: help, version, refusals, and a clean stop on SIGTERM. */
import { spawnSync } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { COMMON_CONFIG_ERROR_CASES, cleanEnv, requireBuilt, runCli, startCli } from '@shoal/service/testing'
import { beforeAll, describe, expect, it } from 'vitest'

const BIN = fileURLToPath(new URL('../dist/shoal-throttle.js', import.meta.url))
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
beforeAll(() => requireBuilt(BIN))

describe('shoal-throttle', () => {
  it('--help lists every flag and exits 0', async () => {
    const result = await runCli(BIN, ['--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Usage: shoal-throttle \[options\]\n/)
    for (const flag of [
      '--group',
      '--topic',
      '--out-group',
      '--out-port',
      '--rate',
      '--latest',
      '--unmatched',
      '--http',
    ]) {
      expect(result.stdout).toMatch(new RegExp(`^  ${flag}\\b`, 'm'))
    }
  })

  it('runs as a command, as the READMEs call it: bin/ on PATH, and pnpm shoal-throttle at the root', () => {
    const onPath = spawnSync('shoal-throttle', ['--version'], {
      cwd: '/',
      env: cleanEnv({ PATH: `${ROOT}bin:${process.env.PATH ?? ''}` }),
      encoding: 'utf8',
    })
    const viaPnpm = spawnSync('pnpm', ['--silent', 'shoal-throttle', '--version'], {
      cwd: ROOT,
      env: cleanEnv(),
      encoding: 'utf8',
    })
    for (const result of [onPath, viaPnpm]) {
      expect(result.status, result.stderr).toBe(0)
      expect(result.stdout).toMatch(/^shoal-throttle \d+\.\d+\.\d+\n$/)
    }
  })

  it.each(COMMON_CONFIG_ERROR_CASES)('$args exits 2 naming $flag', async ({ args, flag, message }) => {
    const result = await runCli(BIN, args)
    expect(result.code).toBe(2)
    const [first] = result.stderr.split('\n')
    expect(first).toContain(flag)
    expect(first?.replace(/^shoal-throttle: /, '')).toMatch(message)
  })

  it('starts on loopback, serves /healthz, and stops on SIGTERM with its summary, exit 0', async () => {
    // Groups and a port of its own: other tests may be sending on the defaults.
    const group = `239.253.${randomInt(1, 255)}.${randomInt(1, 255)}`
    const out = `239.252.${randomInt(1, 255)}.${randomInt(1, 255)}`
    const port = String(randomInt(20_000, 60_000))
    const args = [
      '--interface',
      '127.0.0.1',
      '--group',
      group,
      '--out-group',
      out,
      '--port',
      port,
      '--http',
      '0',
    ]
    const running = startCli(BIN, args)
    const [, url] = await running.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/)
    await running.waitFor(/"msg":"ready"/)
    const health = await fetch(`${url}/healthz`)
    expect(health.status).toBe(200)
    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).toMatch(/^shoal_throttle_frames_total\{direction="in"\} 0$/m)
    running.child.kill('SIGTERM')
    const result = await running.exited
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(
      /shoal-throttle: stopped \(SIGTERM\) after [\d.]+s: received=0 published=0 dropped=0 rate=0 superseded=0 unmatched=0 evicted=0 memory=0 stopped=0 send-failed=0 busy=0$/m,
    )
  })
})

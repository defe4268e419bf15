import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { COMMON_CONFIG_ERROR_CASES, runCli, startCli } from '@shoal/service/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const BIN = fileURLToPath(new URL('../dist/shoal-relay.js', import.meta.url))
const ROUTES = ['--in', 'multicast://239.1.1.1:7400', '--out', 'unicast://127.0.0.1:7500']
const scratch = mkdtempSync(join(tmpdir(), 'shoal-relay-test-'))

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run pnpm build (pnpm test does) first`)
})
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
    writeFileSync(
      file,
      'in:\n  - multicast://239.1.1.1?interface=lo\nout:\n  - unicast://127.0.0.1:7500?ttl=2\nmax-hops: 3\n',
    )
    const running = startCli(BIN, ['--config', file])
    const [line] = await running.waitFor(/^\{.*"msg":"configured.*$/m)
    expect(JSON.parse(line)).toMatchObject({
      inputs: [{ scheme: 'multicast', host: '239.1.1.1', port: 7400, interface: 'lo' }],
      outputs: [{ scheme: 'unicast', host: '127.0.0.1', port: 7500, ttl: 2 }],
      maxHops: 3,
    })
    running.child.kill('SIGTERM')
    const result = await running.exited
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/^shoal-relay: stopped \(SIGTERM\) after \d+\.\ds: forwarded=0 dropped=0$/m)
    expect(result.stdout).toBe('')
  })

  it('runs as a single file outside the workspace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-relay-bundle-'))
    try {
      const copy = join(dir, 'shoal-relay.js')
      copyFileSync(BIN, copy)
      const result = await runCli(copy, ['--version'], { cwd: dir })
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(/^shoal-relay /)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

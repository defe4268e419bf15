import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { COMMON_CONFIG_ERROR_CASES, GROUP_CONFIG_ERROR_CASES, runCli, startCli } from '@shoal/service/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const BIN = fileURLToPath(new URL('../dist/shoal-send.js', import.meta.url))
const scratch = mkdtempSync(join(tmpdir(), 'shoal-send-test-'))

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run pnpm build (pnpm test does) first`)
})
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('shoal-send', () => {
  it('--help prints usage and every flag, and exits 0', async () => {
    const result = await runCli(BIN, ['--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Usage: shoal-send \[options\]\n/)
    for (const flag of ['--group', '--sensors', '--rate', '--ack', '--budget', '--interface', '--http']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${flag}\\b`, 'm'))
    }
    expect(result.stderr).toBe('')
  })

  it('--version prints the package version', async () => {
    const result = await runCli(BIN, ['--version'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^shoal-send \d+\.\d+\.\d+\n$/)
  })

  it.each([
    ...COMMON_CONFIG_ERROR_CASES,
    ...GROUP_CONFIG_ERROR_CASES,
    {
      args: ['--mode', 'broadcast'],
      flag: '--address',
      message: /^--mode broadcast needs --address <host>$/,
    },
    {
      args: ['--rate', 'lidar=5'],
      flag: '--rate',
      message: /^invalid --rate lidar=5: expected <sensor>=<hz>/,
    },
    {
      args: ['--group', 'ff15::1'],
      flag: '--group',
      message: /^--group ff15::1 is not an IPv4 group; add --ipv6$/,
    },
    { args: ['--input', '-', '--replay', 'x.rec'], flag: '--replay', message: /cannot be used together$/ },
  ])('$args exits 2 naming $flag', async ({ args, flag, message }) => {
    const result = await runCli(BIN, args)
    expect(result.code).toBe(2)
    const [first] = result.stderr.split('\n')
    expect(first).toContain(flag)
    expect(first?.replace(/^shoal-send: /, '')).toMatch(message)
    expect(result.stdout).toBe('')
  })

  it('reads a config file, and flags override it', async () => {
    const file = join(scratch, 'send.yaml')
    writeFileSync(file, 'port: 7600\nttl: 2\nsensors: [imu]\n')
    const running = startCli(BIN, ['--config', file, '--ttl', '3'])
    const [line] = await running.waitFor(/^\{.*"msg":"configured.*$/m)
    running.child.kill('SIGTERM')
    expect((await running.exited).code).toBe(0)
    const record = JSON.parse(line) as { port: number; ttl: number; source: { sensors: string[] } }
    expect(record).toMatchObject({ port: 7600, ttl: 3, source: { sensors: ['imu'] } })
  })

  it('stops on SIGTERM, printing a summary, and exits 0', async () => {
    const running = startCli(BIN, ['--sensors', 'imu', '--log-level', 'info'], {
      env: { SHOAL_PORT: '7401' },
    })
    const [line] = await running.waitFor(/^\{.*"msg":"configured.*$/m)
    expect(JSON.parse(line)).toMatchObject({ port: 7401, interface: 'lo' })
    running.child.kill('SIGTERM')
    const result = await running.exited
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/"msg":"stopped"/)
    expect(result.stderr).toMatch(/^shoal-send: stopped \(SIGTERM\) after \d+\.\ds: frames=0 bytes=0$/m)
    expect(result.stdout).toBe('')
  })

  it('runs as a single file outside the workspace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-send-bundle-'))
    try {
      const copy = join(dir, 'shoal-send.js')
      copyFileSync(BIN, copy)
      const result = await runCli(copy, ['--version'], { cwd: dir })
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(/^shoal-send /)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

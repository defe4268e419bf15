import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { COMMON_CONFIG_ERROR_CASES, GROUP_CONFIG_ERROR_CASES, runCli, startCli } from '@shoal/service/testing'
import { beforeAll, describe, expect, it } from 'vitest'

const BIN = fileURLToPath(new URL('../dist/shoal-recv.js', import.meta.url))

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run pnpm build (pnpm test does) first`)
})

describe('shoal-recv', () => {
  it('--help prints usage and every flag, and exits 0', async () => {
    const result = await runCli(BIN, ['--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Usage: shoal-recv \[options\]\n/)
    for (const flag of ['--group', '--source', '--topic', '--output', '--record', '--name', '--interface']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${flag}\\b`, 'm'))
    }
    expect(result.stderr).toBe('')
  })

  it('--version prints the package version', async () => {
    const result = await runCli(BIN, ['--version'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^shoal-recv \d+\.\d+\.\d+\n$/)
  })

  it.each([
    ...COMMON_CONFIG_ERROR_CASES,
    ...GROUP_CONFIG_ERROR_CASES,
    {
      args: ['--group', '239.1.1.1', '--group', '10.0.0.1'],
      flag: '--group',
      message: /^invalid --group 10\.0\.0\.1: /,
    },
    {
      args: ['--topic', 'sensors/*/x'],
      flag: '--topic',
      message: /^invalid --topic sensors\/\*\/x: expected a topic/,
    },
    {
      args: ['--output', 'xml'],
      flag: '--output',
      message: /^invalid --output xml: expected one of json, pretty, none$/,
    },
    { args: ['--record-max-size', '1MiB'], flag: '--record-max-size', message: /needs --record/ },
    { args: ['--source', '10.0.0.300'], flag: '--source', message: /^invalid --source 10\.0\.0\.300: / },
  ])('$args exits 2 naming $flag', async ({ args, flag, message }) => {
    const result = await runCli(BIN, args)
    expect(result.code).toBe(2)
    const [first] = result.stderr.split('\n')
    expect(first).toContain(flag)
    expect(first?.replace(/^shoal-recv: /, '')).toMatch(message)
    expect(result.stdout).toBe('')
  })

  it('stops on SIGTERM, printing a summary on stderr and nothing on stdout, and exits 0', async () => {
    const running = startCli(BIN, ['--group', '239.1.2.3', '--group', '239.1.2.4', '--topic', 'sensors/*'])
    const [line] = await running.waitFor(/^\{.*"msg":"configured.*$/m)
    expect(JSON.parse(line)).toMatchObject({
      listen: { mode: 'multicast', groups: ['239.1.2.3', '239.1.2.4'] },
      topics: ['sensors/*'],
      output: 'json',
      interface: 'lo',
    })
    running.child.kill('SIGTERM')
    const result = await running.exited
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(
      /^shoal-recv: stopped \(SIGTERM\) after \d+\.\ds: frames=0 bytes=0 gaps=0$/m,
    )
    expect(result.stdout).toBe('')
  })

  it('stops on SIGINT too', async () => {
    const running = startCli(BIN, ['--output', 'none'])
    await running.waitFor(/"msg":"configured/)
    running.child.kill('SIGINT')
    const result = await running.exited
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/^shoal-recv: stopped \(SIGINT\)/m)
  })

  it('runs as a single file outside the workspace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-recv-bundle-'))
    try {
      const copy = join(dir, 'shoal-recv.js')
      copyFileSync(BIN, copy)
      const result = await runCli(copy, ['--version'], { cwd: dir })
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(/^shoal-recv /)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

import { COMMON_CONFIG_ERROR_CASES, GROUP_CONFIG_ERROR_CASES, runCli } from '@shoal/service/testing'
import { beforeAll, describe, expect, it } from 'vitest'
import { BIN, requireBuild, startReceiver, uniqueEndpoint } from './support.js'

beforeAll(requireBuild)

describe('shoal-recv', () => {
  it('--help prints usage and every flag, and exits 0', async () => {
    const result = await runCli(BIN, ['--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Usage: shoal-recv \[options\]\n/)
    for (const flag of [
      '--group',
      '--source',
      '--topic',
      '--output',
      '--full',
      '--record',
      '--name',
      '--interface',
    ]) {
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
    { args: ['--raw', '--record', 'x.rec'], flag: '--record', message: /^--record needs Shoal frames/ },
    { args: ['--raw', '--full'], flag: '--full', message: /^--full needs Shoal frames/ },
    { args: ['--count', '0'], flag: '--count', message: /^invalid --count 0: / },
  ])('$args exits 2 naming $flag', async ({ args, flag, message }) => {
    const result = await runCli(BIN, args)
    expect(result.code).toBe(2)
    const [first] = result.stderr.split('\n')
    expect(first).toContain(flag)
    expect(first?.replace(/^shoal-recv: /, '')).toMatch(message)
    expect(result.stdout).toBe('')
  })

  it('stops on SIGTERM, printing a summary on stderr and nothing on stdout, and exits 0', async () => {
    const { group, port } = uniqueEndpoint()
    const running = await startReceiver(['--group', group, '--group', '239.1.2.4', '--port', String(port)])
    const [line] = await running.waitFor(/^\{.*"msg":"receiving .*$/m)
    expect(JSON.parse(line)).toMatchObject({
      mode: 'multicast',
      groups: [group, '239.1.2.4'],
      topics: 'all',
      output: 'json',
      interface: 'lo',
    })
    running.child.kill('SIGTERM')
    const result = await running.exited
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(
      /^shoal-recv: stopped \(SIGTERM\) after \d+\.\ds: frames=0 bytes=0 gaps=0 duplicates=0 drops=0$/m,
    )
    expect(result.stdout).toBe('')
  })

  it('stops on SIGINT too', async () => {
    const { group, port } = uniqueEndpoint()
    const running = await startReceiver(['--output', 'none', '--group', group, '--port', String(port)])
    running.child.kill('SIGINT')
    const result = await running.exited
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/^shoal-recv: stopped \(SIGINT\)/m)
  })
})

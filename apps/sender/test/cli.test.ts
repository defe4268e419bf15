import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  COMMON_CONFIG_ERROR_CASES,
  GROUP_CONFIG_ERROR_CASES,
  requireBuilt,
  runCli,
  startCli,
} from '@shoal/service/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, collect, endpointArgs, summaryOf, uniqueEndpoint, waitFor } from './support.js'

const scratch = mkdtempSync(join(tmpdir(), 'shoal-send-test-'))

beforeAll(() => requireBuilt(BIN))
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
    const running = startCli(BIN, ['--config', file, '--ttl', '3', '--group', '239.255.77.1'])
    const [line] = await running.waitFor(/^\{.*"msg":"publishing .*$/m)
    running.child.kill('SIGTERM')
    expect((await running.exited).code).toBe(0)
    const record = JSON.parse(line) as { port: number; ttl: number; sensors: Record<string, string> }
    expect(record).toMatchObject({ port: 7600, ttl: 3, sensors: { imu: '200 Hz' } })
  })

  it('logs where it publishes and how to leave loopback; SIGTERM prints the summary and exits 0', async () => {
    const running = startCli(
      BIN,
      ['--sensors', 'temperature', '--group', '239.255.77.2', '--budget', '1400'],
      {
        env: { SHOAL_PORT: '7401' },
      },
    )
    const [line] = await running.waitFor(/^\{.*"msg":"publishing .*$/m)
    const [hint] = await running.waitFor(/^\{.*"msg":"frames stay on this host.*$/m)
    running.child.kill('SIGTERM')
    const result = await running.exited
    expect(result.code).toBe(0)
    expect(JSON.parse(line)).toMatchObject({
      mode: 'multicast',
      destination: '239.255.77.2',
      port: 7401,
      interface: 'lo',
      interfaceAddress: '127.0.0.1',
      ttl: 1,
      budget: 1400,
      batchLingerMs: 0.5,
    })
    expect(JSON.parse(line).msg).toBe(
      'publishing multicast to 239.255.77.2:7401 on lo (127.0.0.1), TTL 1, budget 1400 bytes (MTU 65536), batching 0.5 ms',
    )
    expect(JSON.parse(hint).msg).toMatch(/--interface \S+, and --ttl N/)
    expect(result.stderr).toMatch(/"msg":"stopped"/)
    expect(result.stderr).toMatch(
      /^shoal-send: stopped \(SIGTERM\) after \d+\.\ds: frames=\d+ bytes=\d+ datagrams=\d+( heartbeats=\d+)?( receivers=\d+)?$/m,
    )
    expect(result.stdout).toBe('')
  })

  it('takes the datagram budget from the interface MTU unless --budget is given', async () => {
    const running = startCli(BIN, [
      '--sensors',
      'temperature',
      '--group',
      '239.255.77.3',
      '--batch-linger',
      '0',
    ])
    const [line] = await running.waitFor(/^\{.*"msg":"publishing .*$/m)
    running.child.kill('SIGTERM')
    expect((await running.exited).code).toBe(0)
    // loopback's MTU is 65,536; less 20 bytes of IPv4 and 8 of UDP header
    expect(JSON.parse(line)).toMatchObject({ mtu: 65_536, budget: 65_507, batchLingerMs: 0 })
    expect(JSON.parse(line).msg).toMatch(/, unbatched$/)
  })

  it('runs as a single file copied outside the workspace: --help, and a --count run on loopback', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-send-bundle-'))
    const endpoint = uniqueEndpoint()
    const rx = await collect(endpoint)
    try {
      const copy = join(dir, 'shoal-send.js')
      copyFileSync(BIN, copy)
      const help = await runCli(copy, ['--help'], { cwd: dir })
      expect(help.code).toBe(0)
      expect(help.stdout).toMatch(/^Usage: shoal-send \[options\]\n/)
      const running = startCli(copy, [...endpointArgs(endpoint), '--sensors', 'imu', '--count', '5'], {
        cwd: dir,
      })
      await rx.follow(running)
      const result = await running.exited
      expect(result.code).toBe(0)
      await waitFor(() => rx.frames().length >= 5, 5000, '5 frames')
      expect(rx.frames().map((f) => f.topic)).toEqual(['imu', 'imu', 'imu', 'imu', 'imu'])
      expect(summaryOf(result.stderr).fields).toMatchObject({ frames: '5' })
    } finally {
      await rx.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

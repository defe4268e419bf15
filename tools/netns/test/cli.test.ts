import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runCommand } from '../src/exec.js'
import { requireNetns } from '../src/index.js'

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const gate = requireNetns()

async function cli(...args: string[]) {
  if (!existsSync(CLI))
    throw new Error(`${CLI} is missing: build first (pnpm turbo run build --filter=@shoal/netns)`)
  return runCommand(process.execPath, [CLI, ...args], { timeoutMs: 20_000 })
}

describe('shoal-netns CLI', () => {
  it('prints usage for --help', async () => {
    const result = await cli('--help')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Usage: shoal-netns <command>')
  })

  it.each([
    [['up', '--bogus'], '--bogus'],
    [['up', '--segment', 'lan'], '--segment'],
    [['down', '--run', 'nope'], '--run'],
  ])('exits 2 naming the flag for %j', async (args, flag) => {
    const result = await cli(...args)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(flag)
    expect(result.stdout).toBe('')
  })
})

describe.skipIf(gate.skip)('shoal-netns up / down', () => {
  it('brings a network up that outlives the CLI, and down --run removes it', async () => {
    const up = await cli('up', '--segment', 'lan:a,b', '--json')
    expect(up.stderr).toBe('')
    expect(up.code).toBe(0)
    const net = JSON.parse(up.stdout) as {
      id: string
      hosts: Record<string, { ns: string; ifaces: Array<{ ipv4: string }> }>
    }
    try {
      expect(net.id).toMatch(/^shoal-cli-[0-9a-f]{6}$/)
      expect(net.hosts.b!.ifaces[0]!.ipv4).toBe('10.77.1.2')
      const list = await runCommand('ip', ['netns', 'list'])
      expect(list.stdout).toContain(net.hosts.a!.ns)
      const listed = await cli('list')
      expect(listed.stdout).toContain(net.id)
    } finally {
      const down = await cli('down', '--run', net.id)
      expect(down.code).toBe(0)
    }
    const after = await runCommand('ip', ['netns', 'list'])
    expect(after.stdout).not.toContain(net.id)
  })
})

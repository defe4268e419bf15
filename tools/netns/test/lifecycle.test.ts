import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { pidAlive } from '../src/cleanup.js'
import { runCommand } from '../src/exec.js'
import { cleanupStale, createNetwork, type Network, requireNetns, watchProcess } from '../src/index.js'

const gate = requireNetns()
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const EXIT_CHILD = fileURLToPath(new URL('./fixtures/exit-child.mjs', import.meta.url))
const WAIT_MS = 10_000

async function namespaces(): Promise<string[]> {
  const result = await runCommand('ip', ['netns', 'list'])
  expect(result.code).toBe(0)
  return result.stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter(Boolean)
}

/** Waits (bounded) for pid to have exited; a zombie counts as exited (pid 1 may reap it late). */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && pidAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 20))
  return !pidAlive(pid)
}

interface ChildReport {
  id: string
  namespaces: string[]
  sleeper: number
}

/** Starts exit-child.mjs in the root namespace and reads what it made. */
async function startExitChild(mode: 'exit' | 'throw' | 'wait') {
  if (!existsSync(DIST))
    throw new Error(`${DIST} is missing: build first (pnpm turbo run build --filter=@shoal/netns)`)
  const child = spawn(process.execPath, [EXIT_CHILD, pathToFileURL(DIST).href, mode], {
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 30_000,
    killSignal: 'SIGKILL',
  })
  const watched = watchProcess(child)
  const report = JSON.parse(await watched.waitForLine(/^\{/, WAIT_MS)) as ChildReport
  expect(report.namespaces).toHaveLength(3)
  return { child, watched, report }
}

describe.skipIf(gate.skip)('tearing networks down', () => {
  const made: Network[] = []
  afterAll(async () => {
    await Promise.all(made.map((net) => net.destroy()))
  })

  it('destroy kills what runs inside, deletes every namespace, and may be called twice', async () => {
    const net = await createNetwork({ hosts: ['a', 'b'], segments: [{ name: 'lan', hosts: ['a', 'b'] }] })
    made.push(net)
    expect(await namespaces()).toEqual(expect.arrayContaining([...net.namespaces]))
    // A tracked child, and a grandchild the harness never saw: both must go, or the namespace would
    // outlive its name.
    const shell = watchProcess(net.host('a').spawn('sh', ['-c', 'sleep 30 & echo $!; wait']))
    const grandchild = Number(await shell.waitForLine(/^\d+$/, WAIT_MS))
    await net.destroy()
    await net.destroy()
    expect((await namespaces()).filter((ns) => ns.startsWith(`${net.id}-`))).toEqual([])
    expect((await shell.waitForExit(WAIT_MS)).signal).toBe('SIGKILL')
    expect(await gone(grandchild)).toBe(true)
    expect(() => net.host('a').spawn('true', [])).toThrow(/destroyed/)
  })

  it.each(['exit', 'throw'] as const)(
    'cleans up when the owning process ends by %s without destroy()',
    async (mode) => {
      const { watched, report } = await startExitChild(mode)
      const exit = await watched.waitForExit(WAIT_MS)
      expect(exit.code).toBe(mode === 'exit' ? 0 : 1)
      expect((await namespaces()).filter((ns) => report.namespaces.includes(ns))).toEqual([])
      expect(await gone(report.sleeper)).toBe(true)
    },
  )

  it.each(['SIGINT', 'SIGTERM'] as const)('cleans up on %s and still dies of it', async (signal) => {
    const { child, watched, report } = await startExitChild('wait')
    child.kill(signal)
    expect((await watched.waitForExit(WAIT_MS)).signal).toBe(signal)
    expect((await namespaces()).filter((ns) => report.namespaces.includes(ns))).toEqual([])
    expect(await gone(report.sleeper)).toBe(true)
  })

  it('cleanupStale removes what a SIGKILLed process left, and leaves live networks alone', async () => {
    const live = await createNetwork({ hosts: ['a'], segments: [{ name: 'lan', hosts: ['a'] }] })
    made.push(live)
    const { child, watched, report } = await startExitChild('wait')
    child.kill('SIGKILL')
    await watched.waitForExit(WAIT_MS)
    // Nothing could run in a SIGKILLed process: its namespaces are still there (and its sleeper too).
    expect(await namespaces()).toEqual(expect.arrayContaining(report.namespaces))
    expect(await cleanupStale()).toBeGreaterThanOrEqual(report.namespaces.length)
    const left = await namespaces()
    expect(left.filter((ns) => report.namespaces.includes(ns))).toEqual([])
    expect(await gone(report.sleeper)).toBe(true)
    expect(left).toEqual(expect.arrayContaining([...live.namespaces]))
  })
})

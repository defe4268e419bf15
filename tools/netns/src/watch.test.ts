import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { watchProcess } from './watch.js'

function node(code: string) {
  return spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'pipe'] })
}

describe('watchProcess', () => {
  it('finds a line printed before the wait began, then collects the exit', async () => {
    const watched = watchProcess(node("console.log('ready'); setTimeout(() => console.log('done'), 50)"))
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(await watched.waitForLine(/^ready$/, 5_000)).toBe('ready')
    const exit = await watched.waitForExit(5_000)
    expect(exit).toMatchObject({ code: 0, stdout: 'ready\ndone\n' })
  })

  it('rejects when the process exits without the line', async () => {
    const watched = watchProcess(node("console.error('boom'); process.exit(4)"))
    await expect(watched.waitForLine('ready', 5_000)).rejects.toThrow(/exited \(4\).*boom/s)
  })

  it('waitUntil is checked on stderr output too, and rejects naming the label when the process exits first', async () => {
    // 'ready' comes on stderr long before any exit: only a check on stderr chunks sees it in time.
    const code =
      "console.error('warming'); setTimeout(() => console.error('ready'), 50); setTimeout(() => {}, 60_000)"
    const watched = watchProcess(node(code), { label: 'warmer on a' })
    const ready = () => (watched.stderr().includes('ready') ? 'seen' : undefined)
    expect(await watched.waitUntil('ready on stderr', ready, 10_000)).toBe('seen')
    const never = watched.waitUntil('never', () => undefined, 10_000)
    watched.child.kill('SIGTERM')
    await expect(never).rejects.toMatchObject({
      code: 'NETNS_COMMAND_FAILED',
      message: expect.stringMatching(/exited \(SIGTERM\) before never \(warmer on a, pid \d+;.*warming/s),
    })
  })

  it('kills the process when waiting for its exit times out', async () => {
    const child = node('setTimeout(() => {}, 60_000)')
    const watched = watchProcess(child)
    await expect(watched.waitForExit(100)).rejects.toMatchObject({ code: 'NETNS_TIMEOUT' })
    await new Promise((resolve) => child.once('close', resolve))
    expect(child.signalCode).toBe('SIGKILL')
  })
})

/**
 * The commands the READMEs use, run the ways the root README says to get them: `bin/` on PATH, and
 * `pnpm <command>` at the repository root. A loopback run (interface 127.0.0.1) through both.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { cleanEnv } from '@shoal/service/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertBuilt,
  frames,
  loopbackEndpoint,
  type Running,
  stopAll,
  stoppedSummary,
  watch,
} from './support.js'

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
const BIN_DIR = `${ROOT}bin`
const COMMANDS = ['shoal-send', 'shoal-recv', 'shoal-relay'] as const
const running: Running[] = []

/** `command args…` with the repository's bin/ first on PATH, from a directory outside it. */
function onPath(command: string, args: readonly string[]): Running {
  const env = cleanEnv({ PATH: `${BIN_DIR}:${process.env.PATH ?? ''}` })
  const p = watch(command, spawn(command, args, { cwd: '/', env, stdio: ['pipe', 'pipe', 'pipe'] }))
  running.push(p)
  return p
}

/** `pnpm --silent command args…` at the repository root. */
function viaPnpm(command: string, args: readonly string[]): Running {
  const p = watch(
    `pnpm ${command}`,
    spawn('pnpm', ['--silent', command, ...args], {
      cwd: ROOT,
      env: cleanEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  )
  running.push(p)
  return p
}

beforeAll(() => assertBuilt())
afterAll(() => stopAll(running))

describe('shoal-send, shoal-recv and shoal-relay as commands', () => {
  it.each(COMMANDS)('%s runs from bin/ on PATH and through pnpm at the root', async (command) => {
    for (const p of [onPath(command, ['--version']), viaPnpm(command, ['--version'])]) {
      const exit = await p.exited()
      expect(exit.code, exit.stderr).toBe(0)
      expect(exit.stdout).toMatch(new RegExp(`^${command} \\d+\\.\\d+\\.\\d+\\n$`))
    }
  })

  it('a loopback run: shoal-recv from PATH gets what `pnpm shoal-send` sends', async () => {
    const { group, port } = loopbackEndpoint()
    const where = ['--interface', '127.0.0.1', '--group', group, '--port', String(port)]
    const rx = onPath('shoal-recv', [...where, '--output', 'json', '--count', '5'])
    await rx.waitForLog('ready')
    const tx = viaPnpm('shoal-send', [...where, '--sensors', 'imu', '--rate', 'imu=100', '--count', '5'])
    expect(stoppedSummary(await tx.exited())).toMatchObject({ frames: 5 })
    expect(stoppedSummary(await rx.exited())).toMatchObject({ frames: 5, gaps: 0 })
    expect(frames(rx).map((f) => f.sequence)).toEqual([0, 1, 2, 3, 4])
  })
})

/**
 * `shoal-recv` on a terminal: a pseudo-terminal from util-linux `script`, so the receiver sees a TTY
 * on stdout and stderr as a person's shell gives it. At the default level its start-up is a few
 * lines before the data (the start line, a warning when one applies, the loopback hint); with
 * `--log-level debug` every field is shown again. On loopback (127.0.0.1) only.
 */
import { spawnSync } from 'node:child_process'
import { cleanEnv } from '@shoal/service/testing'
import { beforeAll, describe, expect, it } from 'vitest'
import { BIN, requireBuild, uniqueEndpoint } from './support.js'

/** Lines before the stats block at the default level: start line, at most one warning, the hint. */
const MAX_START_LINES = 3

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0
const missing = hasScript ? undefined : 'util-linux `script` (a pseudo-terminal) is not installed'
if (missing !== undefined && process.env.CI === 'true') throw new Error(`CI: ${missing}`)
if (missing !== undefined) console.warn(`skipping the terminal tests: ${missing}`)

beforeAll(requireBuild)

/** What a terminal shows for `shoal-recv args…` (carriage returns removed). */
function onTerminal(args: readonly string[]): string {
  const command = [process.execPath, BIN, ...args].map((word) => `'${word}'`).join(' ')
  const run = spawnSync('script', ['-qec', command, '/dev/null'], {
    encoding: 'utf8',
    env: cleanEnv({ NO_COLOR: '1' }),
    timeout: 20_000,
    killSignal: 'SIGKILL',
  })
  expect(run.status, run.stdout + run.stderr).toBe(0)
  return run.stdout.replaceAll('\r', '')
}

describe.skipIf(missing !== undefined)('shoal-recv on a terminal', () => {
  it('starts in a few lines at the default level, the start line first', () => {
    const { group, port } = uniqueEndpoint()
    const shown = onTerminal(['--group', group, '--port', String(port), '--duration', '1s'])
    const lines = shown.split('\n')
    const block = lines.findIndex((line) => line.startsWith('source '))
    expect(block, shown).toBeGreaterThan(0)
    const start = lines.slice(0, block)
    expect(start.length, shown).toBeLessThanOrEqual(MAX_START_LINES)
    expect(start[0]).toMatch(
      new RegExp(
        `^\\[[\\d:.]+\\] INFO: receiving multicast ${group.replaceAll('.', '\\.')}:${port} on lo \\(127\\.0\\.0\\.1\\), all topics$`,
      ),
    )
    expect(start.at(-1)).toMatch(/INFO: listening on loopback: .* pass --interface /)
    // no field lines, no `ready` or `stopped` record: the summary line says it
    expect(shown).not.toMatch(/^ {4}\w+: /m)
    expect(shown).not.toMatch(/INFO: (ready|stopped)$/m)
    expect(shown).toMatch(/^shoal-recv: stopped \(--duration 1s\) after /m)
  })

  it('shows every field, and the ready and stopped records, with --log-level debug', () => {
    const { group, port } = uniqueEndpoint()
    const shown = onTerminal([
      '--group',
      group,
      '--port',
      String(port),
      '--duration',
      '1s',
      '--log-level',
      'debug',
    ])
    expect(shown).toMatch(/INFO: receiving multicast .*\n {4}mode: "multicast"\n/)
    expect(shown).toMatch(/INFO: ready\n {4}mode: "multicast"/)
    expect(shown).toMatch(/INFO: stopped\n/)
  })
})

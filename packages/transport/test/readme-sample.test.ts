/**
 * The root README's usage sample, run as it stands (the code block under "## Usage"), so that it
 * cannot rot: it must print the frame and stats with one frame in them, and exit by itself. Only
 * the group and port are changed, to ones no other test uses at the same time; the interface stays
 * 127.0.0.1 (loopback). It runs with plain `node` against the built packages, as a user's program
 * would, from a temporary folder whose node_modules links @shoal/schema and @shoal/transport.
 * And the README's relative links (the contributing guide among them) stay inside the repository.
 */
import { spawnSync } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
/** Longest the sample may run; it exits in well under a second, a hang is the failure. */
const SAMPLE_LIMIT_MS = 15_000

const scratch = mkdtempSync(join(tmpdir(), 'shoal-readme-sample-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** The first ```ts block after `## Usage` in the root README. */
function usageSample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const usage = readme.indexOf('\n## Usage\n')
  expect(usage, 'the root README has a ## Usage section').toBeGreaterThan(0)
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(usage))?.[1]
  if (block === undefined) throw new Error('no ```ts block under ## Usage')
  return block
}

it('the root README usage sample prints the frame and its stats, and exits 0', () => {
  const sample = usageSample()
  const where = "{ group: '239.255.0.1', port: 7400, interface: '127.0.0.1' }"
  expect(sample, 'the sample names its group and port as this test expects').toContain(where)
  const group = `239.255.${randomInt(100, 255)}.${randomInt(1, 255)}`
  const port = randomInt(20_000, 60_000)
  const program = sample.replace(where, `{ group: '${group}', port: ${port}, interface: '127.0.0.1' }`)

  const modules = join(scratch, 'node_modules', '@shoal')
  mkdirSync(modules, { recursive: true })
  symlinkSync(join(ROOT, 'packages/schema'), join(modules, 'schema'))
  symlinkSync(join(ROOT, 'packages/transport'), join(modules, 'transport'))
  // The sample is TypeScript without type annotations: plain JavaScript as it stands.
  writeFileSync(join(scratch, 'sample.mjs'), program)

  const run = spawnSync(process.execPath, ['sample.mjs'], {
    cwd: scratch,
    encoding: 'utf8',
    timeout: SAMPLE_LIMIT_MS,
    killSignal: 'SIGKILL',
  })
  expect(run.signal, `the sample did not exit by itself; stderr: ${run.stderr}`).toBeNull()
  expect(run.status, run.stderr).toBe(0)
  expect(run.stdout).toMatch(/^imu 0 Imu \{/)
  expect(run.stdout).toContain('z: 9.81')
  expect(run.stdout).not.toMatch(/^\[\]$/m)
  expect(run.stdout).toMatch(/topic: 'imu',[\s\S]*frames: 1,/)
})

it('every relative link of the root README resolves to a file inside the repository', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const links = [...readme.matchAll(/\]\(([^)\s]+)\)|`(\.\.\/[^`\s]+)`/g)]
    .map((m) => (m[1] ?? m[2])!.split('#')[0]!)
    .filter((link) => link !== '' && !/^[a-z]+:/.test(link))
  expect(links).toContain('CONTRIBUTING.md')
  for (const link of links) {
    const target = resolve(ROOT, link)
    expect(relative(ROOT, target).startsWith('..'), `${link} points outside the repository`).toBe(false)
    expect(existsSync(target), `${link} exists`).toBe(true)
  }
})

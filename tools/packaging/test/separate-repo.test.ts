import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { cpSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, type ExpectStatic, expect, test } from 'vitest'

const execFileAsync = promisify(execFile)

// The path a user outside this workspace takes (README: “A project of your own”): pack the libraries,
// copy examples/separate-repo to a temporary folder, install the tarballs there with npm or pnpm and
// no overrides, generate code for its own .proto with shoal-codegen, build it with tsc, and run its
// subscriber and publisher on loopback. Third-party packages come from the npm registry.
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const example = join(repo, 'examples', 'separate-repo')
/** What the project installs from the packs: the two libraries a publisher and a subscriber need. */
const TARBALLS = ['schema', 'transport']
/** Readings the publisher sends; every one must arrive. */
const READINGS = 20
/** How long the subscriber may take to join and then to receive everything, ms. */
const SUBSCRIBER_READY_MS = 15_000
const SUBSCRIBER_DONE_MS = 30_000
/** Output kept of one install or build, for the error message when it fails. */
const OUTPUT_MAX_BYTES = 16 * 1024 * 1024

const work = mkdtempSync(join(tmpdir(), 'shoal-separate-repo-'))
const packs = join(work, 'packs')

/** The environment of the outer `pnpm test` without its npm_* / pnpm_* settings, as a user's shell. */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(npm|pnpm)_/i.test(name)))
}

/** Runs a command to its end; rejects with its output when it fails. */
async function run(command: string, args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync(command, args, { cwd, env: userEnv(), encoding: 'utf8', maxBuffer: OUTPUT_MAX_BYTES })
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string }
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}${stderr ?? ''}`, {
      cause: error,
    })
  }
}

/** A UDP port free on this host now. */
async function freePort(): Promise<number> {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const { port } = socket.address()
  await new Promise<void>((resolve) => socket.close(resolve))
  return port
}

function exited(child: ChildProcess, ms: number, what: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not exit within ${ms} ms`)), ms)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve(code)
    })
  })
}

beforeAll(async () => {
  // Outside the workspace, so nothing resolves through its node_modules or pnpm-workspace.yaml.
  expect(realpathSync(work).startsWith(`${realpathSync(repo)}/`)).toBe(false)
  await run(process.execPath, [join(repo, 'scripts', 'pack-all.mjs'), '--out', packs], repo)
})

afterAll(() => rmSync(work, { recursive: true, force: true }))

const children: ChildProcess[] = []
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
})

/** Copies the example, installs the tarballs with `pm` (no overrides) and builds it. */
async function installAndBuild(pm: string, project: string, expect: ExpectStatic): Promise<void> {
  cpSync(example, project, {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|dist|gen)$/.test(source),
  })
  const tarballs = TARBALLS.map((name) => join(packs, `shoal-${name}-0.1.0.tgz`))
  if (pm === 'pnpm') await run('pnpm', ['add', '--prefer-offline', ...tarballs], project)
  else await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs], project)

  const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'))
  expect(manifest.overrides).toBeUndefined()
  expect(manifest.pnpm).toBeUndefined()
  expect(Object.keys(manifest.dependencies)).toEqual(
    expect.arrayContaining(['@shoal/schema', '@shoal/transport']),
  )
  // One @shoal/schema in the project: the one @shoal/transport uses is the project's own.
  const own = createRequire(join(project, 'package.json')).resolve('@shoal/schema/package.json')
  const transport = createRequire(join(project, 'package.json')).resolve('@shoal/transport/package.json')
  const transportsOwn = createRequire(realpathSync(transport)).resolve('@shoal/schema/package.json')
  expect(realpathSync(transportsOwn)).toBe(realpathSync(own))

  await run(pm, ['run', 'build'], project)
}

/** Runs the built subscriber, then the publisher; resolves with the subscriber's JSON lines. */
async function publishAndReceive(
  project: string,
  expect: ExpectStatic,
): Promise<Array<Record<string, unknown>>> {
  const port = String(await freePort())
  const args = ['--port', port, '--count', String(READINGS)]
  const subscriber = spawn(process.execPath, [join(project, 'dist', 'subscriber.js'), ...args], {
    cwd: project,
    env: userEnv(),
  })
  children.push(subscriber)
  let stdout = ''
  let stderr = ''
  subscriber.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  const done = exited(subscriber, SUBSCRIBER_READY_MS + SUBSCRIBER_DONE_MS, 'the subscriber')
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`subscriber not ready: ${stderr}`)), SUBSCRIBER_READY_MS)
    subscriber.stderr.on('data', (chunk) => {
      stderr += chunk
      if (stderr.includes('subscribed to')) {
        clearTimeout(timer)
        resolve()
      }
    })
  })
  await run(process.execPath, [join(project, 'dist', 'publisher.js'), ...args], project)
  expect(await done).toBe(0)
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
}

// npm and pnpm side by side: each test spends most of its time waiting on its installer.
test.concurrent.for(['pnpm', 'npm'])(
  'a project outside the workspace, installed with %s: no overrides, its own types, every reading delivered',
  async (pm, { expect }) => {
    const project = join(work, pm)
    await installAndBuild(pm, project, expect)
    const readings = await publishAndReceive(project, expect)
    expect(readings).toHaveLength(READINGS)
    expect(readings.map((r) => r.count)).toEqual(Array.from({ length: READINGS }, (_, i) => String(i + 1)))
    expect(readings[0]).toMatchObject({
      topic: 'reading',
      type: 'demo.v1.Reading',
      source: 'probe0@example',
      value: 100.1,
      unit: 'kPa',
    })
  },
)

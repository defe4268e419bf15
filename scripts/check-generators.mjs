#!/usr/bin/env node
// CI for the generators (turbo/generators): in a temporary copy of the workspace, generates a
// service (`pnpm turbo gen service --args ci-probe`) and a message type (`pnpm turbo gen
// message-type --args CiProbe`), then builds, typechecks, lints and tests what they wrote, so the
// templates never rot. Exits non-zero at the first step that fails, naming it.
//
//   node scripts/check-generators.mjs            both
//   node scripts/check-generators.mjs service    one of them (or message-type)
//
// The copy leaves out node_modules, dist, .turbo and .git; `pnpm install --offline` fills it from
// the store this workspace was installed from. Turbo's cache is this workspace's, so packages the
// generators did not touch are not built again. SHOAL_KEEP_GENERATED=1 keeps the copy.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'

/** What the copy leaves out: installs, build output, caches, history. */
const EXCLUDED = new Set([
  'node_modules',
  'dist',
  '.turbo',
  '.git',
  'coverage',
  'test-artifacts',
  'deploy-out',
])
/** The service and the message type the check generates (names nobody would give a real one). */
export const PROBE_SERVICE = 'ci-probe'
export const PROBE_TYPE = 'CiProbe'
const PROBE_FIELDS =
  'a:double, b:float, c:int32, d:sint32, e:sfixed32, f:uint32, g:fixed32, h:int64, i:sint64, j:sfixed64, k:uint64, l:fixed64, m:bool, n:string, o:bytes'
/** Longest any one step may take before the check fails (an install or a build gone wrong). */
const STEP_TIMEOUT_MS = 5 * 60_000

const root = resolve(import.meta.dirname, '..')
const which = process.argv[2]
if (which !== undefined && which !== 'service' && which !== 'message-type') {
  console.error('usage: node scripts/check-generators.mjs [service|message-type]')
  process.exit(2)
}
const started = Date.now()
const copy = mkdtempSync(join(tmpdir(), 'shoal-generators-'))
const cache = turboCache()
const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
  // Read-only: the check never writes into the workspace's cache.
  ...(cache === undefined ? {} : { TURBO_CACHE_DIR: cache, TURBO_CACHE: 'local:r' }),
}

/** This workspace's turbo cache: its own, or, in a git worktree, the main worktree's (turbo shares it). */
function turboCache() {
  const own = join(root, '.turbo/cache')
  if (existsSync(own)) return own
  const git = spawnSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: root })
  const common = git.status === 0 ? git.stdout.toString().trim() : undefined
  const shared = common === undefined ? undefined : join(dirname(common), '.turbo/cache')
  return shared !== undefined && existsSync(shared) ? shared : undefined
}

function step(what, command, args, cwd = copy) {
  const t = Date.now()
  console.log(`check-generators: ${what}: ${command} ${args.join(' ')}`)
  const run = spawnSync(command, args, {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: STEP_TIMEOUT_MS,
  })
  if (run.status !== 0) {
    process.stdout.write(run.stdout ?? '')
    process.stderr.write(run.stderr ?? '')
    const why = run.error?.message ?? (run.signal ? `killed by ${run.signal}` : `exit ${run.status}`)
    throw new Error(`${what} failed (${why})`)
  }
  // turbo gen exits 0 when an action fails: its report says so instead (in colour: codes removed).
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences
  const output = `${run.stdout}${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, '')
  if (/>>> (Error|Failed)/.test(output)) {
    process.stdout.write(output)
    throw new Error(`${what} failed (its report has errors)`)
  }
  console.log(`check-generators: ${what}: ok (${((Date.now() - t) / 1000).toFixed(1)} s)`)
  return run.stdout.toString()
}

let code = 0
try {
  step('typecheck the generators', 'pnpm', ['exec', 'tsc', '-p', 'turbo/generators/tsconfig.json'], root)
  cpSync(root, copy, { recursive: true, filter: (source) => !EXCLUDED.has(basename(source)) })
  step('install', 'pnpm', ['install', '--offline', '--frozen-lockfile'])
  if (which === undefined || which === 'service') {
    const pkg = `@shoal/${PROBE_SERVICE}`
    step('generate a service', 'pnpm', ['turbo', 'gen', 'service', '--args', PROBE_SERVICE])
    step('build it', 'pnpm', ['turbo', 'run', 'build', `--filter=${pkg}`, '--output-logs=errors-only'])
    step('typecheck it', 'pnpm', ['--filter', pkg, 'run', 'typecheck'])
    step('lint it', 'pnpm', ['exec', 'biome', 'check', `apps/${PROBE_SERVICE}`, '.changeset'])
    step('test it', 'pnpm', ['exec', 'vitest', 'run'], join(copy, 'apps', PROBE_SERVICE))
  }
  if (which === undefined || which === 'message-type') {
    step('generate a message type', 'pnpm', ['turbo', 'gen', 'message-type', '--args', PROBE_TYPE])
    // A second one, into the files the first changed (and the formatter rewrote), with every field type.
    step('generate another, every field type', 'pnpm', [
      'turbo',
      'gen',
      'message-type',
      '--args',
      `${PROBE_TYPE}Fields`,
      'Every scalar field type once',
      PROBE_FIELDS,
      'ci/probe-fields',
    ])
    step('build the schema', 'pnpm', [
      'turbo',
      'run',
      'build',
      '--filter=@shoal/schema',
      '--output-logs=errors-only',
    ])
    step('typecheck the schema', 'pnpm', ['--filter', '@shoal/schema', 'run', 'typecheck'])
    step('lint the schema', 'pnpm', ['exec', 'biome', 'check', 'packages/schema', '.changeset'])
    step('test the schema', 'pnpm', ['exec', 'vitest', 'run'], join(copy, 'packages/schema'))
  }
  console.log(`check-generators: ok in ${Math.round((Date.now() - started) / 1000)} s`)
} catch (error) {
  console.error(
    `check-generators: ${error instanceof Error ? error.message : String(error)} (copy in ${copy})`,
  )
  code = 1
} finally {
  if (process.env.SHOAL_KEEP_GENERATED !== '1' && code === 0) rmSync(copy, { recursive: true, force: true })
}
process.exit(code)

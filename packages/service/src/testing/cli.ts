import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'

export interface CliOptions {
  /** Variables added to the environment; SHOAL_* variables of the caller are never passed on. */
  readonly env?: Readonly<Record<string, string>>
  readonly cwd?: string
  /** Kill the process (SIGKILL) and reject after this long; 15 s by default. */
  readonly timeoutMs?: number
  /** Written to the process's stdin, which is then closed; stdin is left open if absent. */
  readonly input?: string
}

export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunningCli {
  readonly child: ChildProcess
  /** Output so far. */
  stdout(): string
  stderr(): string
  /** Resolves when stderr (or stdout) matches; rejects at the timeout or if the process exits first. */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr'): Promise<RegExpMatchArray>
  /** Resolves when the process has exited. */
  readonly exited: Promise<CliResult>
}

/**
 * Throws, naming every missing one, unless all these built files exist: for a `beforeAll` of tests
 * that run a service's bundle, so a missing build fails once with the fix instead of in every test.
 */
export function requireBuilt(...files: readonly string[]): void {
  const missing = files.filter((file) => !existsSync(file))
  if (missing.length > 0)
    throw new Error(`${missing.join(', ')} missing: run pnpm build (pnpm test does) first`)
}

/** An environment without the caller's `SHOAL_*` settings, so a developer's shell cannot change a test. */
export function cleanEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('SHOAL_')) env[key] = value
  return { ...env, NO_COLOR: '1', ...extra }
}

/** Starts `node <script> ...args` with the running Node binary. */
export function startCli(script: string, args: readonly string[], options: CliOptions = {}): RunningCli {
  const timeoutMs = options.timeoutMs ?? 15_000
  const child = spawn(process.execPath, [script, ...args], {
    env: cleanEnv(options.env),
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  const waiters = new Set<() => void>()
  const notify = () => {
    for (const waiter of waiters) waiter()
  }
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk
    notify()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk
    notify()
  })
  if (options.input !== undefined) child.stdin.end(options.input)

  let timer: NodeJS.Timeout | undefined
  const exited = new Promise<CliResult>((resolve, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${script} ${args.join(' ')} still running after ${timeoutMs} ms\nstderr:\n${err}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      notify()
      resolve({ code, signal, stdout: out, stderr: err })
    })
  })
  let closed = false
  exited.then(
    () => {
      closed = true
    },
    () => {
      closed = true
    },
  )

  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, stream = 'stderr') {
      return new Promise((resolve, reject) => {
        const deadline = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`no ${pattern} on ${stream} within ${timeoutMs} ms\nstderr:\n${err}`))
        }, timeoutMs)
        function check() {
          const match = (stream === 'stderr' ? err : out).match(pattern)
          if (match) {
            clearTimeout(deadline)
            waiters.delete(check)
            resolve(match)
          } else if (closed || child.exitCode !== null) {
            clearTimeout(deadline)
            waiters.delete(check)
            reject(
              new Error(`process exited (${child.exitCode}) before ${pattern} on ${stream}\nstderr:\n${err}`),
            )
          }
        }
        waiters.add(check)
        check()
      })
    },
  }
}

/** Runs `node <script> ...args` to completion; stdin is closed at once unless `input` is given. */
export function runCli(
  script: string,
  args: readonly string[],
  options: CliOptions = {},
): Promise<CliResult> {
  const running = startCli(script, args, { ...options, input: options.input ?? '' })
  return running.exited
}

import { spawn, spawnSync } from 'node:child_process'
import { NetnsError } from './errors.js'

export interface RunOptions {
  /** Kill the command with SIGKILL after this long. Default {@link DEFAULT_RUN_TIMEOUT_MS}. */
  timeoutMs?: number
  /** Written to the command's stdin, which is then closed. */
  input?: string | Uint8Array
  env?: NodeJS.ProcessEnv
  cwd?: string
}

export interface RunResult {
  /** Exit code, or null when the command was killed by a signal (for example on timeout). */
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  timedOut: boolean
}

export const DEFAULT_RUN_TIMEOUT_MS = 10_000

/** Runs a command to completion with a hard time limit; never rejects for a non-zero exit. */
export function runCommand(
  command: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    child.stdin.on('error', () => {
      // The command may exit without reading its input (EPIPE); its exit status tells the story.
    })
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(
        new NetnsError(`cannot run ${command}: ${error.message}`, {
          code: 'NETNS_COMMAND_FAILED',
          cause: error,
        }),
      )
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      })
    })
    child.stdin.end(opts.input)
  })
}

function describe(command: string, args: readonly string[], result: RunResult): string {
  const how = result.timedOut ? 'timed out' : `exited with ${result.code ?? result.signal}`
  const detail = result.stderr.trim() || result.stdout.trim()
  return `\`${command} ${args.join(' ')}\` ${how}${detail ? `: ${detail}` : ''}`
}

/** Runs a command and throws a NetnsError naming it and its stderr unless it exits 0. */
export async function mustRun(
  command: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<string> {
  const result = await runCommand(command, args, opts)
  if (result.code !== 0) {
    throw new NetnsError(describe(command, args, result), { code: 'NETNS_COMMAND_FAILED' })
  }
  return result.stdout
}

/** Synchronous variant for process-exit hooks and the capability probe. */
export function runCommandSync(
  command: string,
  args: readonly string[],
  timeoutMs = DEFAULT_RUN_TIMEOUT_MS,
): RunResult & { error?: Error } {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' })
  const base: RunResult = {
    code: result.status,
    signal: result.signal,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
    timedOut: result.error !== undefined && (result.error as NodeJS.ErrnoException).code === 'ETIMEDOUT',
  }
  return result.error === undefined ? base : { ...base, error: result.error }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

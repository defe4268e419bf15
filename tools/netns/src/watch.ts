import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { NetnsError } from './errors.js'

export interface ExitResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface WatchedProcess {
  readonly child: ChildProcessWithoutNullStreams
  /** Everything written to stdout / stderr so far. */
  stdout(): string
  stderr(): string
  /** Complete stdout lines so far. */
  lines(): string[]
  /** Resolves with the first stdout line (past or future) that matches; rejects on exit or timeout. */
  waitForLine(match: string | RegExp, timeoutMs: number): Promise<string>
  /** Resolves when the process has exited; on timeout SIGKILLs it and rejects. */
  waitForExit(timeoutMs: number): Promise<ExitResult>
  /**
   * Resolves with what `check` returns once it is not undefined, checked now and on every output
   * chunk (stdout or stderr); rejects if `check` throws, if the process exits first, or on timeout.
   */
  waitUntil<T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T>
}

export interface WatchOptions {
  /** Names the process in error messages (e.g. `shoal-relay on r1`). */
  readonly label?: string
}

/** How much of each stream an error message quotes: the end, where the failure usually is. */
const QUOTED_CHARS = 4000

function matches(line: string, match: string | RegExp): boolean {
  return typeof match === 'string' ? line.includes(match) : match.test(line)
}

/**
 * Starts buffering a child's output at once (so nothing is lost between spawn and the first wait) and
 * offers bounded waits on it. Use it on what `host.spawn()` / `host.node()` return.
 */
export function watchProcess(
  child: ChildProcessWithoutNullStreams,
  options: WatchOptions = {},
): WatchedProcess {
  let out = ''
  let err = ''
  let exit: ExitResult | undefined
  const waiters = new Set<() => void>()
  const notify = (): void => {
    for (const waiter of [...waiters]) waiter()
  }
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => {
    out += chunk
    notify()
  })
  child.stderr.on('data', (chunk: string) => {
    err += chunk
    notify()
  })
  child.on('close', (code, signal) => {
    exit = { code, signal, stdout: out, stderr: err }
    notify()
  })
  child.on('error', (error) => {
    err += `\n${error.message}`
    exit ??= { code: null, signal: null, stdout: out, stderr: err }
    notify()
  })

  const lines = (): string[] => {
    const all = out.split('\n')
    all.pop()
    return all
  }
  const quote = (text: string): string =>
    text.length > QUOTED_CHARS ? `…${text.slice(-QUOTED_CHARS)}` : text
  const describe = (): string =>
    `${options.label === undefined ? '' : `${options.label}, `}pid ${child.pid ?? '?'}; ` +
    `stdout: ${quote(out.trim()) || '(none)'}; stderr: ${quote(err.trim()) || '(none)'}`

  function wait<T>(
    timeoutMs: number,
    what: string,
    check: () => T | undefined,
    { onTimeout, failOnExit = false }: { onTimeout?: () => void; failOnExit?: boolean } = {},
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer)
        waiters.delete(poll)
      }
      const poll = (): void => {
        let value: T | undefined
        try {
          value = check()
        } catch (error) {
          finish()
          reject(error)
          return
        }
        if (value !== undefined) {
          finish()
          resolve(value)
        } else if (exit && failOnExit) {
          finish()
          reject(
            new NetnsError(`process exited (${exit.code ?? exit.signal}) before ${what} (${describe()})`, {
              code: 'NETNS_COMMAND_FAILED',
            }),
          )
        }
      }
      const timer = setTimeout(() => {
        finish()
        onTimeout?.()
        reject(
          new NetnsError(`timed out after ${timeoutMs} ms waiting for ${what} (${describe()})`, {
            code: 'NETNS_TIMEOUT',
          }),
        )
      }, timeoutMs)
      waiters.add(poll)
      poll()
    })
  }

  return {
    child,
    stdout: () => out,
    stderr: () => err,
    lines,
    waitForLine(match, timeoutMs) {
      return wait(
        timeoutMs,
        `a stdout line matching ${String(match)}`,
        () => lines().find((candidate) => matches(candidate, match)),
        { failOnExit: true },
      )
    },
    waitForExit(timeoutMs) {
      return wait(timeoutMs, 'the process to exit', () => exit, { onTimeout: () => child.kill('SIGKILL') })
    },
    waitUntil(what, check, timeoutMs) {
      return wait(timeoutMs, what, check, { failOnExit: true })
    },
  }
}

/**
 * Starting the built shoal-send and shoal-recv bundles on namespace hosts, and reading their JSON
 * logs: for the capture suite. Only the apps' command lines are used, never their sources.
 */
import { fileURLToPath } from 'node:url'
import { type ExitResult, type Host, type WatchedProcess, watchProcess } from '@shoal/netns'
import { cleanEnv, requireBuilt } from '@shoal/service/testing'

const bundle = (app: string, file: string) =>
  fileURLToPath(new URL(`../../../apps/${app}/dist/${file}`, import.meta.url))

/** The single-file bundles `pnpm build` writes (what gets deployed). */
export const SEND = bundle('sender', 'shoal-send.js')
export const RECV = bundle('receiver', 'shoal-recv.js')

export function assertBuilt(): void {
  requireBuilt(SEND, RECV)
}

/** The longest any single wait in the capture suite may take. */
export const WAIT_MS = 15_000
/** No process of the suite may live longer than this; the harness SIGKILLs it. */
export const PROCESS_LIMIT_MS = 60_000

export interface LogLine {
  readonly msg?: string
  readonly [key: string]: unknown
}

function jsonLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      out.push(JSON.parse(line) as Record<string, unknown>)
    } catch {
      // a line still being written, or not JSON
    }
  }
  return out
}

export interface App {
  readonly process: WatchedProcess
  /** stderr's JSON log records. */
  logs(): LogLine[]
  /** stdout's JSON lines. */
  lines(): Record<string, unknown>[]
  waitForLog(msg: string): Promise<LogLine>
  /** SIGTERM (if still running), then the exit. */
  stop(): Promise<ExitResult>
}

/** Starts `app` (a bundle) on `host` with `args`; `input` is written to its stdin, which is then closed. */
export function startApp(host: Host, app: string, args: readonly string[], input?: string): App {
  const child = host.node(app, args, { env: cleanEnv(), timeoutMs: PROCESS_LIMIT_MS })
  if (input !== undefined) child.stdin.end(input)
  const watched = watchProcess(child, { label: `${app.split('/').pop()} on ${host.name}` })
  const logs = () => jsonLines(watched.stderr()) as LogLine[]
  return {
    process: watched,
    logs,
    lines: () => jsonLines(watched.stdout()),
    waitForLog: (msg) =>
      watched.waitUntil(`log "${msg}"`, () => logs().find((line) => line.msg === msg), WAIT_MS),
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return watched.waitForExit(WAIT_MS)
    },
  }
}

/** A sender's session id as receivers and the dissector show it: from its `ready` log, as a number. */
export async function sessionOf(sender: App): Promise<number> {
  const ready = await sender.waitForLog('ready')
  if (typeof ready.session !== 'string') throw new Error(`no session in ${JSON.stringify(ready)}`)
  return Number.parseInt(ready.session, 16)
}

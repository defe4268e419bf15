/**
 * What the end-to-end suites share: where the three built bundles are, how to start one of them on a
 * host (a network namespace from @shoal/netns, or this host for the loopback suites), and bounded
 * waits on what they print. The suites only use the apps' command lines, never their sources.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  createNetwork,
  type ExitResult,
  type Host,
  type Network,
  type Topology,
  watchProcess,
} from '@shoal/netns'
import { cleanEnv, type PromFamily, parsePrometheusText, requireBuilt } from '@shoal/service/testing'
import { afterAll, beforeAll } from 'vitest'

export type AppName = 'send' | 'recv' | 'relay'

const bundle = (app: string, file: string) =>
  fileURLToPath(new URL(`../../../${app}/dist/${file}`, import.meta.url))

/** The single-file bundles `pnpm turbo run build` writes (what gets deployed). */
export const BIN: Readonly<Record<AppName, string>> = {
  send: bundle('sender', 'shoal-send.js'),
  recv: bundle('receiver', 'shoal-recv.js'),
  relay: bundle('relay', 'shoal-relay.js'),
}

export function assertBuilt(): void {
  requireBuilt(...Object.values(BIN))
}

/** The e2e suites' one limit on how long any single wait may take. */
export const WAIT_MS = 15_000
/** No app process in these suites may live longer than this; the harness SIGKILLs it. */
export const PROCESS_LIMIT_MS = 60_000

/**
 * shoal-send flags for fast simulated sensors: every type within a fraction of a second; cameras of
 * 57,600 bytes (40 fragments).
 */
export const FAST_SENSORS = [
  '--rate',
  'imu=1000,gps=100,temperature=20,camera=20',
  '--camera-size',
  '160x120',
]

/** A JSON log line of an app (pino on stderr when it is not a terminal). */
export interface LogLine {
  readonly level?: number
  readonly msg?: string
  readonly [key: string]: unknown
}

export interface Running {
  readonly label: string
  readonly child: ChildProcessWithoutNullStreams
  stdout(): string
  stderr(): string
  /** Complete stdout lines parsed as JSON (lines that are not JSON are skipped). */
  json<T = Record<string, unknown>>(): T[]
  /** Complete stderr lines that are JSON log records. */
  logs(): LogLine[]
  /** Resolves with the first log record (past or future) whose msg matches. */
  waitForLog(msg: string | RegExp, timeoutMs?: number): Promise<LogLine>
  /** Resolves once `check` returns something other than undefined, checked on every output chunk. */
  waitUntil<T>(what: string, check: () => T | undefined, timeoutMs?: number): Promise<T>
  /** Resolves on exit; SIGKILLs the process and rejects after the timeout. */
  exited(timeoutMs?: number): Promise<ExitResult>
  /** SIGTERM, then the exit (bounded like `exited`). */
  stop(timeoutMs?: number): Promise<ExitResult>
}

function parseLines(text: string): unknown[] {
  const lines = text.split('\n')
  lines.pop() // an unfinished line is not a line yet
  const out: unknown[] = []
  for (const line of lines) {
    if (!line.startsWith('{')) continue
    try {
      out.push(JSON.parse(line))
    } catch {
      // not JSON: a human line (summary, pretty output)
    }
  }
  return out
}

/** Wraps a child so its output is kept from the start and every wait on it is bounded. */
export function watch(label: string, child: ChildProcessWithoutNullStreams): Running {
  const watched = watchProcess(child, { label })
  const logs = () => parseLines(watched.stderr()) as LogLine[]
  const exited = (timeoutMs = WAIT_MS) => watched.waitForExit(timeoutMs)

  return {
    label,
    child,
    stdout: watched.stdout,
    stderr: watched.stderr,
    json: <T>() => parseLines(watched.stdout()) as T[],
    logs,
    waitForLog(msg, timeoutMs = WAIT_MS) {
      const hit = (line: LogLine) =>
        typeof line.msg === 'string' && (typeof msg === 'string' ? line.msg === msg : msg.test(line.msg))
      return watched.waitUntil(`log ${String(msg)}`, () => logs().find(hit), timeoutMs)
    },
    waitUntil: (what, check, timeoutMs = WAIT_MS) => watched.waitUntil(what, check, timeoutMs),
    exited,
    stop(timeoutMs = WAIT_MS) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return exited(timeoutMs)
    },
  }
}

export interface StartOptions {
  /** Written to stdin, which is then closed; left open (and unused) when absent. */
  readonly input?: string | undefined
  readonly env?: Readonly<Record<string, string>>
  readonly cwd?: string
  /** SIGKILLed after this long; default {@link PROCESS_LIMIT_MS}. */
  readonly timeoutMs?: number
}

/** Starts one app bundle inside a host's namespace, with the caller's SHOAL_* settings cleared. */
export function startOn(host: Host, app: AppName, args: readonly string[], options: StartOptions = {}) {
  const child = host.node(BIN[app], args, {
    env: cleanEnv(options.env),
    timeoutMs: options.timeoutMs ?? PROCESS_LIMIT_MS,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  })
  if (options.input !== undefined) child.stdin.end(options.input)
  return watch(`shoal-${app} on ${host.name}`, child)
}

/** Starts one app bundle with this Node on this host (the loopback suites: interface 127.0.0.1 only). */
export function startLocal(app: AppName, args: readonly string[], options: StartOptions = {}) {
  const child = spawn(process.execPath, [BIN[app], ...args], {
    env: cleanEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: PROCESS_LIMIT_MS,
    killSignal: 'SIGKILL',
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  })
  if (options.input !== undefined) child.stdin.end(options.input)
  return watch(`shoal-${app}`, child)
}

/** A group and port no other suite uses at the same time (the loopback suites run in parallel). */
export function loopbackEndpoint(): { group: string; port: number } {
  return { group: `239.255.${randomInt(100, 255)}.${randomInt(1, 255)}`, port: randomInt(20_000, 60_000) }
}

/**
 * A suite's network (call it in a describe block): made before its first test; after its last,
 * every app `start`ed on it is stopped and the network destroyed.
 */
export function suiteNetwork(topology: Topology, options: StartOptions = {}) {
  let net: Network | undefined
  const running: Running[] = []
  beforeAll(async () => {
    assertBuilt()
    net = await createNetwork(topology)
  }, 30_000)
  afterAll(async () => {
    await stopAll(running)
    await net?.destroy()
  })
  const network = (): Network => {
    if (net === undefined) throw new Error('the suite network is not up: call network() inside a test')
    return net
  }
  return {
    network,
    /** Starts an app bundle on a host of the network; stopped after the suite whatever happens. */
    start(host: string, app: AppName, args: readonly string[]): Running {
      const p = startOn(network().host(host), app, args, options)
      running.push(p)
      return p
    },
  }
}

/** Stops whatever a suite started and a failed test left running: SIGTERM, SIGKILL after 2 s. */
export async function stopAll(running: readonly Running[]): Promise<void> {
  await Promise.allSettled(running.map((p) => p.stop(2_000)))
}

/** Counts items by a key. */
export function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1
  return counts
}

/** One line of `shoal-recv --output json` (the receiver README documents the shape). */
export interface FrameLine {
  readonly receivedAt: string
  readonly topic: string
  readonly type: string
  readonly fingerprint: string
  readonly source: { readonly session: string; readonly address: string; readonly port: number }
  readonly sequence: number
  readonly hops: number
  readonly bytes: number
  readonly message: Record<string, unknown>
}

/** The frames a receiver has printed so far. */
export function frames(p: Running): FrameLine[] {
  return p.json<FrameLine>().filter((line) => typeof line.topic === 'string')
}

/**
 * The summary of an app that stopped cleanly: the `stopped` log record's `summary` (the same fields
 * as the `<app>: stopped (…) after …s: …` line). Throws unless the exit code was `code` (0: a clean
 * run; 3: shoal-send whose --expect-ed receivers missed acknowledgements).
 */
export function stoppedSummary(exit: ExitResult, code = 0): Record<string, unknown> {
  if (exit.code !== code) throw new Error(`exit ${exit.code ?? exit.signal}; stderr: ${exit.stderr}`)
  const record = (parseLines(exit.stderr) as LogLine[]).find((line) => line.msg === 'stopped')
  const summary = record?.summary
  if (summary === undefined || summary === null || typeof summary !== 'object')
    throw new Error(`no stopped record with a summary; stderr: ${exit.stderr}`)
  return summary as Record<string, unknown>
}

const HTTP_GET = fileURLToPath(new URL('./fixtures/http-get.mjs', import.meta.url))

/**
 * The body of `GET /metrics` of an app started with `--http 0`, fetched from inside its host's
 * namespace (the server listens on that namespace's 127.0.0.1). Throws on any status but 200.
 */
export async function scrapeText(host: Host, p: Running): Promise<string> {
  const url = (await p.waitForLog('serving /metrics and /healthz')).url
  if (typeof url !== 'string') throw new Error(`${p.label} logged no url`)
  const got = await host.run(process.execPath, [HTTP_GET, `${url}/metrics`], { timeoutMs: WAIT_MS })
  if (got.code !== 0)
    throw new Error(
      `GET ${url}/metrics in ${host.name}: ${got.code} ${got.stderr} ${got.stdout.slice(0, 500)}`,
    )
  return got.stdout
}

/** `GET /metrics` (see {@link scrapeText}), parsed strictly as Prometheus text. */
export async function scrape(host: Host, p: Running): Promise<Map<string, PromFamily>> {
  return parsePrometheusText(await scrapeText(host, p))
}

/** The sum of every sample of `name` whose labels include `labels` (0 when there is none). */
export function sumOf(
  families: ReadonlyMap<string, PromFamily>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  let sum = 0
  for (const family of families.values())
    for (const sample of family.samples)
      if (sample.name === name && Object.entries(labels).every(([k, v]) => sample.labels[k] === v))
        sum += sample.value
  return sum
}

/** The session id (8 hex digits) a shoal-send logged at startup. */
export function sessionOf(p: Running): string {
  const line = p.logs().find((l) => typeof l.session === 'string')
  if (line === undefined) throw new Error(`${p.label} logged no session: ${p.stderr()}`)
  return line.session as string
}

/**
 * Peak resident memory of a running process, bytes: `VmHWM` of /proc/PID/status. (`ip netns exec`
 * execs the command, so the child's pid is the app's.)
 */
export function peakRss(p: Running): number {
  const status = readFileSync(`/proc/${p.child.pid}/status`, 'utf8')
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]
  if (kib === undefined) throw new Error(`${p.label}: no VmHWM in /proc/${p.child.pid}/status`)
  return Number(kib) * 1024
}

/** The receive buffer an app's socket got (usable bytes), from its startup log. */
export function recvBufferOf(p: Running): number {
  for (const line of p.logs()) {
    if (typeof line.recvBufferBytes === 'number') return line.recvBufferBytes
    const inputs = line.inputs
    if (Array.isArray(inputs) && typeof inputs[0]?.recvBuffer === 'number') return inputs[0].recvBuffer
  }
  throw new Error(`${p.label} logged no receive buffer: ${p.stderr()}`)
}

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

/** Starts a fixture script (`fixtures/NAME`) with this Node inside a host's namespace. */
export function startFixture(
  host: Host,
  name: string,
  args: readonly string[],
  timeoutMs = PROCESS_LIMIT_MS,
): Running {
  return watch(`${name} on ${host.name}`, host.node(fixture(name), args, { timeoutMs }))
}

/** Resolves once a fixture has printed `ready` (its sockets are open). */
export function fixtureReady(p: Running, timeoutMs = WAIT_MS): Promise<true> {
  return p.waitUntil('ready', () => (p.stdout().includes('ready\n') ? true : undefined), timeoutMs)
}

/** The JSON line a fixture ends with, once it has exited 0. */
export async function fixtureResult<T = Record<string, unknown>>(
  p: Running,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const exit = await p.exited(timeoutMs)
  if (exit.code !== 0) throw new Error(`${p.label}: exit ${exit.code ?? exit.signal}; stderr: ${exit.stderr}`)
  return JSON.parse(exit.stdout.trim().split('\n').pop() ?? '{}') as T
}

/** Resolves once `check` holds, polling every 100 ms; rejects after `timeoutMs` with the last `state`. */
export async function eventually<T>(
  what: string,
  state: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await state()
    if (check(value)) return value
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

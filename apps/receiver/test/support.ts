import { randomInt } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { type RunningCli, requireBuilt, startCli } from '@shoal/service/testing'
import { createPublisher, type Publisher, type PublisherOptions } from '@shoal/transport'

export const BIN = fileURLToPath(new URL('../dist/shoal-recv.js', import.meta.url))

export function requireBuild(): void {
  requireBuilt(BIN)
}

/** Every wait in these tests is bounded by this, ms. */
export const WAIT_MS = 10_000

/** A group and port no other test uses at the same time (test files run in parallel). */
export function uniqueEndpoint(): { group: string; port: number } {
  return { group: `239.255.${randomInt(1, 255)}.${randomInt(1, 255)}`, port: randomInt(20_000, 60_000) }
}

/** Starts shoal-recv and resolves once it is bound and joined (its `ready` log record). */
export async function startReceiver(
  args: readonly string[],
  options: { readonly script?: string; readonly cwd?: string } = {},
): Promise<RunningCli> {
  const running = startCli(options.script ?? BIN, args, {
    timeoutMs: WAIT_MS * 2,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  })
  await running.waitFor(/"msg":"ready"/)
  return running
}

/**
 * shoal-recv joined to a fresh group and port, with `extra` flags, once ready, and a loopback
 * publisher to that group and port. The caller closes the publisher.
 */
export async function receiverWithPublisher(
  extra: readonly string[] = [],
  options: { readonly script?: string; readonly cwd?: string } = {},
): Promise<{ group: string; port: number; rx: RunningCli; pub: Publisher }> {
  const { group, port } = uniqueEndpoint()
  const rx = await startReceiver(['--group', group, '--port', String(port), ...extra], options)
  const pub = await loopbackPublisher({ group, port })
  return { group, port, rx, pub }
}

/** A publisher on loopback, pinned to 127.0.0.1. */
export function loopbackPublisher(options: Omit<PublisherOptions, 'interface'>): Promise<Publisher> {
  return createPublisher({ ...options, interface: '127.0.0.1', ttl: 1 })
}

/** Resolves once stdout holds `n` complete lines. */
export async function waitForLines(running: RunningCli, n: number): Promise<string[]> {
  await running.waitFor(new RegExp(`^(?:.*\\n){${n}}`), 'stdout')
  return lines(running.stdout())
}

export function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '')
}

export function jsonLines(text: string): Record<string, unknown>[] {
  return lines(text).map((line) => JSON.parse(line) as Record<string, unknown>)
}

/** The /metrics and /healthz base URL shoal-recv logged (started with --http 0). */
export async function httpBase(running: RunningCli): Promise<string> {
  const [, url] = await running.waitFor(/"url":"(http:\/\/[^"]+)"/)
  return url!
}

/** The final summary line on stderr. */
export function summaryLine(stderr: string): string {
  const line = stderr.split('\n').find((l) => l.startsWith('shoal-recv: stopped'))
  if (line === undefined) throw new Error(`no summary line in:\n${stderr}`)
  return line
}

/** Resolves once `predicate` holds, polling; rejects after `timeoutMs` (a bound, not a speed check). */
export async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

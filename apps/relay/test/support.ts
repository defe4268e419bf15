/**
 * What the relay's loopback tests share: unique groups and ports (test files run in parallel),
 * bounded waits, and relays opened in this process from command-line routes. Every socket is on
 * 127.0.0.1.
 */
import { randomInt } from 'node:crypto'
import { createLogger, parseConfig } from '@shoal/service'
import { MemorySink } from '@shoal/service/testing'
import { type RelayConfig, relayFlags, resolveRelayConfig } from '../src/config.js'
import { openRelay, type Relay } from '../src/relay.js'

/** The one bound on any wait in these tests (not a speed check). */
export const WAIT_MS = 10_000

/** A multicast group and port, on loopback, that no other test uses at the same time. */
export function uniqueGroup(): { group: string; port: number; route: string } {
  const group = `239.255.${randomInt(1, 255)}.${randomInt(1, 255)}`
  const port = randomInt(20_000, 60_000)
  return { group, port, route: `multicast://${group}:${port}?interface=127.0.0.1` }
}

export function uniquePort(): number {
  return randomInt(20_000, 60_000)
}

/**
 * Resolves once `predicate` holds; rejects after `timeoutMs` naming what it waited for (`what`, or
 * what it returns then: the state worth seeing in a failure).
 */
export async function waitFor(
  predicate: () => boolean,
  what: string | (() => string),
  timeoutMs = WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`,
      )
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

export function relayConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string>> = {},
): RelayConfig {
  const outcome = parseConfig(relayFlags, { argv, env })
  if (outcome.action !== 'run') throw new Error(`unexpected ${outcome.action}`)
  return resolveRelayConfig(outcome.values)
}

/** A relay in this process; its log lines are kept in `log`. */
export async function startRelay(
  argv: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<Relay & { log: MemorySink }> {
  const log = new MemorySink()
  const logger = createLogger({ name: 'shoal-relay', level: 'debug', destination: log, pretty: false })
  const relay = await openRelay(relayConfig(argv, env), { logger })
  return Object.assign(relay, { log })
}

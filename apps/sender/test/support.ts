/**
 * Shared by the sender's tests: the built command, a group and port of their own, and a transport
 * subscriber pinned to 127.0.0.1 that keeps the frames of one sender session.
 */
import { randomInt } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { RunningCli } from '@shoal/service/testing'
import {
  createSubscriber,
  type ReceivedFrame,
  type Subscriber,
  type SubscriberOptions,
} from '@shoal/transport'

export const BIN = fileURLToPath(new URL('../dist/shoal-send.js', import.meta.url))

/** Every test socket stays on loopback. */
export const LOOPBACK = '127.0.0.1'

/** A group and port no other test uses at the same time (test files run in parallel). */
export function uniqueEndpoint(): { group: string; port: number } {
  return { group: `239.255.${randomInt(1, 255)}.${randomInt(1, 255)}`, port: randomInt(20_000, 60_000) }
}

/** The arguments that point shoal-send at an endpoint on loopback. */
export function endpointArgs(endpoint: { group: string; port: number }): string[] {
  return ['--group', endpoint.group, '--port', String(endpoint.port), '--interface', LOOPBACK]
}

export interface Collector {
  readonly subscriber: Subscriber
  /** Frames of the sender session named by `session()`, in arrival order. */
  frames(): ReceivedFrame[]
  /** Learns which session to keep from the sender's startup log line. */
  follow(running: RunningCli): Promise<string>
  close(): Promise<void>
}

/** A subscriber on the endpoint; frames of other sessions (another test's sender) are ignored. */
export async function collect(
  endpoint: { group: string; port: number },
  options: Partial<SubscriberOptions> = {},
): Promise<Collector> {
  const subscriber = await createSubscriber({ ...endpoint, interface: LOOPBACK, ...options })
  const all: ReceivedFrame[] = []
  let session: string | undefined
  subscriber.on('frame', (frame: ReceivedFrame) => all.push(frame))
  return {
    subscriber,
    frames: () => (session === undefined ? [] : all.filter((frame) => frame.source.session === session)),
    async follow(running) {
      const [, found] = await running.waitFor(/"session":"([0-9a-f]{8})"/)
      session = found
      return found!
    },
    close: () => subscriber.close(),
  }
}

/** Resolves once `predicate` holds; rejects after `timeoutMs` (a bound, not a speed check). */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** The `key=value` fields of the final `shoal-send: stopped (...) after ...: ...` line. */
export function summaryOf(stderr: string): { reason: string; fields: Record<string, string> } {
  const match = /^shoal-send: stopped \((.+?)\) after \d+\.\ds: (.*)$/m.exec(stderr)
  if (match === null) throw new Error(`no summary line in:\n${stderr}`)
  const fields: Record<string, string> = {}
  for (const [, key, value] of match[2]!.matchAll(/(\w+)=(\S+)/g)) fields[key!] = value!
  return { reason: match[1]!, fields }
}

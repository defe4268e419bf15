import { randomInt } from 'node:crypto'
import { afterEach } from 'vitest'
import type { Publisher, Subscriber } from '../src/index.js'

/**
 * Closes after each test of the file every publisher and subscriber passed to the returned
 * `track` (which resolves to what it was given), so a failed test leaves no socket open.
 */
export function closeAfterEach(): <T extends Publisher | Subscriber>(opening: Promise<T>) => Promise<T> {
  const open: Array<Publisher | Subscriber> = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()))
  })
  return async (opening) => {
    const s = await opening
    open.push(s)
    return s
  }
}

/** A group and port no other test file uses at the same time (files run in parallel). */
export function uniqueEndpoint(): { group: string; port: number } {
  return { group: `239.255.${randomInt(1, 255)}.${randomInt(1, 255)}`, port: randomInt(20_000, 60_000) }
}

/** Resolves once `predicate` holds; rejects after `timeoutMs` (a bound, not a speed check). */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Open UDP handles of this process. */
export function udpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap' || r === 'UDPWRAP').length
}

/** Lets handles closed this tick finish closing (node:dgram reports 'close' before libuv is done). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
}

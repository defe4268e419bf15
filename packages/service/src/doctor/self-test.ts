/**
 * The self-test: a publisher and a subscriber of @shoal/transport on the target's interface,
 * group and port, and one frame from the one to the other. It sends on the interface the user
 * named (with TTL 1, so no router forwards it): tests run it on loopback or in namespaces only.
 */
import { randomBytes } from 'node:crypto'
import { isIP } from 'node:net'
import { createPublisher, createSubscriber, type ReceivedFrame } from '@shoal/transport'
import type { DoctorCheck, DoctorTarget, Probe } from './types.js'

/** The topic of the self-test's frame; a receiver running on the same group and port sees it too. */
export const SELF_TEST_TOPIC = 'shoal/doctor'
/** How long the self-test waits for its frame to come back. */
export const SELF_TEST_TIMEOUT_MS = 1000
/** Random bytes in the frame, so only the doctor's own frame counts. */
const NONCE_BYTES = 16
/** The fingerprint of "no registered type": the payload is opaque bytes. */
const OPAQUE_FINGERPRINT = 0

/** What to hand the transport: the address the user wrote when it is of the target's family, else the name. */
function transportInterface(target: DoctorTarget): string | undefined {
  const ref = target.interface
  if (ref === undefined) return undefined
  const written = isIP(ref.spec)
  return written === target.family ? ref.spec : ref.name
}

export async function openTransportProbe(target: DoctorTarget): Promise<Probe> {
  const group = target.address
  if (target.mode !== 'multicast' || group === undefined)
    throw new Error('the self-test sends multicast only')
  const iface = transportInterface(target)
  const endpoint = {
    mode: 'multicast',
    group,
    port: target.port,
    ipv6: target.family === 6,
    ...(iface === undefined ? {} : { interface: iface }),
  } as const
  const subscriber = await createSubscriber({
    ...endpoint,
    topics: [SELF_TEST_TOPIC],
    decode: false,
    repair: false,
    status: false,
  })
  let publisher: Awaited<ReturnType<typeof createPublisher>>
  try {
    publisher = await createPublisher({
      ...endpoint,
      ttl: 1,
      loopback: true,
      batch: false,
      heartbeat: false,
      repair: false,
      flow: false,
    })
  } catch (error) {
    await subscriber.close()
    throw error
  }
  // Errors are what the check reports; a warning event must not become an unhandled 'error'.
  subscriber.on('warning', () => {})
  publisher.on('warning', () => {})
  return {
    async roundTrip(timeoutMs) {
      const nonce = new Uint8Array(randomBytes(NONCE_BYTES))
      const back = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => done(false), timeoutMs)
        const onFrame = (frame: ReceivedFrame) => {
          if (Buffer.from(frame.payload).equals(nonce)) done(true)
        }
        const done = (ok: boolean) => {
          clearTimeout(timer)
          subscriber.off('frame', onFrame)
          resolve(ok)
        }
        subscriber.on('frame', onFrame)
      })
      await publisher.publishEncoded(SELF_TEST_TOPIC, OPAQUE_FINGERPRINT, nonce)
      return back
    },
    async close() {
      await Promise.allSettled([publisher.close(), subscriber.close()])
    },
  }
}

/** The self-test's line, from what the probe did. */
export function selfTestCheck(
  target: DoctorTarget,
  outcome: { readonly error?: unknown; readonly received?: boolean },
): DoctorCheck {
  const where = `${target.address}:${target.port} on ${target.interface?.name ?? 'the default interface'}`
  if (outcome.error !== undefined)
    return {
      name: 'self-test',
      ok: false,
      detail: `cannot open ${where}: ${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}`,
    }
  if (outcome.received === true)
    return { name: 'self-test', ok: true, detail: `sent and received one frame on ${where}` }
  return {
    name: 'self-test',
    ok: false,
    detail: `sent one frame to ${where} and it did not come back within ${SELF_TEST_TIMEOUT_MS} ms: something on this host drops it (see firewall)`,
  }
}

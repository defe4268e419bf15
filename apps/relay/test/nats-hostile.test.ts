/**
 * Hostile messages at a relay's `nats://` input (src/nats/input.ts), from a plain NATS client on a
 * real nats-server on 127.0.0.1: headers out of range, not numbers, duplicated; subjects that are
 * no topic; payloads that are not their fingerprint's type; a flood of empty messages on made-up
 * topics and sessions. Each is counted by reason or forwarded as it is, the relay never throws, and
 * a real message after them still arrives.
 */
import { connect, headers, type MsgHdrs } from '@nats-io/transport-node'
import { Imu, nowStampNs } from '@shoal/schema'
import { createSubscriber, type ReceivedFrame } from '@shoal/transport'
import { afterEach, describe, expect, it } from 'vitest'
import { NatsServer, requireNatsServer } from './nats-server.js'
import { startRelay, uniqueGroup, waitFor } from './support.js'

const open: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close()
})
async function track<T extends { close(): Promise<void> }>(p: Promise<T>): Promise<T> {
  const s = await p
  open.push(s)
  return s
}

const FINGERPRINT = Imu.fingerprint.toString(16).padStart(8, '0')
function shoalHeaders(over: Record<string, string | undefined> = {}): MsgHdrs {
  const h = headers()
  const values: Record<string, string | undefined> = {
    'Shoal-Fingerprint': FINGERPRINT,
    'Shoal-Session': '0badc0de',
    'Shoal-Sequence': '1',
    ...over,
  }
  for (const [name, value] of Object.entries(values)) if (value !== undefined) h.set(name, value)
  return h
}

describe.skipIf(requireNatsServer().skip)('hostile messages at a nats:// input', () => {
  it('counts bad headers and subjects by reason, forwards odd but valid ones as they are, and never throws', async () => {
    const server = await track(NatsServer.start())
    const b = uniqueGroup()
    const relay = await track(startRelay(['--in', `${server.url}/site`, '--out', b.route, '--max-hops', '4']))
    const sink = await track(createSubscriber({ ...b, interface: '127.0.0.1', repair: false, decode: false }))
    const frames: ReceivedFrame[] = []
    sink.on('frame', (f: ReceivedFrame) => frames.push(f))
    const plain = await connect({ servers: `127.0.0.1:${server.port}` })
    open.push({ close: () => plain.close() })
    const imu = Imu.encode({ header: { sourceId: 'imu0', stampNs: nowStampNs() } })

    const malformed: Record<string, string | undefined>[] = [
      { 'Shoal-Session': '1ffffffff' }, // 9 hex digits: past u32
      { 'Shoal-Session': '-1' },
      { 'Shoal-Session': '' },
      { 'Shoal-Session': undefined },
      { 'Shoal-Session': '0x10' },
      { 'Shoal-Sequence': '4294967296' },
      { 'Shoal-Sequence': '-5' },
      { 'Shoal-Sequence': '1e3' },
      { 'Shoal-Sequence': 'NaN' },
      { 'Shoal-Sequence': '99999999999999999999999' },
      { 'Shoal-Fingerprint': 'xyz' },
      { 'Shoal-Fingerprint': '123456789' },
      { 'Shoal-Hops': '256' },
      { 'Shoal-Hops': '-1' },
      { 'Shoal-Hops': '1.5' },
    ]
    for (const over of malformed) plain.publish('site.imu', imu, { headers: shoalHeaders(over) })
    plain.publish('site.imu', imu) // no headers at all
    // Subjects that no topic is written as: non-canonical escapes, bad UTF-8, raw bytes.
    const badSubjects = ['site.%41', 'site.%FF', 'site.a%2', 'site.a%zz', 'site.ü', 'other.imu']
    for (const subject of badSubjects) plain.publish(subject, imu, { headers: shoalHeaders() })
    // A topic of 256 bytes (one past the wire's topic length).
    plain.publish(`site.${'t'.repeat(256)}`, imu, { headers: shoalHeaders() })
    // Past --max-hops.
    plain.publish('site.imu', imu, { headers: shoalHeaders({ 'Shoal-Hops': '4' }) })
    // Odd but valid: control characters in the topic (escaped in the subject), the largest u32s,
    // session 0, a payload that is not its fingerprint's type, an empty payload, a duplicated
    // header (the first value counts).
    plain.publish('site.a%0Ab%00c', imu, { headers: shoalHeaders() })
    plain.publish('site.max', imu, {
      headers: shoalHeaders({
        'Shoal-Session': 'ffffffff',
        'Shoal-Sequence': '4294967295',
        'Shoal-Fingerprint': 'ffffffff',
      }),
    })
    plain.publish('site.zero', imu, {
      headers: shoalHeaders({ 'Shoal-Session': '00000000', 'Shoal-Sequence': '0' }),
    })
    plain.publish('site.garbage', new Uint8Array([0xff, 0xff, 0xff]), { headers: shoalHeaders() })
    plain.publish('site.empty', new Uint8Array(0), { headers: shoalHeaders() })
    const dup = shoalHeaders({ 'Shoal-Sequence': '7' })
    dup.append('Shoal-Sequence', '8')
    plain.publish('site.dup', imu, { headers: dup })
    // A large message (fragmented on the way out) and then a real one.
    plain.publish('site.big', new Uint8Array(900_000).fill(7), { headers: shoalHeaders() })
    plain.publish('site.imu', imu, { headers: shoalHeaders({ 'Shoal-Sequence': '42' }) })
    await plain.flush()

    const input = () => relay.nats.counters().inputs[0]!
    const forwardedTopics = ['a\nb\u0000c', 'max', 'zero', 'garbage', 'empty', 'dup', 'big', 'imu']
    await waitFor(() => frames.length === forwardedTopics.length, `${forwardedTopics.length} frames on B`)
    const c = input()
    // other.imu is not under the prefix: never heard.
    expect(c.received).toBe(malformed.length + 1 + (badSubjects.length - 1) + 1 + 1 + forwardedTopics.length)
    expect(c.dropped).toMatchObject({
      malformed: malformed.length + 1,
      'bad-subject': badSubjects.length - 1 + 1, // and the 256-byte topic
      'max-hops': 1,
      'send-failed': 0,
    })
    expect(frames.map((f) => f.topic).sort()).toEqual([...forwardedTopics].sort())
    const byTopic = new Map(frames.map((f) => [f.topic, f]))
    expect(byTopic.get('max')).toMatchObject({ sequence: 0xffffffff, fingerprint: 0xffffffff })
    expect(byTopic.get('max')!.source.sessionId).toBe(0xffffffff)
    expect(byTopic.get('dup')!.sequence).toBe(7)
    expect(byTopic.get('big')!.payload.length).toBe(900_000)
    expect(byTopic.get('imu')!.sequence).toBe(42)
  })
})

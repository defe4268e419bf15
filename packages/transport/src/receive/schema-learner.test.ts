import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { MessageCodec } from '../message-codec.js'
import { FrameKind } from '../wire/constants.js'
import { type DropReason, decodeFrame } from '../wire/frame.js'
import type { FrameHeader } from '../wire/header.js'
import { encodeSchemaAnnounce } from '../wire/schema.js'
import {
  type LearnedSchema,
  MAX_PENDING_SCHEMAS,
  SCHEMA_REQUEST_MAX_ASKS,
  SCHEMA_REQUEST_RETRY_MS,
  SCHEMA_REQUESTS_PER_SECOND,
  SCHEMA_VERIFY_BURST_MS,
  SCHEMA_VERIFY_MS_PER_SECOND,
  SchemaLearner,
  type SchemaVerdict,
} from './schema-learner.js'

/** A verifier that takes a set whose first byte is the fingerprint's low byte, as a fake type. */
function fakeVerify(typeName: string, fingerprint: number, set: Uint8Array): SchemaVerdict {
  if (set.length === 0) return { ok: false, reason: 'malformed' }
  if (set[0] !== (fingerprint & 0xff)) return { ok: false, reason: 'fingerprint-mismatch' }
  return { ok: true, type: { typeName, fingerprint, encode: () => set, decode: () => ({}) } as MessageCodec }
}

function setup() {
  const clock = { now: 0 }
  const sent: { datagram: Uint8Array; to: { address: string; port: number } }[] = []
  const drops: DropReason[] = []
  const learned: LearnedSchema[] = []
  const learner = new SchemaLearner({
    receiverSession: 42,
    verify: fakeVerify,
    known: (fingerprint) => fingerprint === 1,
    learned: (schema) => learned.push(schema),
    send: (datagram, to) => sent.push({ datagram, to }),
    drop: (reason) => drops.push(reason),
    now: () => clock.now,
  })
  return { clock, sent, drops, learned, learner }
}

const dataHeader = (fingerprint: number, topic = 'wind'): FrameHeader => ({
  kind: FrameKind.DATA,
  flags: 0,
  hops: 0,
  topic,
  sessionId: 7,
  sequence: 0,
  fingerprint,
  messageLength: 1,
  fragmentOffset: 0,
  fragmentIndex: 0,
  fragmentCount: 1,
  payloadLength: 1,
  extensionLength: 0,
})

function announce(learner: SchemaLearner, fingerprint: number, set: Uint8Array, budget = 1472) {
  const outcomes: string[] = []
  for (const [head, body, crc] of encodeSchemaAnnounce(
    { sessionId: 7, sequence: 0, typeName: 'acme.Wind', fingerprint, descriptorSet: set },
    budget,
  )) {
    const datagram = new Uint8Array([...head, ...body, ...crc])
    const frame = decodeFrame(datagram)
    if (!frame.ok) throw new Error(frame.reason)
    outcomes.push(learner.announce(frame.header, frame.payload, '10.0.0.1', 5000))
  }
  return outcomes
}

describe('SchemaLearner', () => {
  it('asks the sender for an unknown fingerprint, again after the retry time, at most so many times', () => {
    const { clock, sent, learner } = setup()
    learner.unknown(dataHeader(0x99), '10.0.0.1', 5000)
    learner.unknown(dataHeader(0x99), '10.0.0.1', 5000)
    expect(sent).toHaveLength(1)
    const frame = decodeFrame(sent[0]!.datagram)
    expect(frame).toMatchObject({
      ok: true,
      header: { kind: FrameKind.SCHEMA_REQUEST, sessionId: 7, topic: 'wind', fingerprint: 0x99 },
    })
    expect(sent[0]!.to).toEqual({ address: '10.0.0.1', port: 5000 })
    for (let i = 0; i < 3 * SCHEMA_REQUEST_MAX_ASKS; i++) {
      clock.now += SCHEMA_REQUEST_RETRY_MS
      learner.unknown(dataHeader(0x99), '10.0.0.1', 5000)
    }
    expect(sent).toHaveLength(SCHEMA_REQUEST_MAX_ASKS)
    expect(learner.stats()).toMatchObject({ requested: SCHEMA_REQUEST_MAX_ASKS, pending: 1 })
  })

  it('bounds the pending table and the request rate against a flood of made-up fingerprints', () => {
    const { sent, learner } = setup()
    for (let fingerprint = 2; fingerprint < 10_000; fingerprint++)
      learner.unknown(dataHeader(fingerprint), '10.0.0.9', 1)
    expect(sent.length).toBe(SCHEMA_REQUESTS_PER_SECOND)
    expect(learner.stats().pending).toBe(MAX_PENDING_SCHEMAS)
    expect(learner.stats().requestsSuppressed).toBe(10_000 - 2 - SCHEMA_REQUESTS_PER_SECOND)
    expect(learner.stats().pendingEvicted).toBe(10_000 - 2 - MAX_PENDING_SCHEMAS)
  })

  it("a stranger's made-up fingerprints do not keep a real new type from being asked for", () => {
    const { clock, sent, learner } = setup()
    for (let fingerprint = 2; fingerprint < 2 + 4 * MAX_PENDING_SCHEMAS; fingerprint++)
      learner.unknown(dataHeader(fingerprint), '10.0.0.9', 1)
    clock.now += 1_000 // the request budget refills
    expect(learner.unknown(dataHeader(0x5eed), '10.0.0.1', 5000)).toBe(true)
    expect(sent.at(-1)?.to).toEqual({ address: '10.0.0.1', port: 5000 })
    expect(learner.stats().pending).toBe(MAX_PENDING_SCHEMAS)
  })

  it('learns a verified type, fragmented or not, and then knows it', () => {
    const { learned, learner } = setup()
    learner.unknown(dataHeader(0x55), '10.0.0.1', 5000)
    const set = new Uint8Array(3000).fill(0x55)
    const outcomes = announce(learner, 0x55, set, 512)
    expect(outcomes.every((o) => o === 'schema')).toBe(true)
    expect(learned).toHaveLength(1)
    expect(learned[0]).toMatchObject({ typeName: 'acme.Wind', fingerprint: 0x55, descriptorSet: set })
    expect(learner.lookup(0x55)?.typeName).toBe('acme.Wind')
    expect(learner.stats()).toMatchObject({ accepted: 1, pending: 0 })
    announce(learner, 0x55, set)
    expect(learner.stats()).toMatchObject({ accepted: 1, known: 1 })
  })

  it('rejects an announce whose fingerprint does not match its descriptor, counted by reason', () => {
    const { drops, learned, learner } = setup()
    expect(announce(learner, 0x56, new Uint8Array(10).fill(0x57))).toEqual(['schema-mismatch'])
    expect(announce(learner, 0x56, new Uint8Array(0))).toEqual(['bad-schema'])
    expect(drops).toEqual(['schema-mismatch', 'bad-schema'])
    expect(learned).toHaveLength(0)
    expect(learner.lookup(0x56)).toBeUndefined()
    expect(learner.stats().rejected).toBe(2)
  })

  it('never throws on a malformed announce (any header fields, any payload, a throwing verifier)', () => {
    const { learner } = setup()
    const throwing = new SchemaLearner({
      receiverSession: 1,
      verify: () => {
        throw new Error('boom')
      },
      known: () => false,
      learned: () => {},
      send: () => {},
      drop: () => {},
      now: () => 0,
    })
    fc.assert(
      fc.property(
        fc.record({
          fingerprint: fc.integer({ min: 0, max: 0xffffffff }),
          count: fc.integer({ min: 1, max: 0xffff }),
          index: fc.integer({ min: 0, max: 0xffff }),
          offset: fc.integer({ min: 0, max: 0xffffffff }),
          messageLength: fc.integer({ min: 0, max: 0xffffffff }),
        }),
        fc.uint8Array({ maxLength: 600 }),
        (fields, payload) => {
          const header: FrameHeader = {
            ...dataHeader(fields.fingerprint, 'acme.X'),
            kind: FrameKind.SCHEMA,
            fragmentCount: fields.count,
            fragmentIndex: fields.index,
            fragmentOffset: fields.offset,
            messageLength: fields.messageLength,
            payloadLength: payload.length,
          }
          for (const l of [learner, throwing]) {
            const outcome = l.announce(header, payload, '10.0.0.3', 1)
            expect(typeof outcome).toBe('string')
          }
        },
      ),
    )
  })

  it('charges the time each verify took: a stranger’s costly sets get SCHEMA_VERIFY_MS_PER_SECOND, no more', () => {
    // Each set costs 300 ms to verify (a crafted shape; its bytes are few): the fake clock moves.
    const clock = { now: 0 }
    const drops: DropReason[] = []
    let verified = 0
    const learner = new SchemaLearner({
      receiverSession: 1,
      verify: (typeName, fingerprint, set) => {
        verified++
        clock.now += 300
        return fakeVerify(typeName, fingerprint, set)
      },
      known: () => false,
      learned: () => {},
      send: () => {},
      drop: (reason) => drops.push(reason),
      now: () => clock.now,
    })
    const seconds = 60
    let sent = 0
    // A stranger's announce of a new made-up type every 10 ms for a minute.
    for (const end = seconds * 1000; clock.now < end; clock.now += 10, sent++) {
      const fingerprint = 0x1000 + sent
      announce(learner, fingerprint, new Uint8Array([fingerprint & 0xff, 1, 2, 3]))
    }
    const spent = verified * 300
    expect(spent).toBeLessThanOrEqual(
      SCHEMA_VERIFY_BURST_MS + 300 + SCHEMA_VERIFY_MS_PER_SECOND * (clock.now / 1000),
    )
    expect(verified).toBeGreaterThan(0)
    expect(drops.filter((d) => d === 'schema-limited')).toHaveLength(sent - verified)
    // Paid back: a real announce verifies again.
    clock.now += (spent / SCHEMA_VERIFY_MS_PER_SECOND) * 1000
    expect(announce(learner, 0x77, new Uint8Array([0x77]))).toEqual(['schema'])
  })
})

import { describe, expect, it } from 'vitest'
import type { MessageCodec } from '../message-codec.js'
import type { FragmentParts } from '../wire/fragment.js'
import {
  SCHEMA_ANNOUNCE_INTERVAL_MS,
  SCHEMA_BUDGET_BURST_BYTES,
  SCHEMA_BUDGET_BYTES_PER_SECOND,
  SchemaAnnouncer,
} from './schema-announcer.js'

const codec = (typeName: string, fingerprint: number) => ({ typeName, fingerprint }) as MessageCodec

function setup(sets: Record<string, number>, builtIn: number[] = []) {
  const clock = { now: 0 }
  const sent: FragmentParts[][] = []
  const announcer = new SchemaAnnouncer({
    sessionId: 1,
    budget: 1472,
    source: { descriptorSet: (name) => (sets[name] === undefined ? undefined : new Uint8Array(sets[name]!)) },
    builtIn: (fingerprint) => builtIn.includes(fingerprint),
    send: (datagrams) => sent.push(datagrams),
    now: () => clock.now,
  })
  return { clock, sent, announcer }
}

describe('SchemaAnnouncer', () => {
  it('announces a custom type on its first send, once; a built-in one only when asked', () => {
    const { sent, announcer, clock } = setup({ 'acme.Wind': 100, 'shoal.v1.Imu': 50 }, [2])
    announcer.sending(1, codec('acme.Wind', 1))
    announcer.sending(1, codec('acme.Wind', 1))
    announcer.sending(2, codec('shoal.v1.Imu', 2))
    announcer.sending(1, codec('acme.Wind', 1))
    expect(sent).toHaveLength(1)
    clock.now += SCHEMA_ANNOUNCE_INTERVAL_MS
    expect(announcer.requested(2)).toBe('announced')
    expect(sent).toHaveLength(2)
    expect(announcer.stats()).toMatchObject({ announced: 2, requested: 1, limited: 0 })
  })

  it('answers requests for one fingerprint at most once per interval, and none for one it never sent', () => {
    const { sent, announcer, clock } = setup({ 'acme.Wind': 100 })
    announcer.sending(1, codec('acme.Wind', 1))
    expect(announcer.requested(1)).toBe('limited')
    clock.now += SCHEMA_ANNOUNCE_INTERVAL_MS - 1
    expect(announcer.requested(1)).toBe('limited')
    clock.now += 1
    expect(announcer.requested(1)).toBe('announced')
    expect(announcer.requested(99)).toBe('unknown')
    expect(sent).toHaveLength(2)
    expect(announcer.stats()).toMatchObject({ announced: 2, requested: 4, limited: 2, unknown: 1 })
  })

  it('keeps every fingerprint together within the byte budget, however many requests come', () => {
    // 64 types of 60 KiB each, asked for 100 times a second each for 10 s.
    const sets: Record<string, number> = {}
    for (let i = 1; i <= 64; i++) sets[`acme.T${i}`] = 60 * 1024
    const { sent, announcer, clock } = setup(sets)
    for (let i = 1; i <= 64; i++) announcer.sending(i, codec(`acme.T${i}`, i))
    const seconds = 10
    for (let tick = 0; tick < seconds * 100; tick++) {
      clock.now += 10
      for (let i = 1; i <= 64; i++) announcer.requested(i)
    }
    let bytes = 0
    for (const datagrams of sent) for (const [h, b, c] of datagrams) bytes += h.length + b.length + c.length
    expect(bytes).toBe(announcer.stats().announcedBytes)
    expect(bytes).toBeLessThanOrEqual(SCHEMA_BUDGET_BURST_BYTES + SCHEMA_BUDGET_BYTES_PER_SECOND * seconds)
    // The budget, not the interval, held it back: far fewer than one per type per second.
    expect(announcer.stats().announced).toBeLessThan(64 * seconds)
    expect(announcer.stats().limited).toBeGreaterThan(0)
  })
})

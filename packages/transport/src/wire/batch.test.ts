import { Imu, Temperature } from '@shoal/schema'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  BATCH_HEADER_LENGTH,
  BatchBuilder,
  batchCapacity,
  batchEntryLength,
  forEachInnerFrame,
  sealInner,
} from './batch.js'
import { Flag, FrameKind } from './constants.js'
import { decodeFrame } from './frame.js'
import { encodeTopic, type FrameHeader } from './header.js'

const topic = encodeTopic('imu')

function unpack(datagram: Uint8Array) {
  const outer = decodeFrame(datagram)
  if (!outer.ok) throw new Error(outer.reason)
  const inner: Array<{ header: FrameHeader; payload: number[] }> = []
  const whole = forEachInnerFrame(outer.payload, (header, payload) =>
    inner.push({ header, payload: [...payload] }),
  )
  return { outer: outer.header, inner, whole }
}

describe('BATCH frames', () => {
  it('round-trips any set of small frames, each a whole DATA frame with its own sequence', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 120 }), { minLength: 1, maxLength: 40 }),
        fc.nat(),
        (payloads, seq) => {
          const b = new BatchBuilder(65_507)
          for (const [i, p] of payloads.entries())
            b.append(i % 2 ? Flag.ACK_REQUEST : 0, 0, 77, (seq + i) >>> 0, 0xabc, topic, p)
          const { outer, inner, whole } = unpack(b.finish(77, 5))
          expect(whole).toBe(true)
          expect(outer).toMatchObject({ kind: FrameKind.BATCH, topic: '*', sessionId: 77, sequence: 5 })
          expect(inner.map((f) => f.payload)).toEqual(payloads.map((p) => [...p]))
          expect(inner.map((f) => f.header.sequence)).toEqual(payloads.map((_, i) => (seq + i) >>> 0))
          expect(inner[0]!.header).toMatchObject({
            kind: FrameKind.DATA,
            topic: 'imu',
            fragmentCount: 1,
            fingerprint: 0xabc,
          })
        },
      ),
    )
  })

  it('fills up to the budget and no further', () => {
    const budget = 1472
    const b = new BatchBuilder(budget)
    const payload = new Uint8Array(45)
    const entry = batchEntryLength(topic.length, payload.length)
    let n = 0
    while (b.fits(entry)) {
      b.append(0, 0, 1, n, 1, topic, payload)
      n++
    }
    expect(n).toBe(Math.floor(batchCapacity(budget) / entry))
    const datagram = b.finish(1, 0)
    expect(datagram.length).toBeLessThanOrEqual(budget)
    expect(datagram.length).toBe(BATCH_HEADER_LENGTH + n * entry + 4)
    expect(b.count).toBe(0)
  })

  it('rejects every single-byte corruption of a batch datagram', () => {
    const b = new BatchBuilder(1472)
    for (let i = 0; i < 3; i++) b.append(0, 0, 9, i, 3, topic, new Uint8Array([i, i, i]))
    const datagram = b.finish(9, 1)
    for (let i = 0; i < datagram.length; i++) {
      const bad = datagram.slice()
      bad[i] = bad[i]! ^ 0x40
      expect(decodeFrame(bad).ok, `byte ${i}`).toBe(false)
    }
  })

  it('stops at a malformed inner entry and says so', () => {
    const b = new BatchBuilder(1472)
    b.append(0, 0, 9, 0, 3, topic, new Uint8Array(10))
    b.append(0, 0, 9, 1, 3, topic, new Uint8Array(10))
    const outer = decodeFrame(b.finish(9, 1))
    if (!outer.ok) throw new Error('bad outer')
    const payload = outer.payload.slice()
    payload[0] = 0xff // first entry's length now runs past the end
    let seen = 0
    expect(forEachInnerFrame(payload, () => seen++)).toBe(false)
    expect(seen).toBe(0)
    const cut = outer.payload.slice(0, outer.payload.length - 1)
    expect(forEachInnerFrame(cut, () => seen++)).toBe(false)
    expect(seen).toBe(1)
  })

  it('seals an inner frame back into a whole frame with a valid CRC (relays)', () => {
    const b = new BatchBuilder(1472)
    b.append(0, 2, 9, 41, 3, topic, new Uint8Array([1, 2, 3]))
    const outer = decodeFrame(b.finish(9, 1))
    if (!outer.ok) throw new Error('bad outer')
    forEachInnerFrame(outer.payload, (_h, _p, start, length) => {
      const whole = decodeFrame(sealInner(outer.payload.subarray(start, start + length)))
      expect(whole.ok && whole.header).toMatchObject({ sequence: 41, hops: 2, topic: 'imu' })
    })
  })
})

describe('BatchBuilder.appendMessage', () => {
  const reading = (i: number) => Temperature.create({ header: { sourceId: `t${i}`, stampNs: i }, celsius: i })

  it('writes the same datagram as encode + append', () => {
    const a = new BatchBuilder(1472)
    const b = new BatchBuilder(1472)
    for (let i = 0; i < 10; i++) {
      expect(a.appendMessage(Temperature, reading(i), 0, 1, 7, i, topic)).toBe(
        Temperature.encode(reading(i)).length,
      )
      b.append(0, 1, 7, i, Temperature.fingerprint, topic, Temperature.encode(reading(i)))
    }
    expect(a.count).toBe(10)
    expect(Buffer.from(a.finish(7, 0))).toEqual(Buffer.from(b.finish(7, 0)))
  })

  it('hands back the encoded message when the batch is full, and leaves the batch intact', () => {
    const batch = new BatchBuilder(300)
    const appended: number[] = []
    let leftover: number | Uint8Array = 0
    for (let i = 0; typeof leftover === 'number'; i++) {
      leftover = batch.appendMessage(Temperature, reading(i), 0, 0, 7, i, topic)
      if (typeof leftover === 'number') appended.push(i)
    }
    expect(Buffer.from(leftover)).toEqual(Buffer.from(Temperature.encode(reading(appended.length))))
    const { inner, whole } = unpack(batch.finish(7, 0))
    expect(whole).toBe(true)
    expect(inner.map((f) => Temperature.decode(Uint8Array.from(f.payload)).celsius)).toEqual(appended)
  })

  it('hands back an empty message that does not fit', () => {
    const batch = new BatchBuilder(BATCH_HEADER_LENGTH + 4 + 2 + 36 + topic.length - 1)
    expect(batch.appendMessage(Imu, Imu.create(), 0, 0, 1, 0, topic)).toEqual(new Uint8Array(0))
    expect(batch.count).toBe(0)
  })
})

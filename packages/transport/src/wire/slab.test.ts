import { Image, Temperature } from '@shoal/schema'
import { describe, expect, it } from 'vitest'
import type { MessageCodec } from '../message-codec.js'
import { decodeFrame } from './frame.js'
import { encodeTopic } from './header.js'
import { FrameSlab, SLAB_BYTES, Unframed } from './slab.js'

const topic = encodeTopic('temperature')
const reading = (celsius: number) => Temperature.create({ header: { sourceId: 't0', stampNs: 5 }, celsius })

/** The same type without the in-place encoder: the copying path. */
const copying: MessageCodec<ReturnType<typeof reading>> = {
  typeName: Temperature.typeName,
  fingerprint: Temperature.fingerprint,
  encode: (m) => Temperature.encode(m),
  decode: (b) => Temperature.decode(b),
}

function decoded(frame: Uint8Array) {
  const result = decodeFrame(frame)
  if (!result.ok) throw new Error(result.reason)
  return { header: result.header, message: Temperature.decode(result.payload) }
}

describe('FrameSlab', () => {
  it.each([
    ['in place', Temperature],
    ['copying', copying],
  ])('frames every message whole (%s), and no later frame overwrites an earlier one', (_, codec) => {
    const slab = new FrameSlab()
    // Enough frames to go through several slabs.
    const count = Math.ceil((3 * SLAB_BYTES) / 80)
    const frames: Uint8Array[] = []
    for (let i = 0; i < count; i++) {
      const frame = slab.encodeFrame(codec, reading(i), 0, 0, 9, i, topic, 1472)
      expect(frame).toBeInstanceOf(Uint8Array)
      frames.push(frame as Uint8Array)
    }
    for (const [i, frame] of frames.entries()) {
      const { header, message } = decoded(frame)
      expect(header).toMatchObject({
        sequence: i,
        sessionId: 9,
        topic: 'temperature',
        fingerprint: Temperature.fingerprint,
      })
      expect(message.celsius).toBe(i)
    }
  })

  it('hands back a message too large for one datagram, encoded, for the fragmenting path', () => {
    const slab = new FrameSlab()
    const image = Image.create({ width: 64, height: 64, data: new Uint8Array(4096).fill(3) })
    const result = slab.encodeFrame(Image, image, 0, 0, 1, 0, topic, 1472)
    expect(result).toBeInstanceOf(Unframed)
    expect(Buffer.from((result as Unframed).payload)).toEqual(Buffer.from(Image.encode(image)))
    // The slab space it used is free again: the next frame is whole and correct.
    const next = slab.encodeFrame(Temperature, reading(7), 0, 0, 1, 1, topic, 1472)
    expect(decoded(next as Uint8Array).message.celsius).toBe(7)
  })

  it('hands back a message larger than a whole slab, encoded', () => {
    const slab = new FrameSlab()
    const image = Image.create({ data: new Uint8Array(SLAB_BYTES + 10).fill(1) })
    const result = slab.encodeFrame(Image, image, 0, 0, 1, 0, topic, 65_507)
    expect(result).toBeInstanceOf(Unframed)
    expect((result as Unframed).payload.length).toBe(Image.encode(image).length)
  })

  it('copies an encoded payload into a frame', () => {
    const slab = new FrameSlab()
    const payload = Temperature.encode(reading(3))
    const frame = slab.copyFrame(0, 2, 4, 5, Temperature.fingerprint, topic, payload)
    expect(decoded(frame)).toMatchObject({
      header: { hops: 2, sessionId: 4, sequence: 5 },
      message: { celsius: 3 },
    })
  })
})

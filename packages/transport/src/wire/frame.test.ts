import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CRC_LENGTH, Flag, FrameKind, MAX_FRAME_KIND, Offset } from './constants.js'
import { decodeFrame, encodedFrameLength, encodeFrameInto, writeCrc } from './frame.js'
import { encodeTopic, type FrameHeader } from './header.js'

function frameOf(payload: Uint8Array, topic = 'imu', overrides: Partial<FrameHeader> = {}) {
  const header: FrameHeader = {
    kind: FrameKind.DATA,
    flags: 0,
    hops: 0,
    topic,
    sessionId: 0x11223344,
    sequence: 42,
    fingerprint: 0xcafef00d,
    messageLength: payload.length,
    fragmentOffset: 0,
    fragmentIndex: 0,
    fragmentCount: 1,
    payloadLength: payload.length,
    extensionLength: 0,
    ...overrides,
  }
  const topicBytes = encodeTopic(topic)
  const buf = new Uint8Array(encodedFrameLength(header, topicBytes))
  encodeFrameInto(header, topicBytes, payload, buf, 0)
  return { header, buf }
}

describe('frame codec', () => {
  it('round-trips header and payload, also at a non-zero offset in a larger buffer', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.string({ minLength: 1, maxLength: 60 }),
        fc.nat(64),
        fc.boolean(),
        (payload, topic, offset, ack) => {
          const { header, buf } = frameOf(payload, topic, { flags: ack ? Flag.ACK_REQUEST : 0 })
          const big = new Uint8Array(offset + buf.length + 7).fill(0x5a)
          encodeFrameInto(header, encodeTopic(topic), payload, big, offset)
          for (const [bytes, at, length] of [
            [buf, 0, buf.length],
            [big, offset, buf.length],
          ] as const) {
            const decoded = decodeFrame(bytes, at, length)
            expect(decoded.ok).toBe(true)
            if (!decoded.ok) return
            expect(decoded.header).toEqual(header)
            expect([...decoded.payload]).toEqual([...payload])
          }
        },
      ),
    )
  })

  it('rejects every truncation of a datagram, and counts it as truncated or bad length', () => {
    const { buf } = frameOf(
      new Uint8Array(300).map((_, i) => i),
      'sensors/camera',
    )
    for (let length = 0; length < buf.length; length++) {
      const decoded = decodeFrame(buf.subarray(0, length))
      expect(decoded.ok, `length ${length}`).toBe(false)
      if (!decoded.ok) expect(['truncated', 'bad-crc', 'bad-length']).toContain(decoded.reason)
    }
  })

  it('rejects every single-byte corruption anywhere in the datagram', () => {
    const { buf } = frameOf(
      new Uint8Array(64).map((_, i) => i * 7),
      'gps',
    )
    for (let index = 0; index < buf.length; index++) {
      for (let flip = 1; flip < 256; flip++) {
        const bad = buf.slice()
        bad[index] = bad[index]! ^ flip
        const decoded = decodeFrame(bad)
        if (decoded.ok) throw new Error(`corruption at byte ${index} (xor ${flip}) was accepted`)
      }
    }
  })

  it('names the reason: magic, version, CRC, kind, flags, size, fragment fields', () => {
    const { buf } = frameOf(new Uint8Array([1, 2, 3]))
    const withCrc = (mutate: (b: Uint8Array) => void) => {
      const b = buf.slice()
      mutate(b)
      // re-seal so the check after the CRC is what fails
      writeCrc(b, 0, b.length)
      return decodeFrame(b)
    }
    expect(decodeFrame(new Uint8Array(100))).toEqual({ ok: false, reason: 'bad-magic' })
    const corruptPayload = buf.slice()
    corruptPayload[buf.length - CRC_LENGTH - 1]! ^= 1
    expect(decodeFrame(corruptPayload)).toEqual({ ok: false, reason: 'bad-crc' })
    expect(withCrc((b) => (b[Offset.KIND] = 10))).toEqual({ ok: false, reason: 'unknown-kind' })
    expect(withCrc((b) => (b[Offset.KIND] = MAX_FRAME_KIND + 1))).toEqual({
      ok: false,
      reason: 'unknown-kind',
    })
    for (const kind of [FrameKind.STATUS, FrameKind.NACK_FRAMES, FrameKind.SCHEMA, FrameKind.SCHEMA_REQUEST])
      expect(withCrc((b) => (b[Offset.KIND] = kind))).toMatchObject({ ok: true, header: { kind } })
    expect(withCrc((b) => (b[Offset.FLAGS + 1] = 1 << 3))).toEqual({ ok: false, reason: 'unsupported-flags' })
    // Sealed without a seal extension, or encrypted without being sealed: impossible layouts.
    expect(withCrc((b) => (b[Offset.FLAGS + 1] = Flag.AUTHENTICATED))).toEqual({
      ok: false,
      reason: 'bad-header',
    })
    expect(withCrc((b) => (b[Offset.FLAGS + 1] = Flag.ENCRYPTED))).toEqual({
      ok: false,
      reason: 'bad-header',
    })
    expect(withCrc((b) => (b[Offset.FRAGMENT_COUNT + 1] = 0))).toEqual({ ok: false, reason: 'bad-header' })
    expect(withCrc((b) => (b[Offset.MESSAGE_LENGTH] = 0x7f))).toEqual({ ok: false, reason: 'too-large' })
    const extra = new Uint8Array(buf.length + 1)
    extra.set(buf)
    expect(decodeFrame(extra)).toEqual({ ok: false, reason: 'bad-length' })
  })
})

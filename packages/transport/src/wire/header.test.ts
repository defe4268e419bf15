import { describe, expect, it } from 'vitest'
import { isTransportError } from '../errors.js'
import { FIXED_HEADER_LENGTH, Flag, FrameKind, MAX_TOPIC_BYTES, Offset } from './constants.js'
import {
  clearFlags,
  decodeHeader,
  encodeHeaderInto,
  encodeTopic,
  type FrameHeader,
  headerLength,
} from './header.js'

const header: FrameHeader = {
  kind: FrameKind.DATA,
  flags: Flag.ACK_REQUEST,
  hops: 3,
  topic: 'sensors/imu/ø',
  sessionId: 0xdeadbeef,
  sequence: 0xfffffffe,
  fingerprint: 0x01020304,
  messageLength: 100_000,
  fragmentOffset: 65_000,
  fragmentIndex: 2,
  fragmentCount: 7,
  payloadLength: 1_234,
  extensionLength: 0,
}

describe('header codec', () => {
  it('round-trips at offset 0 and at a non-zero offset in a larger buffer', () => {
    const topic = encodeTopic(header.topic)
    for (const offset of [0, 1, 13]) {
      const buf = new Uint8Array(offset + headerLength(topic.length) + 9).fill(0xaa)
      const written = encodeHeaderInto(header, topic, buf, offset)
      expect(written).toBe(FIXED_HEADER_LENGTH + topic.length)
      expect(buf[offset - 1]).toBe(offset === 0 ? undefined : 0xaa)
      expect(buf[offset + written]).toBe(0xaa)
      const decoded = decodeHeader(buf, offset, written)
      expect(decoded).toEqual({ ok: true, headerLength: written, header })
    }
  })

  it('writes fields big-endian at their named offsets', () => {
    const topic = encodeTopic('t')
    const buf = new Uint8Array(headerLength(1))
    encodeHeaderInto(header, topic, buf, 0)
    expect([...buf.subarray(Offset.MAGIC, Offset.MAGIC + 2)]).toEqual([0x53, 0x48])
    expect([...buf.subarray(Offset.SESSION, Offset.SESSION + 4)]).toEqual([0xde, 0xad, 0xbe, 0xef])
    expect([...buf.subarray(Offset.FINGERPRINT, Offset.FINGERPRINT + 4)]).toEqual([1, 2, 3, 4])
    expect(buf[Offset.HOPS]).toBe(3)
    expect(buf[Offset.TOPIC_LENGTH]).toBe(1)
    expect(buf[Offset.TOPIC]).toBe('t'.charCodeAt(0))
  })

  it('rejects topics that are empty or longer than 255 bytes', () => {
    expect(() => encodeTopic('')).toThrow(/1-255/)
    expect(encodeTopic('x'.repeat(MAX_TOPIC_BYTES)).length).toBe(MAX_TOPIC_BYTES)
    try {
      encodeTopic('é'.repeat(128))
      expect.unreachable()
    } catch (error) {
      expect(isTransportError(error, 'SHOAL_BAD_TOPIC')).toBe(true)
    }
  })

  it('reports short input, wrong magic and wrong version without throwing', () => {
    const topic = encodeTopic('t')
    const buf = new Uint8Array(headerLength(1))
    encodeHeaderInto(header, topic, buf, 0)
    expect(decodeHeader(buf.subarray(0, FIXED_HEADER_LENGTH - 1))).toEqual({ ok: false, reason: 'truncated' })
    expect(decodeHeader(buf.subarray(0, FIXED_HEADER_LENGTH))).toEqual({ ok: false, reason: 'truncated' })
    const badMagic = buf.slice()
    badMagic[0] = 0x00
    expect(decodeHeader(badMagic)).toEqual({ ok: false, reason: 'bad-magic' })
    const badVersion = buf.slice()
    badVersion[Offset.VERSION] = 9
    expect(decodeHeader(badVersion)).toEqual({ ok: false, reason: 'bad-version' })
    const noTopic = buf.slice()
    noTopic[Offset.TOPIC_LENGTH] = 0
    expect(decodeHeader(noTopic)).toEqual({ ok: false, reason: 'bad-header' })
    const badUtf8 = buf.slice()
    badUtf8[Offset.TOPIC] = 0xff
    expect(decodeHeader(badUtf8)).toEqual({ ok: false, reason: 'bad-header' })
  })
})

describe('clearFlags', () => {
  it('clears the given bits of either byte and keeps the others (relays drop REPAIRABLE)', () => {
    const buf = new Uint8Array(FIXED_HEADER_LENGTH)
    buf[Offset.FLAGS] = 0xff
    buf[Offset.FLAGS + 1] = 0xff
    clearFlags(buf, 0, Flag.REPAIRABLE | Flag.ACK_REQUEST)
    expect(new DataView(buf.buffer).getUint16(Offset.FLAGS)).toBe(
      0xffff & ~(Flag.REPAIRABLE | Flag.ACK_REQUEST),
    )
  })
})

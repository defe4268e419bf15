/**
 * Golden datagrams: the exact bytes of v1 frames, checked in under test/fixtures. A change to the
 * wire format breaks these on purpose (regenerate with SHOAL_UPDATE_GOLDEN=1 only with a version bump).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { encodeAck } from '../src/wire/ack.js'
import { BatchBuilder } from '../src/wire/batch.js'
import { Flag, FrameKind } from '../src/wire/constants.js'
import { decodeFrame, encodedFrameLength, encodeFrameInto, encodeWholeFrame } from '../src/wire/frame.js'
import { encodeTopic, type FrameHeader } from '../src/wire/header.js'
import { encodeNackFrames } from '../src/wire/nack-frames.js'
import { encodeStatuses } from '../src/wire/status.js'

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}.hex`, import.meta.url))
const payload = Uint8Array.from([0x0a, 0x05, 0x0a, 0x03, 0x69, 0x6d, 0x75, 0x22, 0x02, 0x08, 0x01])
const topic = encodeTopic('imu')

const frames: Record<string, () => Uint8Array> = {
  'data-imu': () => encodeWholeFrame(Flag.ACK_REQUEST, 0, 0x0badcafe, 7, 0xb16c9ed1, topic, payload),
  'data-fragment': () => {
    const header: FrameHeader = {
      kind: FrameKind.DATA,
      flags: 0,
      hops: 2,
      topic: 'imu',
      sessionId: 0x0badcafe,
      sequence: 8,
      fingerprint: 0xb16c9ed1,
      messageLength: 3000,
      fragmentOffset: 1400,
      fragmentIndex: 1,
      fragmentCount: 3,
      payloadLength: payload.length,
      extensionLength: 0,
    }
    const out = new Uint8Array(encodedFrameLength(header, topic))
    encodeFrameInto(header, topic, payload, out, 0)
    return out
  },
  ack: () =>
    encodeAck(
      { sessionId: 0x0badcafe, sequence: 7, topic: 'imu' },
      { receiverSession: 0x01020304, receiver: 'rx-1' },
    ),
  batch: () => {
    const b = new BatchBuilder(1472)
    b.append(0, 0, 0x0badcafe, 9, 0xb16c9ed1, topic, payload)
    b.append(0, 0, 0x0badcafe, 10, 0xb16c9ed1, topic, payload)
    return b.finish(0x0badcafe, 3)
  },
  status: () =>
    encodeStatuses(0x0badcafe, 0x01020304, 5, 65_536, [{ topicBytes: topic, sequence: 11 }], 1472)[0]!,
  'nack-frames': () =>
    encodeNackFrames(
      { sessionId: 0x0badcafe, topic: 'imu' },
      {
        receiverSession: 0x01020304,
        ranges: [
          [8, 2],
          [0xffffffff, 3],
        ],
      },
      64,
    ),
}

describe('golden datagrams', () => {
  it.each(Object.keys(frames))('%s encodes to the checked-in bytes and decodes', (name) => {
    const bytes = frames[name]!()
    const hex = Buffer.from(bytes).toString('hex')
    if (process.env.SHOAL_UPDATE_GOLDEN === '1') writeFileSync(fixture(name), `${hex}\n`)
    expect(hex).toBe(readFileSync(fixture(name), 'utf8').trim())
    expect(decodeFrame(bytes).ok).toBe(true)
  })

  it('the unbatched fast path writes the same bytes as the general encoder', () => {
    const header: FrameHeader = {
      kind: FrameKind.DATA,
      flags: Flag.ACK_REQUEST,
      hops: 0,
      topic: 'imu',
      sessionId: 0x0badcafe,
      sequence: 7,
      fingerprint: 0xb16c9ed1,
      messageLength: payload.length,
      fragmentOffset: 0,
      fragmentIndex: 0,
      fragmentCount: 1,
      payloadLength: payload.length,
      extensionLength: 0,
    }
    const general = new Uint8Array(encodedFrameLength(header, topic))
    encodeFrameInto(header, topic, payload, general, 0)
    expect(frames['data-imu']!()).toEqual(general)
  })
})

/** What the fragment codec's and the reassembler's unit tests share: a message header and byte patterns. */
import { FrameKind } from '../src/wire/constants.js'
import type { MessageHeader } from '../src/wire/fragment.js'
import { decodeFrame } from '../src/wire/frame.js'
import { encodeTopic } from '../src/wire/header.js'

export const base: MessageHeader = {
  kind: FrameKind.DATA,
  flags: 0,
  hops: 0,
  topic: 'camera',
  sessionId: 7,
  sequence: 1,
  fingerprint: 99,
  extensionLength: 0,
}
export const topicBytes = encodeTopic(base.topic)

/** Decodes every frame, throwing on one the decoder rejects. */
export function decodeAll(frames: Uint8Array[]) {
  return frames.map((f) => {
    const d = decodeFrame(f)
    if (!d.ok) throw new Error(`fragment rejected: ${d.reason}`)
    return d
  })
}

/** `length` bytes of a xorshift pattern from `seed`: no two messages of a test alike. */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed | 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

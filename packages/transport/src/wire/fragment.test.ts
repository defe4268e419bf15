import { describe, expect, it } from 'vitest'
import { base, decodeAll, pattern, topicBytes } from '../../test/fragments.js'
import { isTransportError } from '../errors.js'
import { MAX_DATAGRAM_BYTES } from './constants.js'
import { fragmentMessage, impliedFragmentSize } from './fragment.js'
import type { FrameHeader } from './header.js'

describe('fragmentMessage', () => {
  it('keeps every datagram within the budget', () => {
    for (const budget of [512, 1472, 9000, MAX_DATAGRAM_BYTES]) {
      const frames = fragmentMessage(base, topicBytes, pattern(200_000, 3), budget)
      for (const f of frames) expect(f.length).toBeLessThanOrEqual(budget)
      expect(frames.length).toBe(Math.ceil(200_000 / (budget - 36 - topicBytes.length - 4)))
    }
  })

  it('sends an empty message as one frame', () => {
    const frames = fragmentMessage(base, topicBytes, new Uint8Array(0), 1472)
    expect(frames).toHaveLength(1)
    const [d] = decodeAll(frames)
    expect(d!.header).toMatchObject({ fragmentCount: 1, messageLength: 0 })
    expect(d!.payload).toEqual(new Uint8Array(0))
  })

  it('refuses a message that needs more than 65,535 fragments', () => {
    try {
      fragmentMessage(base, topicBytes, new Uint8Array(65_536 * 470), 512)
      expect.unreachable()
    } catch (error) {
      expect(isTransportError(error, 'SHOAL_FRAME_TOO_LARGE')).toBe(true)
    }
  })
})

describe('impliedFragmentSize', () => {
  const frames = decodeAll(fragmentMessage(base, topicBytes, new Uint8Array(5000), 1472))
  const size = frames[0]!.header.payloadLength

  it('is the fragment size every fragment of a real message implies', () => {
    for (const f of frames) expect(impliedFragmentSize(f.header)).toBe(size)
  })

  it('is 0 for a fragment that overlaps, leaves a hole, declares a length its count cannot hold, or is tiny', () => {
    const h = frames[1]!.header
    const bad: Array<Partial<FrameHeader>> = [
      { fragmentOffset: size - 1 },
      { payloadLength: size - 1 },
      { messageLength: 64 * 1024 * 1024 },
      { messageLength: 2 * size },
      { fragmentOffset: 100, payloadLength: 100, fragmentCount: 60, messageLength: 5_950 }, // fragments of 100 bytes
    ]
    for (const change of bad) expect(impliedFragmentSize({ ...h, ...change })).toBe(0)
  })
})

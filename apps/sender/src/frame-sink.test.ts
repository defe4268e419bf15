import { Temperature } from '@shoal/schema'
import type { Publisher, PublishResult } from '@shoal/transport'
import { describe, expect, it } from 'vitest'
import { FrameSink } from './frame-sink.js'

/** Just the publisher methods FrameSink calls, recording what it was asked to send. */
function fakePublisher(fail: { send?: boolean; publish?: boolean } = {}) {
  const sent: string[] = []
  const publisher = {
    send(topic: string) {
      if (fail.send) throw new Error('closed')
      sent.push(`send ${topic}`)
      return 0
    },
    publishEncoded(topic: string): Promise<PublishResult> {
      sent.push(`publish ${topic}`)
      return fail.publish
        ? Promise.reject(new Error('ENETUNREACH'))
        : Promise.resolve({ topic, sequence: 0, datagrams: 1, bytes: 1 })
    },
  }
  return { publisher: publisher as unknown as Publisher, sent }
}

const message = { celsius: 20 }

describe('FrameSink', () => {
  it('sends up to --count frames in all, calls onLimit once at the limit, then refuses', async () => {
    const { publisher, sent } = fakePublisher()
    let limits = 0
    const sink = new FrameSink(publisher, {
      limit: 3,
      acks: undefined,
      onLimit: () => limits++,
      onError: () => {},
    })
    expect(sink.send('a', Temperature, message)).toBe(true)
    expect(sink.publishEncoded('b', 1, new Uint8Array(1))).toBeInstanceOf(Promise)
    expect(limits).toBe(0)
    expect(sink.send('c', Temperature, message)).toBe(true)
    expect(limits).toBe(1)
    expect(sink.exhausted).toBe(true)
    expect(sink.send('d', Temperature, message)).toBe(false)
    expect(sink.publishEncoded('e', 1, new Uint8Array(1))).toBeUndefined()
    expect(limits).toBe(1)
    expect(sent).toEqual(['send a', 'publish b', 'send c'])
    await sink.settle()
  })

  it('reports send failures to onError instead of throwing or rejecting', async () => {
    const errors: string[] = []
    const onError = (error: unknown) => errors.push((error as Error).message)
    const sync = new FrameSink(fakePublisher({ send: true }).publisher, {
      limit: undefined,
      acks: undefined,
      onLimit: () => {},
      onError,
    })
    expect(sync.send('a', Temperature, message)).toBe(true)
    const async = new FrameSink(fakePublisher({ publish: true }).publisher, {
      limit: undefined,
      acks: undefined,
      onLimit: () => {},
      onError,
    })
    await async.publishEncoded('b', 1, new Uint8Array(1)) // resolves
    await async.settle()
    expect(errors).toEqual(['closed', 'ENETUNREACH'])
  })
})

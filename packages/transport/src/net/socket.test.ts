import { describe, expect, it } from 'vitest'
import { literalLookup } from './socket.js'

describe('literalLookup', () => {
  it('answers an IP literal at once, in the same tick', () => {
    const answers: unknown[] = []
    literalLookup('239.255.0.1', 4, (error, address, family) => answers.push([error, address, family]))
    literalLookup('ff15::1', 6, (error, address, family) => answers.push([error, address, family]))
    expect(answers).toEqual([
      [null, '239.255.0.1', 4],
      [null, 'ff15::1', 6],
    ])
  })

  it('still resolves a name, through dns.lookup', async () => {
    const answer = await new Promise<[string, number]>((resolve, reject) =>
      literalLookup('localhost', 4, (error, address, family) =>
        error ? reject(error) : resolve([address, family]),
      ),
    )
    expect(answer).toEqual(['127.0.0.1', 4])
  })
})

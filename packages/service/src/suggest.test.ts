import { describe, expect, it } from 'vitest'
import { editDistance, suggest } from './suggest.js'

describe('suggest', () => {
  it('counts an adjacent transposition as one edit', () => {
    expect(editDistance('prot', 'port')).toBe(1)
    expect(editDistance('prot', 'proto')).toBe(1)
    expect(editDistance('kitten', 'sitting')).toBe(3)
    expect(editDistance('', 'abc')).toBe(3)
  })

  it('on a tie, the first candidate wins; nothing when none is close', () => {
    expect(suggest('prot', ['port', 'proto'])).toBe('port')
    expect(suggest('prot', ['proto', 'port'])).toBe('proto')
    expect(suggest('xyz', ['port', 'proto'])).toBeUndefined()
  })
})

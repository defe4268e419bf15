import { describe, expect, it } from 'vitest'
import { LruMap } from './lru-map.js'

describe('LruMap', () => {
  it('holds at most its capacity, evicting the least recently used and counting it', () => {
    const map = new LruMap<string, number>(3)
    for (const key of ['a', 'b', 'c']) map.set(key, key.charCodeAt(0))
    expect(map.get('a')).toBe(97) // a is now the most recently used: b is the oldest
    map.set('d', 100)
    expect([...map.entries()].map(([key]) => key)).toEqual(['c', 'a', 'd'])
    expect(map.evictions).toBe(1)
    map.set('c', 0) // replacing is not adding
    expect(map.size).toBe(3)
    expect(map.evictions).toBe(1)
    for (let i = 0; i < 1000; i++) map.set(`k${i}`, i)
    expect(map.size).toBe(3)
    expect(map.evictions).toBe(1001)
    expect(map.get('a')).toBeUndefined()
  })

  it('refuses a capacity below 1', () => {
    expect(() => new LruMap(0)).toThrow(/at least 1/)
  })
})

import { describe, expect, it } from 'vitest'
import { ACK_ROUTE_IDLE_MS, type AckRoute, AckRoutes } from './ack-routes.js'

const PUBLISHER: AckRoute = { input: 0, address: '10.77.1.2', port: 50000 }
const OUTSIDER: AckRoute = { input: 0, address: '10.77.1.66', port: 50000 }

function routes(capacity?: number) {
  const clock = { ms: 1_000 }
  const table = new AckRoutes({ now: () => clock.ms, ...(capacity === undefined ? {} : { capacity }) })
  return { table, clock }
}

describe('AckRoutes', () => {
  it('pins a session to the first place its frames came from', () => {
    const { table } = routes()
    expect(table.remember(5, PUBLISHER)).toBe('new')
    expect(table.remember(5, { ...PUBLISHER })).toBe('same')
    for (const elsewhere of [OUTSIDER, { ...PUBLISHER, port: 1 }, { ...PUBLISHER, input: 1 }])
      expect(table.remember(5, elsewhere)).toBe('conflict')
    expect(table.lookup(5)).toEqual(PUBLISHER)
    expect(table.counters()).toEqual({ conflicts: 3, moved: 0, evicted: 0, refused: 0 })
  })

  it(`moves a route only after ${ACK_ROUTE_IDLE_MS} ms without a frame from its place`, () => {
    const { table, clock } = routes()
    table.remember(5, PUBLISHER)
    clock.ms += ACK_ROUTE_IDLE_MS - 1
    expect(table.remember(5, PUBLISHER)).toBe('same') // in use again: the idle time starts over
    clock.ms += ACK_ROUTE_IDLE_MS - 1
    expect(table.remember(5, OUTSIDER)).toBe('conflict')
    clock.ms += 1
    expect(table.remember(5, OUTSIDER)).toBe('moved')
    expect(table.lookup(5)).toEqual(OUTSIDER)
    // and the new place is pinned in turn
    expect(table.remember(5, PUBLISHER)).toBe('conflict')
    expect(table.counters()).toMatchObject({ conflicts: 2, moved: 1 })
  })

  it('confirm() keeps a route in use only from its own place; lookups never do', () => {
    const { table, clock } = routes()
    table.remember(5, PUBLISHER)
    clock.ms += ACK_ROUTE_IDLE_MS - 1
    table.confirm(5, PUBLISHER)
    table.confirm(5, OUTSIDER) // neither moves it nor keeps it in use
    clock.ms += ACK_ROUTE_IDLE_MS - 1
    expect(table.remember(5, OUTSIDER)).toBe('conflict')
    table.confirm(6, PUBLISHER) // an unknown session: nothing
    expect(table.size).toBe(1)
    clock.ms += 1
    table.lookup(5)
    expect(table.remember(5, OUTSIDER)).toBe('moved')
  })

  it('when full, forgets the least recently seen session if it is idle, else refuses the new one', () => {
    const { table, clock } = routes(3)
    for (const session of [1, 2, 3]) table.remember(session, PUBLISHER)
    expect(table.remember(4, PUBLISHER)).toBe('refused')
    expect(table.lookup(4)).toBeUndefined()
    clock.ms += ACK_ROUTE_IDLE_MS
    table.remember(1, PUBLISHER) // 1 in use again: 2 is now the least recently seen
    expect(table.remember(4, PUBLISHER)).toBe('new')
    expect(table.lookup(2)).toBeUndefined()
    expect(table.remember(5, PUBLISHER)).toBe('new') // 3 is idle too
    expect(table.remember(6, PUBLISHER)).toBe('refused') // 1, 4 and 5 are in use
    expect([1, 4, 5].map((s) => table.lookup(s) !== undefined)).toEqual([true, true, true])
    expect(table.size).toBe(3)
    expect(table.counters()).toEqual({ conflicts: 0, moved: 0, evicted: 2, refused: 2 })
  })

  it('refuses a capacity below 1', () => {
    expect(() => new AckRoutes({ capacity: 0 })).toThrow(RangeError)
  })
})

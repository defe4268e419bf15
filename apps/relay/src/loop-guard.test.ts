import { describe, expect, it } from 'vitest'
import { LoopGuard, normalizeAddress } from './loop-guard.js'

const header = (sequence: number, fragmentIndex = 0, topic = 'imu', sessionId = 7) => ({
  sessionId,
  topic,
  sequence,
  fragmentIndex,
})

describe('LoopGuard', () => {
  it('knows its own output sockets by address and port', () => {
    const guard = new LoopGuard({ maxHops: 8, localAddresses: ['127.0.0.1', '10.77.2.3'] })
    expect(guard.isOwnOutput({ address: '10.77.2.3', port: 40000 })).toBe(false)
    guard.addOutput({ address: '10.77.2.3', port: 40000 })
    expect(guard.isOwnOutput({ address: '10.77.2.3', port: 40000 })).toBe(true)
    expect(guard.isOwnOutput({ address: '10.77.2.3', port: 40001 })).toBe(false)
    // another host using the same port is not this relay
    expect(guard.isOwnOutput({ address: '10.77.2.9', port: 40000 })).toBe(false)
    // a socket bound to one address never sends from another
    expect(guard.isOwnOutput({ address: '127.0.0.1', port: 40000 })).toBe(false)
  })

  it('a socket bound to a wildcard sends from any address of this host, and only this host', () => {
    const guard = new LoopGuard({ maxHops: 8, localAddresses: ['127.0.0.1', '10.77.1.3', 'fe80::1'] })
    guard.addOutput({ address: '0.0.0.0', port: 41000 })
    guard.addOutput({ address: '::', port: 42000 })
    expect(guard.isOwnOutput({ address: '127.0.0.1', port: 41000 })).toBe(true)
    expect(guard.isOwnOutput({ address: '10.77.1.3', port: 41000 })).toBe(true)
    expect(guard.isOwnOutput({ address: '10.77.1.4', port: 41000 })).toBe(false)
    expect(guard.isOwnOutput({ address: 'fe80::1%lo', port: 42000 })).toBe(true)
    expect(guard.isOwnOutput({ address: '::ffff:10.77.1.3', port: 42000 })).toBe(true)
    expect(guard.isOwnOutput({ address: '127.0.0.1', port: 43000 })).toBe(false)
  })

  it('reads this host’s addresses when not told', () => {
    const guard = new LoopGuard({ maxHops: 8 })
    guard.addOutput({ address: '0.0.0.0', port: 41000 })
    expect(guard.isOwnOutput({ address: '127.0.0.1', port: 41000 })).toBe(true)
  })

  it('stops datagrams that have crossed --max-hops relays', () => {
    const guard = new LoopGuard({ maxHops: 2 })
    expect([0, 1, 2, 3, 255].map((hops) => guard.hopsExceeded(hops))).toEqual([
      false,
      false,
      true,
      true,
      true,
    ])
  })

  it('lets each (session, topic, sequence, fragment) through once', () => {
    const guard = new LoopGuard({ maxHops: 8 })
    expect(guard.firstTime(header(0))).toBe(true)
    expect(guard.firstTime(header(0))).toBe(false)
    expect(guard.firstTime(header(0, 1))).toBe(true)
    expect(guard.firstTime(header(0, 0, 'gps'))).toBe(true)
    expect(guard.firstTime(header(0, 0, 'imu', 8))).toBe(true)
    expect(guard.firstTime(header(1))).toBe(true)
    expect(guard.remembered).toBe(5)
  })

  it('remembers at most dedupEntries identities, forgetting the oldest first', () => {
    const guard = new LoopGuard({ maxHops: 8, dedupEntries: 3 })
    for (const sequence of [0, 1, 2, 3]) expect(guard.firstTime(header(sequence))).toBe(true)
    expect(guard.remembered).toBe(3)
    expect(guard.firstTime(header(3))).toBe(false)
    expect(guard.firstTime(header(0))).toBe(true) // forgotten, so it passes again
  })
})

it.each([
  ['10.0.0.1', '10.0.0.1'],
  ['FE80::1%eth0', 'fe80::1'],
  ['::ffff:10.0.0.1', '10.0.0.1'],
  ['::ffff:a00:1', '::ffff:a00:1'],
])('normalizeAddress(%s) = %s', (address, normalized) => {
  expect(normalizeAddress(address)).toBe(normalized)
})

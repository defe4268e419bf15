/**
 * The self-test's real sockets, on loopback only (THE NETWORK RULE): a multicast group joined on
 * 127.0.0.1, which this host's kernel delivers to itself without any route.
 */
import { randomInt } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { openTransportProbe } from './self-test.js'
import type { DoctorTarget } from './types.js'

const loopback: DoctorTarget = {
  role: 'receive',
  mode: 'multicast',
  family: 4,
  interface: { spec: '127.0.0.1', name: 'lo', addresses: [] },
  address: `239.255.${randomInt(1, 255)}.${randomInt(1, 255)}`,
  port: randomInt(20_000, 60_000),
}

describe('openTransportProbe', () => {
  it('sends one frame on loopback and sees it come back', async () => {
    const probe = await openTransportProbe(loopback)
    try {
      expect(await probe.roundTrip(2000)).toBe(true)
    } finally {
      await probe.close()
    }
  })

  it('refuses what is not multicast', async () => {
    await expect(openTransportProbe({ ...loopback, mode: 'unicast' })).rejects.toThrow('multicast only')
  })
})

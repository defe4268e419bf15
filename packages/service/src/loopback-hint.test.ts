import type { NetworkInterfaceInfo } from 'node:os'
import { describe, expect, it } from 'vitest'
import { isLoopbackAddress, loopbackHint, outsideInterfaces } from './loopback-hint.js'

const table = {
  lo: [
    { address: '127.0.0.1', family: 'IPv4', internal: true },
    { address: '::1', family: 'IPv6', internal: true },
  ],
  eth1: [{ address: '10.1.1.1', family: 'IPv4', internal: false }],
  wlan0: [
    { address: '10.2.2.2', family: 'IPv4', internal: false },
    { address: 'fd00::2', family: 'IPv6', internal: false },
  ],
} as unknown as NodeJS.Dict<NetworkInterfaceInfo[]>

const words = { effect: 'frames stay on this host', goal: 'reach the network' }

describe('loopbackHint', () => {
  it('on loopback names the interfaces of the right IP version that reach a network', () => {
    expect(loopbackHint({ ...words, address: '127.0.0.1', family: 4 }, table)).toBe(
      'frames stay on this host; to reach the network, pass --interface eth1 (interfaces: eth1, wlan0)',
    )
    expect(loopbackHint({ ...words, address: '::1', family: 6 }, table)).toBe(
      'frames stay on this host; to reach the network, pass --interface wlan0',
    )
  })

  it('takes the service’s own way to name an interface, and more advice after it', () => {
    expect(
      loopbackHint(
        {
          ...words,
          address: '127.0.0.1',
          family: 4,
          fix: (name) => `?interface=${name}`,
          more: '; and so on',
        },
        { lo: table.lo },
      ),
    ).toBe(
      'frames stay on this host; to reach the network, pass ?interface=NAME (no interface but loopback has an IPv4 address here); and so on',
    )
  })

  it('says nothing off loopback or without an address', () => {
    expect(loopbackHint({ ...words, address: '10.1.1.1', family: 4 }, table)).toBeUndefined()
    expect(loopbackHint({ ...words, address: undefined, family: 4 }, table)).toBeUndefined()
  })
})

describe('isLoopbackAddress / outsideInterfaces', () => {
  it('knows 127/8, ::1 and mapped 127/8', () => {
    for (const a of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1'])
      expect(isLoopbackAddress(a)).toBe(true)
    for (const a of ['10.0.0.1', '::', 'fe80::1', '0.0.0.0']) expect(isLoopbackAddress(a)).toBe(false)
    expect(outsideInterfaces(4, table)).toEqual(['eth1', 'wlan0'])
    expect(outsideInterfaces(6, table)).toEqual(['wlan0'])
  })
})

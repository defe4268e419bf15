import { describe, expect, it } from 'vitest'
import { AllowList, inputAllow, parseAllowEntry } from './allow-list.js'

const entry = (text: string) => {
  const parsed = parseAllowEntry(text)
  if (!parsed.ok) throw new Error(parsed.message)
  return { family: parsed.entry.family, bytes: [...parsed.entry.bytes], prefix: parsed.entry.prefix }
}

describe('parseAllowEntry', () => {
  it.each([
    ['10.0.2.7', { family: 4, bytes: [10, 0, 2, 7], prefix: 32 }],
    ['10.0.2.0/24', { family: 4, bytes: [10, 0, 2, 0], prefix: 24 }],
    ['0.0.0.0/0', { family: 4, bytes: [0, 0, 0, 0], prefix: 0 }],
    [' 192.168.16.0/20 ', { family: 4, bytes: [192, 168, 16, 0], prefix: 20 }],
    ['::ffff:10.0.2.7', { family: 4, bytes: [10, 0, 2, 7], prefix: 32 }],
    ['FD00::7', { family: 6, bytes: [0xfd, 0, ...Array(13).fill(0), 7], prefix: 128 }],
    ['fd00:1:2::/48', { family: 6, bytes: [0xfd, 0, 0, 1, 0, 2, ...Array(10).fill(0)], prefix: 48 }],
    ['fe80::1%eth0', { family: 6, bytes: [0xfe, 0x80, ...Array(13).fill(0), 1], prefix: 128 }],
    ['::/0', { family: 6, bytes: Array(16).fill(0), prefix: 0 }],
    [
      '64:ff9b::192.0.2.1',
      { family: 6, bytes: [0, 0x64, 0xff, 0x9b, ...Array(8).fill(0), 192, 0, 2, 1], prefix: 128 },
    ],
    ['1:2:3:4:5:6:7:8', { family: 6, bytes: [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8], prefix: 128 }],
  ])('%s', (text, expected) => {
    expect(entry(text)).toEqual(expected)
  })

  it.each([
    ['', 'expected an IPv4 or IPv6 address or prefix, e.g. 10.0.2.7, 10.0.2.0/24 or fd00::7'],
    ['relay-a.example', 'expected an IPv4 or IPv6 address or prefix'],
    ['10.0.2.256', 'expected an IPv4 or IPv6 address or prefix'],
    ['10.0.2.0/33', 'the prefix length of an IPv4 network is 0-32'],
    ['fd00::/129', 'the prefix length of an IPv6 network is 0-128'],
    ['10.0.2.0/', 'the prefix length of an IPv4 network is 0-32'],
    ['10.0.2.0/-1', 'the prefix length'],
    ['10.0.2.0/24/8', 'expected an address or address/prefix'],
    ['10.0.2.7/24', '10.0.2.7/24 has bits set past the prefix: the network is 10.0.2.0/24'],
    ['fd00::1/64', 'fd00::1/64 has bits set past the prefix: the network is fd00::/64'],
    ['::ffff:10.0.0.0/104', 'write an IPv4 network in IPv4 form (10.0.0.0/…)'],
  ])('%j is refused: %s', (text, message) => {
    const parsed = parseAllowEntry(text)
    expect(parsed.ok).toBe(false)
    expect(!parsed.ok && parsed.message).toContain(message)
  })
})

describe('AllowList', () => {
  const list = AllowList.of(['10.0.2.7', '10.0.3.0/24', '192.168.16.0/20', 'fd00:1::/32', 'fe80::5'])

  it.each([
    ['10.0.2.7', true],
    ['::ffff:10.0.2.7', true], // a dual-stack socket's view of an IPv4 peer
    ['10.0.2.8', false],
    ['10.0.3.0', true],
    ['10.0.3.255', true],
    ['10.0.4.0', false],
    ['192.168.31.255', true],
    ['192.168.32.0', false],
    ['192.168.15.255', false],
    ['fd00:1:ffff::1', true],
    ['fd00:2::1', false],
    ['fe80::5%eth0', true], // a link-local peer, with its zone
    ['fe80::6', false],
    ['::ffff:10.0.3.9', true],
    ['::a00:207', false], // 10.0.2.7's bytes, but an IPv6 address
  ])('%s: %s', (address, verdict) => {
    expect(list.allows(address)).toBe(verdict)
  })

  it('gives each address its own verdict, whatever came before', () => {
    const seq = ['10.0.2.7', '10.0.2.8', '10.0.2.8', '10.0.2.7', '10.0.2.7', 'fd00:2::1', '10.0.2.7']
    expect(seq.map((a) => list.allows(a))).toEqual([true, false, false, true, true, false, true])
  })

  it('/0 takes every address of its family, and only that family', () => {
    const v4 = AllowList.of(['0.0.0.0/0'])
    expect([v4.allows('203.0.113.9'), v4.allows('::ffff:1.2.3.4'), v4.allows('2001:db8::1')]).toEqual([
      true,
      true,
      false,
    ])
  })

  it('of() names the item it cannot read', () => {
    expect(() => AllowList.of(['10.0.0.1', 'nope'])).toThrow('nope: expected an IPv4 or IPv6 address')
  })
})

describe('inputAllow', () => {
  const explicit = AllowList.of(['10.0.0.9']).entries

  it('allow= wins, on any kind of input', () => {
    for (const scheme of ['udp', 'multicast', 'broadcast'] as const) {
      const { list, source } = inputAllow({ scheme, allow: explicit }, ['10.0.2.7'])
      expect(source).toBe('allow=')
      expect(list?.allows('10.0.0.9')).toBe(true)
      expect(list?.allows('10.0.2.7')).toBe(false)
    }
  })

  it('a udp:// input without it takes the hosts the unicast outputs send to', () => {
    const { list, source } = inputAllow({ scheme: 'udp', allow: undefined }, [
      '10.0.2.7',
      'fd00::7',
      '10.0.2.7',
    ])
    expect(source).toBe('unicast outputs')
    expect(list?.describe()).toEqual(['10.0.2.7', 'fd00::7'])
    expect(list?.allows('::ffff:10.0.2.7')).toBe(true)
    expect(list?.allows('10.0.2.8')).toBe(false)
  })

  it('otherwise any host: udp:// without unicast outputs, multicast and broadcast', () => {
    expect(inputAllow({ scheme: 'udp', allow: undefined }, [])).toEqual({
      list: undefined,
      source: 'any host',
    })
    for (const scheme of ['multicast', 'broadcast'] as const)
      expect(inputAllow({ scheme, allow: undefined }, ['10.0.2.7'])).toEqual({
        list: undefined,
        source: 'any host',
      })
  })
})

import { describe, expect, it } from 'vitest'
import { isNetnsError } from './errors.js'
import { planNetwork, type Topology } from './topology.js'

describe('planNetwork', () => {
  it('numbers segments and hosts from 1 and gives a host the same last octet on every segment', () => {
    const plan = planNetwork({
      hosts: ['a', 'b', 'c', 'r'],
      segments: [
        { name: 'lan', hosts: ['a', 'b', 'r'] },
        { name: 'wan', hosts: ['r', 'c'] },
      ],
      ipv6: true,
    })
    expect(plan.segments.map((s) => [s.name, s.subnet4, s.subnet6])).toEqual([
      ['lan', '10.77.1.0/24', 'fd77:1::/64'],
      ['wan', '10.77.2.0/24', 'fd77:2::/64'],
    ])
    const r = plan.hosts.find((h) => h.name === 'r')!
    expect(r.ifaces).toEqual([
      {
        name: 'v-lan',
        segment: 'lan',
        ipv4: '10.77.1.4',
        prefix4: 24,
        broadcast4: '10.77.1.255',
        ipv6: 'fd77:1::4',
        prefix6: 64,
      },
      {
        name: 'v-wan',
        segment: 'wan',
        ipv4: '10.77.2.4',
        prefix4: 24,
        broadcast4: '10.77.2.255',
        ipv6: 'fd77:2::4',
        prefix6: 64,
      },
    ])
    expect(plan.hosts.find((h) => h.name === 'c')!.ifaces.map((i) => i.ipv4)).toEqual(['10.77.2.3'])
  })

  it('leaves IPv6 out unless asked, and accepts { name } host specs', () => {
    const plan = planNetwork({ hosts: [{ name: 'a' }, 'b'], segments: [{ name: 'lan', hosts: ['a', 'b'] }] })
    expect(plan.ipv6).toBe(false)
    expect(plan.hosts[1]!.ifaces[0]).toEqual({
      name: 'v-lan',
      segment: 'lan',
      ipv4: '10.77.1.2',
      prefix4: 24,
      broadcast4: '10.77.1.255',
    })
    expect(plan.segments[0]!.subnet6).toBeUndefined()
  })

  it('writes IPv6 groups with the same digits as the IPv4 octets', () => {
    const hosts = Array.from({ length: 12 }, (_, i) => `h${i + 1}`)
    const segments = Array.from({ length: 12 }, (_, i) => ({ name: `s${i + 1}`, hosts: ['h12'] }))
    const plan = planNetwork({ hosts, segments, ipv6: true })
    const iface = plan.hosts[11]!.ifaces[11]!
    expect([iface.ipv4, iface.ipv6]).toEqual(['10.77.12.12', 'fd77:12::12'])
  })

  const bad: Array<[string, Topology, RegExp]> = [
    ['no hosts', { hosts: [], segments: [] }, /hosts must be a non-empty array/],
    ['upper-case host', { hosts: ['A'], segments: [] }, /host name "A"/],
    ['host name with a dash', { hosts: ['a-b'], segments: [] }, /host name "a-b"/],
    ['host name too long', { hosts: ['abcdefghi'], segments: [] }, /host name "abcdefghi"/],
    ['duplicate host', { hosts: ['a', 'a'], segments: [] }, /host "a" is listed twice/],
    [
      'duplicate segment',
      {
        hosts: ['a'],
        segments: [
          { name: 'l', hosts: ['a'] },
          { name: 'l', hosts: ['a'] },
        ],
      },
      /segment "l" is listed twice/,
    ],
    [
      'unknown host',
      { hosts: ['a'], segments: [{ name: 'lan', hosts: ['a', 'z'] }] },
      /names host "z", which is not in hosts/,
    ],
    [
      'host twice on a segment',
      { hosts: ['a'], segments: [{ name: 'lan', hosts: ['a', 'a'] }] },
      /lists host "a" twice/,
    ],
    ['empty segment', { hosts: ['a'], segments: [{ name: 'lan', hosts: [] }] }, /needs at least one host/],
    [
      'mtu too small for IPv6',
      { hosts: ['a'], segments: [{ name: 'lan', hosts: ['a'], mtu: 1000 }], ipv6: true },
      /mtu 1000 must be an integer in 1280\.\.65535/,
    ],
  ]
  it.each(bad)('rejects %s', (_label, topology, message) => {
    let caught: unknown
    try {
      planNetwork(topology)
    } catch (error) {
      caught = error
    }
    expect(isNetnsError(caught) && caught.code).toBe('NETNS_BAD_TOPOLOGY')
    expect((caught as Error).message).toMatch(message)
  })
})

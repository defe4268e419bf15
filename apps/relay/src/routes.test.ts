import { parseConfig } from '@shoal/service'
import { describe, expect, it } from 'vitest'
import { type RelayConfig, relayFlags, resolveRelayConfig } from './config.js'
import {
  interfaceFor,
  OUTPUT_LINGER_MS,
  publisherOptions,
  resolveHost,
  routeFilter,
  routeLoopbackHint,
  subscriberOptions,
} from './routes.js'

function config(argv: readonly string[]): RelayConfig {
  const outcome = parseConfig(relayFlags, { argv, env: {} })
  if (outcome.action !== 'run') throw new Error(outcome.action)
  return resolveRelayConfig(outcome.values)
}
const input = (spec: string, ...flags: string[]) =>
  config(['--in', spec, '--out', 'unicast://127.0.0.1:9', ...flags]).inputs[0]!
const output = (spec: string, ...flags: string[]) =>
  config(['--in', 'udp://127.0.0.1:9', '--out', spec, ...flags]).outputs[0]!

describe('routeFilter', () => {
  const topics = ['imu', 'sensors/imu', 'sensors/gps/front', 'camera/left', 'gps']
  const passing = (global: string[], own: string[]) => topics.filter(routeFilter(global, own))

  it.each([
    [[], [], topics],
    [['sensors/*'], [], ['sensors/imu', 'sensors/gps/front']],
    [[], ['imu', 'gps'], ['imu', 'gps']],
    [['sensors/*', 'imu'], ['imu'], ['imu']],
    [['sensors/*'], ['sensors/gps/*'], ['sensors/gps/front']],
    [['sensors/*'], ['camera/*'], []],
    [['*'], ['gps'], ['gps']],
    [['gps'], ['*'], ['gps']],
  ])('global %j and route %j pass %j', (global, own, expected) => {
    expect(passing(global, own)).toEqual(expected)
  })
})

describe('interfaceFor', () => {
  const lo = { spec: 'lo', name: 'lo', addresses: [] }
  const byAddress = { spec: '127.0.0.1', name: 'lo', addresses: [] }
  it('keeps an address of the route’s IP version, else names the interface', () => {
    expect(interfaceFor(byAddress, '239.1.1.1')).toBe('127.0.0.1')
    expect(interfaceFor(byAddress, 'ff15::1')).toBe('lo')
    expect(interfaceFor(lo, '239.1.1.1')).toBe('lo')
  })
})

describe('subscriberOptions (--in)', () => {
  it('multicast: the group on the route’s interface, with an SSM source, in forward mode', () => {
    expect(
      subscriberOptions(input('multicast://232.1.1.1:7500?interface=127.0.0.1&source=127.0.0.2')),
    ).toEqual({
      mode: 'multicast',
      group: '232.1.1.1',
      port: 7500,
      interface: '127.0.0.1',
      source: '127.0.0.2',
      forward: true,
      decode: false,
      repair: false,
    })
  })

  it('--hop-repair: inputs ask their senders, outputs keep a sent log', () => {
    expect(subscriberOptions(input('multicast://239.1.1.1'), true)).toMatchObject({
      forward: true,
      repair: true,
    })
    expect(publisherOptions(output('multicast://239.2.2.2'), '239.2.2.2', true)).toMatchObject({
      repair: true,
      flow: false,
    })
  })

  it('multicast without ?interface= uses --interface and --port', () => {
    expect(
      subscriberOptions(input('multicast://239.1.1.1', '--interface', 'lo', '--port', '7600')),
    ).toMatchObject({ group: '239.1.1.1', port: 7600, interface: 'lo' })
  })

  it('broadcast listens on the port', () => {
    expect(subscriberOptions(input('broadcast://127.255.255.255:7500'))).toMatchObject({
      mode: 'broadcast',
      address: '127.255.255.255',
      port: 7500,
      forward: true,
    })
  })

  it.each([
    ['udp://127.0.0.1:7500', { mode: 'unicast', port: 7500, interface: '127.0.0.1' }],
    ['udp://0.0.0.0:7500', { mode: 'unicast', port: 7500 }],
    ['udp://[::1]:7500', { mode: 'unicast', port: 7500, interface: '::1', ipv6: true }],
    ['udp://[::]:7500', { mode: 'unicast', port: 7500, ipv6: true }],
  ])('%s listens on its host, on a port of its own', (spec, expected) => {
    expect(subscriberOptions(input(spec))).toEqual({
      ...expected,
      forward: true,
      decode: false,
      repair: false,
      reuseAddr: false,
    })
  })
})

describe('publisherOptions (--out)', () => {
  const batch = { lingerMs: OUTPUT_LINGER_MS }

  it('multicast: group, interface and TTL of the route, batching on', () => {
    expect(
      publisherOptions(output('multicast://239.2.2.2:7500?interface=127.0.0.1&ttl=4'), '239.2.2.2'),
    ).toEqual({
      mode: 'multicast',
      group: '239.2.2.2',
      port: 7500,
      interface: '127.0.0.1',
      ttl: 4,
      batch,
      heartbeat: false,
      repair: false,
      flow: false,
    })
  })

  it('--ttl applies where the route has no ?ttl=', () => {
    expect(publisherOptions(output('multicast://239.2.2.2', '--ttl', '6'), '239.2.2.2')).toMatchObject({
      ttl: 6,
      port: 7400,
    })
  })

  it('unicast: the resolved address, no interface (the routing table picks it)', () => {
    expect(publisherOptions(output('unicast://localhost:7500?ttl=3'), '127.0.0.1')).toEqual({
      mode: 'unicast',
      address: '127.0.0.1',
      port: 7500,
      ttl: 3,
      batch,
      heartbeat: false,
      repair: false,
      flow: false,
    })
  })

  it('broadcast: the address on the route’s interface', () => {
    expect(
      publisherOptions(output('broadcast://127.255.255.255:7500?interface=lo'), '127.255.255.255'),
    ).toEqual({
      mode: 'broadcast',
      address: '127.255.255.255',
      port: 7500,
      interface: 'lo',
      ttl: 1,
      batch,
      heartbeat: false,
      repair: false,
      flow: false,
    })
  })
})

describe('resolveHost', () => {
  it('keeps addresses and looks names up (localhost, from the hosts file)', async () => {
    expect(await resolveHost(output('unicast://127.0.0.9:7500'))).toBe('127.0.0.9')
    expect(['127.0.0.1', '::1']).toContain(await resolveHost(output('unicast://localhost:7500')))
  })
})

describe('routeLoopbackHint', () => {
  const table = {
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
    eth1: [{ address: '10.1.1.1', family: 'IPv4', internal: false }],
  } as unknown as NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>

  it('warns for a multicast or broadcast route on loopback, in the relay’s words', () => {
    expect(routeLoopbackHint(output('multicast://239.1.1.1:7401'), 'out', '127.0.0.1', table)).toBe(
      '--out multicast://239.1.1.1:7401: frames forwarded here stay on this host (interface lo is loopback); ' +
        'to reach the network, pass ?interface=eth1 on the route, or --interface eth1 for every route',
    )
    expect(routeLoopbackHint(output('broadcast://127.255.255.255:7401'), 'out', '127.0.0.1', table)).toMatch(
      /^--out broadcast:/,
    )
    expect(routeLoopbackHint(input('multicast://239.1.1.1:7400'), 'in', '127.0.0.1', table)).toMatch(
      /^--in multicast:\/\/239.1.1.1:7400: only frames sent on this host arrive here .*receive from the network/,
    )
  })

  it('says nothing off loopback, for unicast and udp routes, or a broadcast input (every interface)', () => {
    expect(routeLoopbackHint(output('multicast://239.1.1.1:7401'), 'out', '10.1.1.1', table)).toBeUndefined()
    expect(routeLoopbackHint(output('unicast://127.0.0.1:7401'), 'out', undefined, table)).toBeUndefined()
    expect(routeLoopbackHint(input('udp://127.0.0.1:7401'), 'in', '127.0.0.1', table)).toBeUndefined()
    expect(
      routeLoopbackHint(input('broadcast://127.255.255.255:7400'), 'in', '127.0.0.1', table),
    ).toBeUndefined()
  })
})

import { describe, expect, it } from 'vitest'
import {
  duration,
  endpoint,
  formatDuration,
  formatSize,
  host,
  identifier,
  integer,
  interfaceAddress,
  ipAddress,
  isMulticastAddress,
  matchesTopic,
  multicastGroup,
  networkInterface,
  port,
  size,
  topicFilter,
  ttl,
} from './validators.js'

/** The first issue message, or the parsed value. */
function parse(
  schema: {
    safeParse(value: string): { success: boolean; data?: unknown; error?: { issues: { message: string }[] } }
  },
  value: string,
) {
  const result = schema.safeParse(value)
  return result.success ? { ok: result.data } : { error: result.error?.issues[0]?.message }
}

describe('integers', () => {
  it.each([
    ['1', 1],
    ['65535', 65535],
    [' 7400 ', 7400],
    ['+80', 80],
  ])('port %j is %d', (input, expected) => expect(parse(port(), input)).toEqual({ ok: expected }))

  it.each(['0', '65536', '70000', '-1', '1.5', '1e3', '0x10', '', 'abc'])('port %j fails', (input) => {
    expect(parse(port(), input)).toEqual({ error: 'expected an integer 1-65535' })
  })

  it('ttl is 0-255', () => {
    expect(parse(ttl(), '0')).toEqual({ ok: 0 })
    expect(parse(ttl(), '255')).toEqual({ ok: 255 })
    expect(parse(ttl(), '300')).toEqual({ error: 'expected an integer 0-255' })
  })

  it('integer ranges are inclusive', () => {
    expect(parse(integer(5, 5), '5')).toEqual({ ok: 5 })
    expect(parse(integer(5, 5), '6')).toEqual({ error: 'expected an integer 5-5' })
  })
})

describe('addresses', () => {
  it.each([
    ['224.0.0.1', true],
    ['239.255.0.1', true],
    ['223.255.255.255', false],
    ['240.0.0.1', false],
    ['10.0.0.1', false],
    ['ff02::1', true],
    ['FF15::1', true],
    ['fe80::1', false],
    ['::1', false],
    ['::ffff:224.0.0.1', false],
    ['not-an-ip', false],
  ])('isMulticastAddress(%s) is %s', (address, expected) =>
    expect(isMulticastAddress(address)).toBe(expected),
  )

  it('multicast groups must be multicast, with a message that says so', () => {
    expect(parse(multicastGroup(), '239.1.2.3')).toEqual({ ok: '239.1.2.3' })
    expect(parse(multicastGroup(), 'FF15::AB')).toEqual({ ok: 'ff15::ab' })
    expect(parse(multicastGroup(), '10.0.0.1').error).toMatch(
      /^not a multicast address; expected IPv4 224\.0\.0\.0\/4/,
    )
    expect(parse(multicastGroup(), 'group1').error).toMatch(/^not an IP address/)
  })

  it('ip addresses and hosts', () => {
    expect(parse(ipAddress(), '::1')).toEqual({ ok: '::1' })
    expect(parse(ipAddress(), 'localhost').error).toBe('expected an IPv4 or IPv6 address')
    expect(parse(host(), 'relay-1.local')).toEqual({ ok: 'relay-1.local' })
    expect(parse(host(), '10.0.0.255')).toEqual({ ok: '10.0.0.255' })
    expect(parse(host(), 'bad host').error).toBe('expected an IPv4 or IPv6 address or a host name')
  })

  it.each([
    ['10.0.0.7:7400', { host: '10.0.0.7', port: 7400 }],
    ['[fd00::7]:7401', { host: 'fd00::7', port: 7401 }],
    ['relay.local:1', { host: 'relay.local', port: 1 }],
  ])('endpoint %s', (input, expected) => expect(parse(endpoint(), input)).toEqual({ ok: expected }))

  it.each([
    ['10.0.0.7', 'expected host:port'],
    ['fd00::7:7400', 'expected host:port'],
    ['[10.0.0.7]:7400', 'expected host:port'],
    ['10.0.0.7:0', 'port must be an integer 1-65535'],
    ['10.0.0.7:70000', 'port must be an integer 1-65535'],
  ])('endpoint %s fails', (input, message) => expect(parse(endpoint(), input).error).toContain(message))
})

describe('network interfaces', () => {
  const table = () => ({
    lo: [
      {
        address: '127.0.0.1',
        netmask: '255.0.0.0',
        family: 'IPv4' as const,
        mac: '00:00:00:00:00:00',
        internal: true,
        cidr: '127.0.0.1/8',
      },
      {
        address: '::1',
        netmask: 'ffff::',
        family: 'IPv6' as const,
        mac: '00:00:00:00:00:00',
        internal: true,
        cidr: '::1/128',
        scopeid: 0,
      },
    ],
    veth0: [
      {
        address: '10.9.0.1',
        netmask: '255.255.255.0',
        family: 'IPv4' as const,
        mac: '02:00:00:00:00:01',
        internal: false,
        cidr: '10.9.0.1/24',
      },
    ],
  })

  it('finds an interface by name or by address', () => {
    const byName = parse(networkInterface(table), 'veth0').ok as { name: string }
    expect(byName).toEqual({
      spec: 'veth0',
      name: 'veth0',
      addresses: [{ address: '10.9.0.1', family: 'IPv4' }],
    })
    const byAddress = parse(networkInterface(table), '::1').ok as Parameters<typeof interfaceAddress>[0]
    expect(byAddress.name).toBe('lo')
    expect(interfaceAddress(byAddress, 'IPv4')).toBe('127.0.0.1')
    expect(interfaceAddress(byAddress, 'IPv6')).toBe('::1')
  })

  it('lists the interfaces there are when one is unknown', () => {
    expect(parse(networkInterface(table), 'nosuch0').error).toBe(
      'no such interface on this host; expected an interface name or address (lo, veth0)',
    )
    expect(parse(networkInterface(table), '10.9.0.2').error).toMatch(/^no such interface/)
  })

  it.skipIf(process.platform !== 'linux')(
    'says so when the interface exists but is down or has no address',
    () => {
      // The kernel has lo (in /sys/class/net); a table without it is what Node lists for a down one.
      expect(
        parse(
          networkInterface(() => ({})),
          'lo',
        ).error,
      ).toBe('interface lo is down or has no address (ip link set lo up; ip addr add ADDRESS/PREFIX dev lo)')
    },
  )

  it('checks against this host by default', () => {
    expect(parse(networkInterface(), '127.0.0.1').ok).toMatchObject({ spec: '127.0.0.1' })
    expect(parse(networkInterface(), 'nosuch0').error).toMatch(/^no such interface on this host/)
  })
})

describe('durations and sizes', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1.5m', 90_000],
    ['1h', 3_600_000],
    ['0', 0],
    ['0.5ms', 1],
  ])('duration %s is %d ms', (input, ms) => expect(parse(duration(), input)).toEqual({ ok: ms }))

  it.each(['2', '-1s', 's', '2 weeks', '1d', ''])('duration %j fails', (input) => {
    expect(parse(duration(), input).error).toBe('expected a duration like 500ms, 2s, 1.5m or 1h')
  })

  it('duration bounds', () => {
    expect(parse(duration({ min: 10, max: 1000 }), '2s').error).toBe('expected 10ms to 1s')
    expect(parse(duration({ min: 1 }), '0').error).toBe('expected at least 1ms')
  })

  it.each([
    ['1400', 1400],
    ['1400B', 1400],
    ['64KiB', 65536],
    ['64kib', 65536],
    ['1MiB', 1_048_576],
    ['2KB', 2000],
    ['1.5KiB', 1536],
    ['1GiB', 1024 ** 3],
  ])('size %s is %d bytes', (input, bytes) => expect(parse(size(), input)).toEqual({ ok: bytes }))

  it.each(['', 'KiB', '1.1B', '-1', '10 parsecs', '1TiB'])('size %j fails', (input) => {
    expect(parse(size(), input).error).toBe('expected a size like 1400, 64KiB or 1MiB')
  })

  it('size bounds', () => {
    expect(parse(size({ min: 64, max: 1024 }), '2KiB').error).toBe('expected 64B to 1KiB')
  })

  it('formats durations and sizes in their largest whole unit', () => {
    expect([0, 1, 1000, 1500, 60_000, 7_200_000].map(formatDuration)).toEqual([
      '0ms',
      '1ms',
      '1s',
      '1500ms',
      '1m',
      '2h',
    ])
    expect([0, 100, 1024, 1536, 1_048_576].map(formatSize)).toEqual(['0B', '100B', '1KiB', '1536B', '1MiB'])
  })
})

describe('topics and identifiers', () => {
  it.each(['sensors/imu', 'sensors/*', '*', 'a.b_c-d/e'])('topic filter %s is valid', (input) => {
    expect(parse(topicFilter(), input)).toEqual({ ok: input })
  })

  it.each(['', 'sensors/', '/imu', 'a/*/b', 'a*', 'has space', 'a//b'])('topic filter %j fails', (input) => {
    expect(parse(topicFilter(), input).error).toContain('expected a topic like sensors/imu')
  })

  it.each([
    ['*', 'anything/at/all', true],
    ['sensors/*', 'sensors/imu', true],
    ['sensors/*', 'sensors/imu/raw', true],
    ['sensors/*', 'sensorsx/imu', false],
    ['sensors/*', 'sensors', false],
    ['sensors/imu', 'sensors/imu', true],
    ['sensors/imu', 'sensors/imu2', false],
  ])('matchesTopic(%s, %s) is %s', (filter, topic, expected) =>
    expect(matchesTopic(filter, topic)).toBe(expected),
  )

  it('identifiers', () => {
    expect(parse(identifier(8), 'rx-1.a_b')).toEqual({ ok: 'rx-1.a_b' })
    expect(parse(identifier(8), 'way-too-long').error).toBe("expected 1-8 letters, digits, '.', '_' or '-'")
    expect(parse(identifier(8), 'a b').error).toContain('expected 1-8')
  })
})

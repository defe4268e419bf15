import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { configHarness } from '@shoal/service/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { MAX_ALLOW_ENTRIES } from './allow-list.js'
import { relayFlags, resolveRelayConfig, routeSpec } from './config.js'

function parseRoute(direction: 'in' | 'out', spec: string) {
  const result = routeSpec(direction).safeParse(spec)
  return result.success ? { ok: result.data } : { error: result.error.issues[0]?.message }
}

const { resolve, refusal } = configHarness(relayFlags, resolveRelayConfig)

describe('routeSpec', () => {
  it('reads scheme, host, port and options', () => {
    expect(
      parseRoute('in', 'multicast://239.1.1.1:7400?interface=127.0.0.1&source=10.0.0.7&topic=sensors/*,gps')
        .ok,
    ).toMatchObject({
      scheme: 'multicast',
      host: '239.1.1.1',
      port: 7400,
      interface: { name: 'lo', spec: '127.0.0.1' },
      source: '10.0.0.7',
      ttl: undefined,
      topics: ['sensors/*', 'gps'],
    })
  })

  it.each([
    ['in', 'multicast://[FF15::1]:7500', { scheme: 'multicast', host: 'ff15::1', port: 7500 }],
    ['in', 'udp://0.0.0.0:7500', { scheme: 'udp', host: '0.0.0.0', port: 7500 }],
    ['in', 'udp://[::]:7500', { scheme: 'udp', host: '::', port: 7500 }],
    ['in', 'broadcast://10.0.0.255', { scheme: 'broadcast', host: '10.0.0.255', port: undefined }],
    ['out', 'unicast://relay-2.local:7400?ttl=4', { scheme: 'unicast', host: 'relay-2.local', ttl: 4 }],
    ['out', 'multicast://239.2.2.2?ttl=0&topic=a&topic=b', { ttl: 0, topics: ['a', 'b'] }],
    ['out', 'broadcast://255.255.255.255:7400', { scheme: 'broadcast', port: 7400 }],
  ] as const)('%s %s', (direction, spec, expected) => {
    expect(parseRoute(direction, spec).ok).toMatchObject({ spec, ...expected })
  })

  it('reads allow= on every kind of input: addresses and prefixes, repeatable or comma-separated', () => {
    const texts = (spec: string) => parseRoute('in', spec).ok?.allow?.map((entry) => entry.text)
    expect(texts('udp://0.0.0.0:7500?allow=10.0.2.7,10.0.3.0/24&allow=fd00::7&topic=imu')).toEqual([
      '10.0.2.7',
      '10.0.3.0/24',
      'fd00::7',
    ])
    expect(texts('multicast://239.1.1.1?source=10.0.0.7&allow=10.0.0.0/8')).toEqual(['10.0.0.0/8'])
    expect(texts('broadcast://10.0.0.255?allow=10.0.0.7')).toEqual(['10.0.0.7'])
    expect(parseRoute('in', 'udp://0.0.0.0:7500').ok).toMatchObject({ allow: undefined })
    const most = Array.from({ length: MAX_ALLOW_ENTRIES }, (_, i) => `10.0.${i >> 8}.${i & 255}`)
    expect(texts(`udp://0.0.0.0:7500?allow=${most.join(',')}`)).toHaveLength(MAX_ALLOW_ENTRIES)
    expect(parseRoute('in', `udp://0.0.0.0:7500?allow=${most.join(',')},10.1.0.0`).error).toBe(
      `allow= lists ${MAX_ALLOW_ENTRIES + 1} peers; at most ${MAX_ALLOW_ENTRIES} (use prefixes)`,
    )
  })

  it.each([
    [
      'in',
      'udp://0.0.0.0:7500?allow=relay-a.example',
      'allow=relay-a.example: expected an IPv4 or IPv6 address',
    ],
    ['in', 'udp://0.0.0.0:7500?allow=', 'allow=: expected an IPv4 or IPv6 address or prefix'],
    ['in', 'udp://0.0.0.0:7500?allow=10.0.2.7,', 'allow=: expected an IPv4 or IPv6 address'],
    [
      'in',
      'udp://0.0.0.0:7500?allow=10.0.2.0/33',
      'allow=10.0.2.0/33: the prefix length of an IPv4 network is 0-32',
    ],
    [
      'in',
      'udp://0.0.0.0:7500?allow=10.0.2.7/24',
      'allow=10.0.2.7/24: 10.0.2.7/24 has bits set past the prefix: the network is 10.0.2.0/24',
    ],
    [
      'out',
      'unicast://10.0.2.7:7500?allow=10.0.2.7',
      'unicast:// --out takes no option allow; it takes ttl, topic',
    ],
    ['out', 'multicast://239.1.1.1?allow=10.0.2.7', 'multicast:// --out takes no option allow'],
  ] as const)('%s %s fails: %s', (direction, spec, message) => {
    expect(parseRoute(direction, spec).error).toContain(message)
  })

  it.each([
    ['in', '239.1.1.1:7400', 'expected <scheme>://<host>[:port][?options]'],
    [
      'in',
      'unicast://10.0.0.7:7400',
      '--in takes multicast://, broadcast://, udp://, nats://, not unicast://',
    ],
    ['out', 'udp://0.0.0.0:7500', '--out takes multicast://, broadcast://, unicast://, nats://, not udp://'],
    ['in', 'tcp://1.2.3.4:5', 'not tcp://'],
    ['in', 'multicast://10.0.0.1:7400', 'host 10.0.0.1: not a multicast address'],
    ['in', 'multicast://239.1.1.1:70000', 'not a valid address'],
    ['in', 'multicast://239.1.1.1:0', 'port must be 1-65535'],
    ['in', 'multicast://239.1.1.1:7400/path', 'expected only multicast://<host>[:port][?options]'],
    ['in', 'multicast://user@239.1.1.1', 'expected only'],
    [
      'in',
      'multicast://239.1.1.1?ttl=2',
      'multicast:// --in takes no option ttl; it takes interface, source, allow, topic',
    ],
    ['out', 'unicast://h:1?interface=lo', 'unicast:// --out takes no option interface'],
    ['out', 'multicast://239.1.1.1?source=10.0.0.1', 'takes no option source'],
    ['in', 'multicast://239.1.1.1?interface=nosuch0', 'interface=nosuch0: no such interface on this host'],
    ['out', 'multicast://239.1.1.1?ttl=300', 'ttl=300: expected an integer 0-255'],
    ['out', 'multicast://239.1.1.1?ttl=1&ttl=2', 'option ttl given twice'],
    ['in', 'multicast://239.1.1.1?topic=a/*/b', 'topic=a/*/b: expected a topic'],
    ['in', 'multicast://239.1.1.1?source=::1', 'of different IP versions'],
    ['in', 'broadcast://[ff02::1]', 'broadcast needs an IPv4 address'],
    ['in', 'broadcast://ff02::1', 'not a valid address'],
    ['in', 'udp://relay.local:7500', 'host relay.local: expected an IPv4 or IPv6 address'],
    ['out', 'unicast://bad host:7400', 'not a valid address'],
  ] as const)('%s %s fails: %s', (direction, spec, message) => {
    expect(parseRoute(direction, spec).error).toContain(message)
  })
})

describe('resolveRelayConfig', () => {
  it('fills route defaults from --port, --interface and --ttl', () => {
    const config = resolve([
      '--in',
      'multicast://239.1.1.1',
      '--out',
      'unicast://127.0.0.1:7500',
      '--out',
      'multicast://239.2.2.2?ttl=5',
      '--port',
      '7600',
      '--ttl',
      '3',
    ])
    expect(config.inputs).toMatchObject([
      { host: '239.1.1.1', port: 7600, ttl: undefined, interface: { name: 'lo' }, allow: undefined },
    ])
    expect(config.outputs).toMatchObject([
      { scheme: 'unicast', port: 7500, ttl: 3 },
      { scheme: 'multicast', port: 7600, ttl: 5 },
    ])
    expect(config).toMatchObject({ maxHops: 8, topic: [] })
    expect(config.relayId).toMatch(/^[A-Za-z0-9._-]+$/)
  })

  it('reads routes from the environment, separated by spaces', () => {
    const config = resolve([], {
      SHOAL_IN: 'multicast://239.1.1.1 udp://127.0.0.1:7500',
      SHOAL_OUT: 'unicast://127.0.0.1:7600',
    })
    expect(config.inputs.map((route) => route.scheme)).toEqual(['multicast', 'udp'])
    expect(config.outputs).toHaveLength(1)
  })

  it('keeps each input’s allow=', () => {
    const config = resolve(['--in', 'udp://0.0.0.0:7500?allow=10.0.2.7', '--out', 'multicast://239.2.2.2'])
    expect(config.inputs[0]?.allow?.map((entry) => entry.text)).toEqual(['10.0.2.7'])
  })

  it.each([
    [['--out', 'unicast://127.0.0.1:7500'], '--in', 'needs at least one --in'],
    [['--in', 'multicast://239.1.1.1'], '--out', 'needs at least one --out'],
    [
      ['--in', 'multicast://239.1.1.1:7400', '--out', 'multicast://239.1.1.1?ttl=4'],
      '--out',
      'the relay would forward to itself',
    ],
  ])('%j is refused naming %s', (argv, flag, message) => {
    const error = refusal(argv)
    expect(error.flag).toBe(flag)
    expect(error.message).toContain(message)
  })
})

describe('keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-relay-keys-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const here = join(dir, 'site-a.key')
  const there = join(dir, 'site-b.key')
  writeFileSync(here, `1 ${'0f'.repeat(32)}\n`, { mode: 0o600 })
  writeFileSync(there, `8 ${'e1'.repeat(32)}\n`, { mode: 0o600 })
  const routes = ['--in', 'udp://127.0.0.1:7401', '--out', 'unicast://127.0.0.1:7402']

  it('no key: no sealing (sealed frames pass as they are)', () => {
    expect(resolve(routes).seal).toBeUndefined()
  })

  it('--key-file keys inputs and outputs alike; --out-key-file gives the outputs another ring', () => {
    const one = resolve([...routes, '--key-file', here, '--seal', 'authenticate']).seal
    expect(one?.in).toBe(one?.out)
    expect(one?.in).toMatchObject({ mode: 'authenticate', keyFile: here })
    const two = resolve([...routes, '--key-file', here, '--out-key-file', there]).seal
    expect(two?.in.keyring.ids()).toEqual([1])
    expect(two?.out.keyring.ids()).toEqual([8])
    expect(two?.out).toMatchObject({ mode: 'encrypt', keyFile: there })
  })

  it.each([
    [['--out-key-file', 'x'], '--out-key-file', /--out-key-file needs --key-file/],
    [['--seal', 'encrypt'], '--seal', /--seal encrypt needs --key-file/],
  ])('%j exits 2 naming %s', (argv, flag, message) => {
    const error = refusal([...routes, ...argv])
    expect(error.flag).toBe(flag)
    expect(error.message).toMatch(message)
  })
})

describe('--proto', () => {
  const routes = ['--in', 'multicast://239.255.0.1', '--out', 'multicast://239.255.0.2']
  const proto = fileURLToPath(new URL('../test/e2e/fixtures/proto/acme/v1/wind.proto', import.meta.url))

  it('loads the types (a relay forwards undecoded; it names them)', () => {
    expect(resolve([...routes, '--proto', proto]).types.byName('acme.v1.Wind')).toBeDefined()
    expect(resolve(routes).types.byName('acme.v1.Wind')).toBeUndefined()
  })

  it('a missing file is refused naming --proto and the file', () => {
    expect(refusal([...routes, '--proto', '/nonexistent.proto'])).toMatchObject({
      flag: '--proto',
      message: 'invalid --proto: /nonexistent.proto: ENOENT',
    })
  })
})

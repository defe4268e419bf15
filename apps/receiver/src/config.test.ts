import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { configHarness } from '@shoal/service/testing'
import { afterAll, describe, expect, it } from 'vitest'
import {
  defaultReceiverName,
  type NetworkReceiverConfig,
  receiverFlags,
  resolveReceiverConfig,
} from './config.js'
import { subscriberOptions } from './subscription.js'

const { resolve, refusal } = configHarness(receiverFlags, resolveReceiverConfig)

describe('resolveReceiverConfig', () => {
  it('by default joins 239.255.0.1 on loopback, all topics, named after the host', () => {
    const config = resolve([])
    expect(config.listen).toEqual({ mode: 'multicast', groups: ['239.255.0.1'], source: undefined })
    expect(config.topic).toEqual([])
    expect(config.name).toBe(defaultReceiverName())
    expect(config).toMatchObject({
      port: 7400,
      ack: false,
      raw: false,
      full: false,
      recordMaxSize: 256 * 1024 ** 2,
    })
    expect(['json', 'pretty']).toContain(config.output)
  })

  it('joins several groups once each, from flags or the environment', () => {
    expect(resolve(['--group', '239.1.1.1,239.1.1.2', '--group', '239.1.1.1']).listen).toMatchObject({
      groups: ['239.1.1.1', '239.1.1.2'],
    })
    expect(resolve([], { SHOAL_GROUP: '239.5.5.5,239.6.6.6' }).listen).toMatchObject({
      groups: ['239.5.5.5', '239.6.6.6'],
    })
  })

  it('takes an SSM source and IPv6 groups', () => {
    expect(resolve(['--ipv6', '--group', 'ff35::1', '--source', 'fd00::7']).listen).toEqual({
      mode: 'multicast',
      groups: ['ff35::1'],
      source: 'fd00::7',
    })
    expect(resolve(['--ipv6']).listen).toMatchObject({ groups: ['ff15::1'] })
  })

  it('listens on the port alone for broadcast and unicast', () => {
    expect(resolve(['--mode', 'broadcast']).listen).toEqual({ mode: 'broadcast' })
    expect(resolve(['--mode', 'unicast', '--ipv6']).listen).toEqual({ mode: 'unicast' })
  })

  it('reads output, record and stop conditions', () => {
    const config = resolve([
      '--output',
      'none',
      '--record',
      'run.rec',
      '--record-max-size',
      '10MiB',
      '--count',
      '5',
      '--duration',
      '2s',
    ])
    expect(config).toMatchObject({
      output: 'none',
      record: 'run.rec',
      recordMaxSize: 10 * 1024 ** 2,
      count: 5,
      duration: 2000,
    })
  })

  it.each([
    [['--ipv6', '--group', '239.1.1.1'], '--group', 'is not an IPv6 group'],
    [['--group', 'ff15::1'], '--group', 'is not an IPv4 group; add --ipv6'],
    [['--source', '::1'], '--source', 'is not an IPv4 address; add --ipv6'],
    [['--record-max-size', '1MiB'], '--record-max-size', 'needs --record'],
    [['--raw', '--ack'], '--ack', '--ack needs Shoal frames'],
    [['--raw', '--topic', 'a'], '--topic', '--topic needs Shoal frames'],
    [['--raw', '--record', 'x.rec'], '--record', '--record needs Shoal frames'],
    [['--raw', '--full'], '--full', '--full needs Shoal frames'],
    [['--raw', '--no-repair'], '--no-repair', '--no-repair needs Shoal frames'],
    [['--raw', '--no-status'], '--no-status', '--no-status needs Shoal frames'],
    [['--raw', '--ordered'], '--ordered', '--ordered needs Shoal frames'],
    [['--no-repair', '--ordered'], '--ordered', '--ordered waits for repairs'],
    [['--mode', 'unicast', '--group', '239.1.1.1'], '--group', '--group is for --mode multicast'],
    [['--mode', 'broadcast', '--source', '10.0.0.1'], '--source', '--source is for --mode multicast'],
    [['--mode', 'broadcast', '--ipv6'], '--ipv6', 'IPv6 has no broadcast'],
    [['--record-compression', 'none'], '--record-compression', 'needs --record <file>.mcap'],
    [
      ['--record', 'x.rec', '--record-compression', 'none'],
      '--record-compression',
      'needs --record <file>.mcap',
    ],
    [['--from', 'x.mcap', '--group', '239.1.1.1'], '--group', '--group is for receiving from the network'],
    [['--from', 'x.mcap', '--record', 'y.mcap'], '--record', '--from reads a file'],
    [['--from', 'x.mcap', '--http', '0'], '--http', '--from reads a file'],
    [['--from', 'x.mcap', '--no-repair'], '--no-repair', '--from reads a file'],
    [['--from', 'x.mcap', '--max-streams', '5'], '--max-streams', '--from reads a file'],
    [['--from', 'x.mcap', '--output', 'pretty'], '--output', '--from prints json or none'],
  ])('%j is refused naming %s', (argv, flag, message) => {
    const error = refusal(argv)
    expect(error.flag).toBe(flag)
    expect(error.message).toContain(message)
  })

  it('--record FILE.mcap takes a compression; MCAP is told by the suffix, any case', () => {
    expect(resolve(['--record', 'a.MCAP', '--record-compression', 'none'])).toMatchObject({
      record: 'a.MCAP',
      recordCompression: 'none',
    })
    expect(resolve(['--record', 'a.mcap']).recordCompression).toBe('zstd')
  })

  it('--from reads a file: json output even on a terminal, with topic, count, duration, full', () => {
    const config = resolve([
      '--from',
      'x.mcap',
      '--topic',
      'imu',
      '--count',
      '3',
      '--duration',
      '1s',
      '--full',
    ])
    expect(config).toMatchObject({
      listen: { mode: 'file', path: 'x.mcap' },
      output: 'json',
      topic: ['imu'],
      count: 3,
      duration: 1000,
      full: true,
    })
    expect(resolve(['--from', 'x.mcap', '--output', 'none']).output).toBe('none')
  })

  it('makes a valid name of any host name', () => {
    expect(defaultReceiverName()).toMatch(/^[A-Za-z0-9._-]{1,64}$/)
  })
})

describe('keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-recv-keys-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'group.key')
  writeFileSync(file, `3 ${'0f'.repeat(32)}\n`, { mode: 0o600 })

  it('--key-file gives the subscriber the keyring; without it, none', () => {
    const config = resolve(['--key-file', file])
    expect(config.seal?.keyring.ids()).toEqual([3])
    expect(subscriberOptions(config as NetworkReceiverConfig).seal).toEqual({
      keyring: config.seal?.keyring,
      mode: 'encrypt',
    })
    expect(subscriberOptions(resolve([]) as NetworkReceiverConfig).seal).toBeUndefined()
  })

  it('--raw with a key, and --seal (a sender and relay flag), exit 2', () => {
    expect(refusal(['--raw', '--key-file', file])).toMatchObject({ flag: '--key-file' })
    expect(() => resolve(['--seal', 'encrypt'])).toThrow(/unknown flag --seal/)
  })
})

describe('--proto', () => {
  const proto = fileURLToPath(new URL('../test/fixtures/proto/wind.proto', import.meta.url))

  it('adds the types of the files to the receiver’s registry, which the subscriber decodes with', () => {
    const config = resolve(['--proto', proto])
    expect(config.types.byName('acme.v1.Wind')).toBeDefined()
    expect(config.types.byName('shoal.v1.Imu')).toBeDefined()
    expect(subscriberOptions(config as NetworkReceiverConfig).registry).toBe(config.types)
    expect(resolve([]).types.byName('acme.v1.Wind')).toBeUndefined()
  })

  it('goes with --from (a recording of such types)', () => {
    expect(resolve(['--from', 'run.mcap', '--proto', proto]).types.byName('acme.v1.Wind')).toBeDefined()
  })

  it('a missing file is refused naming --proto and the file', () => {
    const error = refusal(['--proto', '/nonexistent/wind.proto'])
    expect(error).toMatchObject({ flag: '--proto', exitCode: 2 })
    expect(error.message).toBe('invalid --proto: /nonexistent/wind.proto: ENOENT')
  })
})

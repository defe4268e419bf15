import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configHarness } from '@shoal/service/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { resolveSenderConfig, senderFlags } from './config.js'
import { publisherOptions } from './network.js'

const { resolve, refusal } = configHarness(senderFlags, resolveSenderConfig)

describe('resolveSenderConfig', () => {
  it('by default publishes all simulated sensors at their rates to 239.255.0.1 on loopback', () => {
    const config = resolve([])
    expect(config.destination).toEqual({ mode: 'multicast', group: '239.255.0.1' })
    expect(config.source).toEqual({
      kind: 'sensors',
      sensors: ['imu', 'gps', 'temperature', 'camera'],
      rates: { imu: 200, gps: 10, temperature: 1, camera: 10 },
      cameraSize: { width: 640, height: 480 },
    })
    expect(config.interface.addresses.some((a) => a.address === '127.0.0.1')).toBe(true)
    expect(config).toMatchObject({ port: 7400, ttl: 1, ack: false, ackTimeout: 1000, batchLinger: 0.5 })
    expect(config.budget).toBeUndefined() // the transport takes it from the interface MTU
  })

  it('uses the IPv6 default group with --ipv6', () => {
    expect(resolve(['--ipv6', '--interface', '::1']).destination).toEqual({
      mode: 'multicast',
      group: 'ff15::1',
    })
    expect(resolve(['--ipv6', '--interface', 'lo']).destination).toEqual({
      mode: 'multicast',
      group: 'ff15::1',
    })
  })

  it('refuses --ipv6 multicast on the default (IPv4) interface, saying why and what to pass', () => {
    const error = refusal(['--ipv6'])
    expect(error.flag).toBe('--interface')
    expect(error.message).toBe(
      '--ipv6 needs an interface with an IPv6 address: the default --interface 127.0.0.1 is an IPv4 address, ' +
        'and IPv6 multicast on its interface (lo) would fail at every send; pass --interface NAME (eth0, or one ' +
        'of its IPv6 addresses) to reach the network, or --interface ::1 to stay on this host (IPv6 multicast ' +
        'on lo needs a route most hosts lack: ip -6 route add multicast ff00::/8 dev lo table local)',
    )
    expect(refusal(['--ipv6', '--interface', '127.0.0.1']).message).toMatch(
      /^--interface 127.0.0.1 is an IPv4 address; with --ipv6 name the interface \(lo\)/,
    )
    // unicast leaves the interface to the routing table
    expect(resolve(['--ipv6', '--mode', 'unicast', '--address', '::1']).destination).toEqual({
      mode: 'unicast',
      address: '::1',
    })
  })

  it('overrides rates per sensor', () => {
    const config = resolve([
      '--sensors',
      'imu,camera',
      '--rate',
      'imu=100',
      '--rate',
      'camera=30',
      '--camera-size',
      '320x240',
    ])
    expect(config.source).toMatchObject({
      sensors: ['imu', 'camera'],
      rates: { imu: 100, camera: 30 },
      cameraSize: { width: 320, height: 240 },
    })
  })

  it.each([
    [['--mode', 'broadcast', '--address', '10.0.0.255'], { mode: 'broadcast', address: '10.0.0.255' }],
    [['--mode', 'unicast', '--address', 'receiver.local'], { mode: 'unicast', address: 'receiver.local' }],
  ])('%j sends to the address', (argv, destination) => {
    expect(resolve(argv).destination).toEqual(destination)
  })

  it.each([
    [['--input', '-'], { kind: 'input', path: '-' }],
    [['--replay', 'run.rec', '--speed', '2'], { kind: 'replay', path: 'run.rec', speed: 2 }],
    [['--raw'], { kind: 'raw', path: '-' }],
    [['--raw', '--input', 'blob.bin'], { kind: 'raw', path: 'blob.bin' }],
  ])('%j picks the source', (argv, source) => {
    expect(resolve(argv).source).toEqual(source)
  })

  it.each([
    ['0', 0],
    ['0.25', 0.25],
    ['1ms', 1],
  ])('--batch-linger %s is %d ms', (value, ms) => {
    expect(resolve(['--batch-linger', value]).batchLinger).toBe(ms)
  })

  it('accepts the transport budget limits and a camera image that receivers take', () => {
    expect(resolve(['--budget', '512']).budget).toBe(512)
    expect(resolve(['--budget', '65507']).budget).toBe(65_507)
    expect(resolve(['--budget', '65488', '--ipv6', '--interface', '::1']).budget).toBe(65_488)
    expect(resolve(['--camera-size', '4096x4096']).source).toMatchObject({
      cameraSize: { width: 4096, height: 4096 },
    })
    // Without the camera its size does not matter.
    expect(resolve(['--sensors', 'imu', '--camera-size', '8192x8192']).source).toMatchObject({
      kind: 'sensors',
    })
  })

  it('keeps 64 MiB of large frames for repair by default; --repair-window sizes it, 0 turns it off', () => {
    expect(publisherOptions(resolve([]), true).repair).toEqual({ windowBytes: 64 * 1024 * 1024 })
    expect(publisherOptions(resolve(['--repair-window', '8MiB']), true).repair).toEqual({
      windowBytes: 8 * 1024 * 1024,
    })
    expect(publisherOptions(resolve(['--repair-window', '0']), true).repair).toBe(false)
    expect(refusal(['--repair-window', 'lots']).flag).toBe('--repair-window')
  })

  it('--repair-rate and --repair-rate-per-receiver cap what NACKs make it resend', () => {
    expect(
      publisherOptions(resolve(['--repair-rate', '8MiB', '--repair-rate-per-receiver', '1MiB']), true).repair,
    ).toMatchObject({ bytesPerSecond: 8 * 1024 * 1024, bytesPerSecondPerRequester: 1024 * 1024 })
    expect(refusal(['--repair-rate', '0']).flag).toBe('--repair-rate')
    expect(refusal(['--repair-rate-per-receiver', 'fast']).flag).toBe('--repair-rate-per-receiver')
    expect(refusal(['--raw', '--repair-rate', '1MiB']).flag).toBe('--repair-rate')
  })

  it('heartbeats: --heartbeat-max sets the longest wait, --no-heartbeat and --raw send none', () => {
    expect(publisherOptions(resolve(['--heartbeat-max', '5s']), true).heartbeat).toEqual({ maxMs: 5_000 })
    expect(publisherOptions(resolve(['--no-heartbeat']), true).heartbeat).toBe(false)
    expect(refusal(['--raw', '--heartbeat-max', '2s']).flag).toBe('--heartbeat-max')
    expect(refusal(['--heartbeat-max', '1ms']).flag).toBe('--heartbeat-max')
  })

  it('flow control: min by default; --flow, --min-receivers, --receiver-timeout; none turns it off', () => {
    expect(publisherOptions(resolve([]), true).flow).toEqual({
      strategy: 'min',
      groupSize: 0,
      receiverTimeoutMs: 2_000,
    })
    expect(
      publisherOptions(
        resolve(['--flow', 'max', '--min-receivers', '3', '--receiver-timeout', '500ms']),
        true,
      ).flow,
    ).toEqual({
      strategy: 'max',
      groupSize: 3,
      receiverTimeoutMs: 500,
    })
    expect(publisherOptions(resolve(['--flow', 'none']), true).flow).toBe(false)
    expect(refusal(['--flow', 'fastest']).flag).toBe('--flow')
    expect(refusal(['--min-receivers', '-1']).flag).toBe('--min-receivers')
    expect(refusal(['--flow', 'none', '--min-receivers', '2']).flag).toBe('--min-receivers')
    expect(refusal(['--raw', '--flow', 'max']).flag).toBe('--flow')
    expect(refusal(['--repair-window', '0', '--flow', 'min']).flag).toBe('--flow')
  })

  it('--expect implies --ack, and takes NAME@ADDRESS', () => {
    expect(resolve(['--expect', 'rx-1,rx-2'])).toMatchObject({ ack: true, expect: ['rx-1', 'rx-2'] })
    expect(resolve(['--expect', 'rx-1@10.0.0.2,rx-2@[fd77::2]']).expect).toEqual([
      'rx-1@10.0.0.2',
      'rx-2@[fd77::2]',
    ])
    expect(refusal(['--expect', 'rx-1@nowhere']).flag).toBe('--expect')
    expect(refusal(['--expect', 'rx 1']).flag).toBe('--expect')
  })

  it.each([
    [['--mode', 'unicast'], '--address', '--mode unicast needs --address <host>'],
    [['--address', '10.0.0.7'], '--address', '--address is for --mode broadcast or unicast'],
    [
      ['--mode', 'unicast', '--address', 'h', '--group', '239.1.1.1'],
      '--group',
      '--group is for --mode multicast',
    ],
    [['--mode', 'broadcast', '--ipv6', '--address', 'ff02::1'], '--ipv6', 'IPv6 has no broadcast'],
    [['--ipv6', '--interface', '::1', '--group', '239.1.1.1'], '--group', 'is not an IPv6 group'],
    [['--mode', 'unicast', '--address', '::1'], '--address', 'is not an IPv4 address; add --ipv6'],
    [['--input', 'a', '--sensors', 'imu'], '--sensors', '--input and --sensors cannot be used together'],
    [['--raw', '--replay', 'x'], '--raw', '--raw sends stdin'],
    [['--speed', '2'], '--speed', '--speed applies to --replay'],
    [['--sensors', 'gps', '--rate', 'imu=5'], '--rate', 'names a sensor not in --sensors gps'],
    [['--sensors', ''], '--sensors', '--sensors needs at least one of imu, gps, temperature, camera'],
    [
      ['--input', '-', '--rate', 'imu=5'],
      '--rate',
      '--rate applies to the simulated sensors, not to --input',
    ],
    [['--replay', 'r', '--camera-size', '8x8'], '--camera-size', 'not to --replay'],
    [['--raw', '--rate', 'imu=5'], '--rate', 'not to --raw'],
    [['--raw', '--batch-linger', '1'], '--batch-linger', '--raw sends one frame per datagram'],
    [['--replay', 'r', '--batch-linger', '1'], '--batch-linger', '--replay sends one frame per datagram'],
    [['--raw', '--ack'], '--ack', '--raw sends plain datagrams'],
    [['--raw', '--repair-window', '1MiB'], '--repair-window', 'never fragmented or repaired'],
    [['--raw', '--expect', 'r1'], '--expect', '--raw sends plain datagrams'],
    [
      ['--ipv6', '--interface', '::1', '--budget', '65500'],
      '--budget',
      'more than an IPv6 datagram holds (65488 bytes)',
    ],
    [['--camera-size', '8192x4096'], '--camera-size', 'receivers accept messages up to 67108864 bytes'],
  ])('%j is refused naming %s', (argv, flag, message) => {
    const error = refusal(argv)
    expect(error.flag).toBe(flag)
    expect(error.message).toContain(message)
  })

  it.each([
    [['--rate', 'imu=0'], '--rate'],
    [['--rate', 'imu'], '--rate'],
    [['--camera-size', '640*480'], '--camera-size'],
    [['--camera-size', '0x480'], '--camera-size'],
    [['--sensors', 'lidar'], '--sensors'],
    [['--budget', '32'], '--budget'],
    [['--budget', '511'], '--budget'],
    [['--budget', '65508'], '--budget'],
    [['--batch-linger', '1.5ms'], '--batch-linger'],
    [['--batch-linger', '-1'], '--batch-linger'],
    [['--batch-linger', '1s'], '--batch-linger'],
    [['--count', '0'], '--count'],
    [['--duration', '0'], '--duration'],
    [['--speed', '-1'], '--speed'],
    [['--source-id', 'has space'], '--source-id'],
  ])('%j is an invalid value of %s', (argv, flag) => {
    const error = refusal(argv)
    expect(error.code).toBe('SHOAL_CONFIG_INVALID_VALUE')
    expect(error.flag).toBe(flag)
  })
})

describe('keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-send-keys-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'group.key')
  writeFileSync(file, `1 ${'0f'.repeat(32)}\n7 ${'e1'.repeat(32)}\n`, { mode: 0o600 })

  it('--key-file seals, encrypting unless --seal authenticate; the publisher gets the keyring', () => {
    const config = resolve(['--key-file', file])
    expect(config.seal).toMatchObject({ mode: 'encrypt', keyFile: file })
    expect(config.seal?.keyring.sealing()?.id).toBe(7)
    expect(publisherOptions(config, true).seal).toEqual({ keyring: config.seal?.keyring, mode: 'encrypt' })
    expect(resolve(['--seal', 'authenticate'], { SHOAL_KEY_FILE: file }).seal?.mode).toBe('authenticate')
    expect(resolve([]).seal).toBeUndefined()
    expect(publisherOptions(resolve([]), true).seal).toBeUndefined()
  })

  it.each([
    [['--seal', 'encrypt'], '--seal', /--seal encrypt needs --key-file/],
    [
      ['--seal', 'both', '--key-file', 'x'],
      '--seal',
      /invalid --seal both: expected one of encrypt, authenticate/,
    ],
    [['--raw', '--key-file', 'x'], '--key-file', /--raw sends other programs' bytes/],
    [
      ['--key-file', join(tmpdir(), 'shoal-no-such-key')],
      '--key-file',
      /cannot read --key-file .*: no such file/,
    ],
  ])('%j exits 2 naming %s', (argv, flag, message) => {
    const error = refusal(argv)
    expect(error.flag).toBe(flag)
    expect(error.message).toMatch(message)
  })
})

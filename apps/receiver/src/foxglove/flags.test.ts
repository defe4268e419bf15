import { configHarness } from '@shoal/service/testing'
import { describe, expect, it } from 'vitest'
import { receiverFlags, resolveReceiverConfig } from '../config.js'
import { isLoopback } from './attach.js'
import { FOXGLOVE_MAX_CLIENTS, FOXGLOVE_SEND_BUFFER_BYTES } from './limits.js'

const { resolve, refusal } = configHarness(receiverFlags, resolveReceiverConfig)

describe('--foxglove flags', () => {
  it('are off by default; with a port, bind loopback with the default limits', () => {
    expect(resolve([]).foxglove).toBeUndefined()
    expect(resolve(['--foxglove', '8765'])).toMatchObject({
      foxglove: 8765,
      foxgloveHost: '127.0.0.1',
      foxgloveMaxClients: FOXGLOVE_MAX_CLIENTS,
      foxgloveSendBuffer: FOXGLOVE_SEND_BUFFER_BYTES,
    })
  })

  it('take another address, client count and buffer, from flags or the environment', () => {
    expect(
      resolve(['--foxglove', '0', '--foxglove-host', '::1', '--foxglove-max-clients', '2'], {
        SHOAL_FOXGLOVE_SEND_BUFFER: '1MiB',
      }),
    ).toMatchObject({
      foxglove: 0,
      foxgloveHost: '::1',
      foxgloveMaxClients: 2,
      foxgloveSendBuffer: 1024 ** 2,
    })
  })

  it.each([
    [['--foxglove', '65536'], '--foxglove', 'expected an integer 0-65535'],
    [
      ['--foxglove', '1', '--foxglove-host', 'localhost'],
      '--foxglove-host',
      'expected an IPv4 or IPv6 address',
    ],
    [['--foxglove', '1', '--foxglove-max-clients', '0'], '--foxglove-max-clients', 'expected an integer'],
    [['--foxglove', '1', '--foxglove-send-buffer', '1KiB'], '--foxglove-send-buffer', 'at least 64KiB'],
    [['--foxglove-host', '0.0.0.0'], '--foxglove-host', 'needs --foxglove <port>'],
    [['--foxglove-max-clients', '3'], '--foxglove-max-clients', 'needs --foxglove <port>'],
    [['--foxglove-send-buffer', '1MiB'], '--foxglove-send-buffer', 'needs --foxglove <port>'],
    [['--raw', '--foxglove', '1'], '--foxglove', '--foxglove needs Shoal frames'],
    [['--foxglove', '1', '--foxglove-origin', 'https://a.example/path'], '--foxglove-origin', 'no path'],
    [['--foxglove', '1', '--foxglove-origin', 'a.example'], '--foxglove-origin', 'expected a web origin'],
    [['--foxglove-origin', '*'], '--foxglove-origin', 'needs --foxglove <port>'],
    [
      [
        '--foxglove',
        '1',
        '--foxglove-origin',
        Array.from({ length: 33 }, (_, i) => `http://h${i}`).join(','),
      ],
      '--foxglove-origin',
      'at most 32 origins',
    ],
  ])('%j is refused naming %s', (argv, flag, message) => {
    const error = refusal(argv)
    expect(error.flag).toBe(flag)
    expect(error.message).toContain(message)
  })
})

it('--foxglove-origin takes origins to let in', () => {
  expect(
    resolve(['--foxglove', '1', '--foxglove-origin', 'http://localhost:8080', '--foxglove-origin', 'file://'])
      .foxgloveOrigin,
  ).toEqual(['http://localhost:8080', 'file://'])
  expect(resolve(['--foxglove', '1']).foxgloveOrigin).toEqual([])
})

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.1', false],
    ['fe80::1', false],
  ])('%s → %s', (address, loopback) => {
    expect(isLoopback(address)).toBe(loopback)
  })
})

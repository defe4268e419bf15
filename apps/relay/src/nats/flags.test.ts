import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configHarness } from '@shoal/service/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { relayFlags, resolveRelayConfig, routeSpec } from '../config.js'

const { resolve, refusal } = configHarness(relayFlags, resolveRelayConfig)
const parse = (direction: 'in' | 'out', spec: string) => {
  const result = routeSpec(direction).safeParse(spec)
  return result.success ? { ok: result.data } : { error: result.error.issues[0]?.message }
}
const group = 'multicast://239.1.1.1:7400?interface=127.0.0.1'

describe('nats:// routes', () => {
  it('reads host, port, prefix, topic= and jetstream', () => {
    expect(parse('out', 'nats://127.0.0.1:4333/site-a.shoal?topic=sensors/*').ok).toMatchObject({
      scheme: 'nats',
      host: '127.0.0.1',
      port: 4333,
      prefix: 'site-a.shoal',
      topics: ['sensors/*'],
      jetstream: undefined,
    })
    expect(parse('out', 'nats://nats.example/shoal?jetstream').ok?.jetstream).toBe('SHOAL_shoal')
    expect(parse('out', 'nats://nats.example/a.b?jetstream=capture-1').ok?.jetstream).toBe('capture-1')
    expect(resolve(['--in', group, '--out', 'nats://localhost/shoal']).outputs[0]!.port).toBe(4222)
  })

  it.each([
    ['out', 'nats://127.0.0.1:4222', /prefix/],
    ['out', 'nats://127.0.0.1/a..b', /prefix/],
    ['out', 'nats://127.0.0.1/a/b', /prefix/],
    ['out', 'nats://127.0.0.1/a*', /prefix/],
    ['out', 'nats://u:secret@127.0.0.1/a', /no credentials in the route/],
    ['in', 'nats://127.0.0.1/a?jetstream', /takes no option jetstream/],
    ['out', 'nats://127.0.0.1/a?jetstream=a.b', /stream name/],
    ['out', 'nats://127.0.0.1/a?interface=lo', /takes no option interface/],
  ] as const)('%s %s is refused', (direction, spec, message) => {
    const parsed = parse(direction, spec)
    expect(parsed.error).toMatch(message)
    expect(parsed.error ?? '').not.toContain('secret')
  })

  it.each([
    [['--in', 'nats://127.0.0.1/a', '--out', 'nats://127.0.0.1/b'], '--in', 'needs a multicast://'],
    [
      ['--in', 'udp://127.0.0.1:7401', '--out', 'nats://127.0.0.1/b', '--out', group],
      '--in',
      'cannot feed both',
    ],
    [
      ['--in', group, '--out', 'nats://127.0.0.1/a', '--nats-password', 'pw'],
      '--nats-password',
      'needs --nats-user',
    ],
    [
      ['--in', group, '--out', 'nats://127.0.0.1/a', '--nats-user', 'u'],
      '--nats-user',
      'needs --nats-password',
    ],
    [
      [
        '--in',
        group,
        '--out',
        'nats://127.0.0.1/a',
        '--nats-user',
        'u',
        '--nats-password',
        'pw',
        '--nats-token',
        't',
      ],
      '--nats-token',
      'give one of',
    ],
    [
      ['--in', group, '--out', 'nats://127.0.0.1/a', '--nats-tls-cert', '/x'],
      '--nats-tls-cert',
      'go together',
    ],
    [
      ['--in', group, '--out', 'nats://127.0.0.1/a', '--nats-creds', '/nonexistent/x.creds'],
      '--nats-creds',
      'cannot read',
    ],
  ])('%j is refused naming %s', (argv, flag, message) => {
    const error = refusal(argv)
    expect(error.flag).toBe(flag)
    expect(error.message).toContain(message)
    expect(error.message).not.toContain('pw')
  })

  describe('credentials and limits', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-relay-nats-'))
    afterAll(() => rmSync(dir, { recursive: true, force: true }))
    const ca = join(dir, 'ca.pem')
    writeFileSync(ca, 'not checked here\n')

    it('passes credentials, TLS files and stream limits through', () => {
      const config = resolve(
        [
          '--in',
          group,
          '--out',
          'nats://127.0.0.1/a?jetstream',
          '--nats-user',
          'relay',
          '--nats-tls-ca',
          ca,
          '--nats-stream-max-bytes',
          '64MiB',
          '--nats-stream-max-age',
          '2h',
          '--nats-stream-max-msgs',
          '5000',
        ],
        { SHOAL_NATS_PASSWORD: 'from-env' },
      )
      expect(config.nats.auth).toMatchObject({
        user: 'relay',
        password: 'from-env',
        tlsCa: ca,
        token: undefined,
      })
      expect(config.nats.stream).toEqual({ maxBytes: 64 * 1024 ** 2, maxAgeMs: 2 * 3_600_000, maxMsgs: 5000 })
      expect(resolve(['--in', group, '--out', 'nats://127.0.0.1/a']).nats.stream).toEqual({
        maxBytes: 1024 ** 3,
        maxAgeMs: 24 * 3_600_000,
        maxMsgs: 10_000_000,
      })
    })
  })
})

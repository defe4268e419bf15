import { configHarness } from '@shoal/service/testing'
import { describe, expect, it } from 'vitest'
import { DEFAULT_GROUP, DEFAULT_OUT_GROUP, resolveThrottleConfig, throttleFlags } from './config.js'
import { MAX_RULES } from './rules.js'

const { resolve, refusal } = configHarness(throttleFlags, resolveThrottleConfig)

describe('shoal-throttle config', () => {
  it('defaults: every topic from one group to another, no rules, unmatched topics pass', () => {
    const config = resolve([])
    expect(config).toMatchObject({
      group: [DEFAULT_GROUP],
      outGroup: DEFAULT_OUT_GROUP,
      topic: ['*'],
      port: 7400,
      outPort: 7400,
      rules: [],
      unmatched: 'pass',
    })
    expect(config.outInterface.spec).toBe(config.interface.spec)
  })

  it('collects repeated --rate and --latest rules, from flags and SHOAL_* variables', () => {
    const config = resolve(
      ['--rate', 'imu=10', '--rate', 'sensors/*=0.5', '--latest', 'camera', '--unmatched', 'drop'],
      {
        SHOAL_OUT_GROUP: '239.1.2.3',
      },
    )
    expect(config.rules.map((r) => [r.kind, r.topic, r.hz])).toEqual([
      ['rate', 'imu', 10],
      ['rate', 'sensors/*', 0.5],
      ['latest', 'camera', 1],
    ])
    expect(config).toMatchObject({ unmatched: 'drop', outGroup: '239.1.2.3' })
  })

  it.each([
    [['--group', '239.9.9.9', '--out-group', '239.9.9.9'], '--out-group', /also an input/],
    [['--rate', 'imu'], '--rate', /expected TOPIC=HZ/],
    [['--latest', 'cam=0'], '--latest', /expected TOPIC or TOPIC=HZ/],
    [['--rate', 'imu=1', '--latest', 'imu'], '--latest', /imu already has a rule \(--rate imu=1\)/],
    [['--unmatched', 'keep'], '--unmatched', /expected one of pass, drop/],
    [[...Array(MAX_RULES + 1).keys()].flatMap((i) => ['--rate', `t${i}=1`]), '--rate', /at most 64/],
    [['--proto', '/nonexistent/wind.proto'], '--proto', /wind\.proto: ENOENT/],
  ])('refuses %j with exit 2, naming %s', (argv, flag, message) => {
    const error = refusal(argv)
    expect(error.flag).toBe(flag)
    expect(error.exitCode).toBe(2)
    expect(error.message).toMatch(message)
  })
})

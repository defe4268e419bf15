import { configHarness } from '@shoal/service/testing'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_GROUP,
  DEFAULT_OUT_GROUP,
  DEFAULT_TOPICS,
  resolveThrottleConfig,
  throttleFlags,
} from './config.js'

const { resolve, refusal } = configHarness(throttleFlags, resolveThrottleConfig)

describe('shoal-throttle config', () => {
  it('defaults: input on one group, output on another, the same port and interface', () => {
    const config = resolve([])
    expect(config).toMatchObject({
      group: [DEFAULT_GROUP],
      outGroup: DEFAULT_OUT_GROUP,
      topic: DEFAULT_TOPICS,
      port: 7400,
      outPort: 7400,
    })
    expect(config.outInterface.spec).toBe(config.interface.spec)
  })

  it('takes flags and SHOAL_* variables', () => {
    expect(
      resolve(['--out-port', '7500', '--topic', 'a,b/*'], { SHOAL_OUT_GROUP: '239.1.2.3' }),
    ).toMatchObject({
      outPort: 7500,
      topic: ['a', 'b/*'],
      outGroup: '239.1.2.3',
    })
  })

  it('refuses an output that is also an input, naming the flag', () => {
    const error = refusal(['--group', '239.9.9.9', '--out-group', '239.9.9.9'])
    expect(error.flag).toBe('--out-group')
    expect(error.exitCode).toBe(2)
  })

  it('refuses a filter as --out-topic and a bad --topic', () => {
    expect(refusal(['--out-topic', 'a/*']).flag).toBe('--out-topic')
    expect(refusal(['--topic', 'a b']).flag).toBe('--topic')
  })
})

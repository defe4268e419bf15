import { configHarness } from '@shoal/service/testing'
import { expect, it } from 'vitest'
import { resolveThrottleConfig, throttleFlags } from './config.js'
import { throttleDoctorTargets } from './doctor.js'

it('--doctor checks every input group as a receiver and the output group as a sender', () => {
  const { resolve } = configHarness(throttleFlags, resolveThrottleConfig)
  const config = resolve(['--group', '239.1.1.1,239.1.1.2', '--out-group', '239.2.2.2', '--out-port', '7500'])
  expect(throttleDoctorTargets(config).map((t) => [t.role, t.address, t.port])).toEqual([
    ['receive', '239.1.1.1', 7400],
    ['receive', '239.1.1.2', 7400],
    ['send', '239.2.2.2', 7500],
  ])
})

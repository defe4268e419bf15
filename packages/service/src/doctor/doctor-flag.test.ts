import { EventEmitter } from 'node:events'
import { describe, expect, it, vi } from 'vitest'
import { commonFlags } from '../common-flags.js'
import { runService, type ServiceDefinition } from '../run-service.js'
import { fakeDoctorEnv } from '../testing/doctor-env.js'
import { MemorySink } from '../testing/memory-sink.js'
import type { DoctorTarget } from './types.js'

type Config = { readonly port: number; readonly interface: DoctorTarget['interface'] }

function run(argv: string[], doctor?: ServiceDefinition<typeof commonFlags, Config>['doctor']) {
  const stdout = new MemorySink()
  const stderr = new MemorySink()
  const start = vi.fn(() => ({ stop: async () => {}, summary: () => 'nothing' }))
  const env = fakeDoctorEnv({ files: { '/sys/class/net/lo/flags': '0x9', '/sys/class/net/lo/mtu': '65536' } })
  const code = runService(
    {
      name: 'shoal-test',
      version: '1.0.0',
      description: 'A test service.',
      flags: commonFlags,
      resolve: (values) => ({ port: values.port, interface: values.interface }),
      start,
      ...(doctor === undefined ? {} : { doctor }),
    },
    { argv, env: {}, stdout, stderr, events: new EventEmitter(), exit: () => {}, doctorEnv: env },
  )
  return { code, stdout, stderr, start }
}

const target = (config: Config): DoctorTarget[] => [
  { role: 'send', mode: 'unicast', family: 4, interface: config.interface, port: config.port },
]

describe('--doctor', () => {
  it('runs the checks for the flags given instead of the service, and exits 0 when all pass', async () => {
    const { code, stdout, start } = run(['--doctor', '--interface', '127.0.0.1', '--port', '7411'], target)
    expect(await code).toBe(0)
    expect(start).not.toHaveBeenCalled()
    expect(stdout.text).toContain('ok    interface lo is up, loopback, mtu 65536\n')
    expect(stdout.text).toMatch(/all \d+ checks passed\n$/)
  })

  it('exits 1 when a check fails', async () => {
    const { code, stdout } = run(['--doctor', '--port', '7411'], (config) => [
      { ...target(config)[0]!, interface: { spec: 'v-x', name: 'v-x', addresses: [] } },
    ])
    expect(await code).toBe(1)
    expect(stdout.text).toContain('FAIL  interface: no interface v-x → fix: ip link show\n')
  })

  it('still exits 2 on an invalid flag, and on a service without a doctor', async () => {
    const invalid = run(['--doctor', '--port', '99999'], target)
    expect(await invalid.code).toBe(2)
    expect(invalid.stderr.text).toContain('--port')
    const none = run(['--doctor'])
    expect(await none.code).toBe(2)
    expect(none.stderr.text).toContain('--doctor is not available')
  })
})

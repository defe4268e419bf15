import { describe, expect, it } from 'vitest'
import { fakeDoctorEnv } from '../testing/doctor-env.js'
import { formatCheck, runDoctor } from './run.js'
import type { DoctorTarget } from './types.js'

const target: DoctorTarget = {
  role: 'send',
  mode: 'multicast',
  family: 4,
  interface: { spec: 'v-a', name: 'v-a', addresses: [] },
  address: '239.255.0.1',
  port: 7400,
}
const healthy = {
  files: {
    '/sys/class/net/v-a/flags': '0x1003\n',
    '/sys/class/net/v-a/operstate': 'up\n',
    '/sys/class/net/v-a/mtu': '1500\n',
    '/proc/net/igmp': '2\tv-a       :     1      V3\n\t\t\t\t0100FFEF     1 0:00000000\t\t0\n',
  },
  commands: {
    'ip route get 239.255.0.1': { stdout: 'multicast 239.255.0.1 dev v-a table local src 10.77.1.1\n' },
    'iptables -S': { stdout: '-P INPUT ACCEPT\n-P OUTPUT ACCEPT\n' },
  },
}

async function doctor(env: ReturnType<typeof fakeDoctorEnv>, targets = [target]) {
  const lines: string[] = []
  const code = await runDoctor(targets, env, (line) => lines.push(line))
  return { code, lines }
}

describe('runDoctor', () => {
  it('prints one line per check and exits 0 when all pass', async () => {
    const env = fakeDoctorEnv(healthy)
    const { code, lines } = await doctor(env)
    expect(code).toBe(0)
    expect(lines).toEqual([
      'ok    interface v-a is up, MULTICAST, mtu 1500',
      'ok    mtu 1500: datagrams up to 1472 bytes; larger frames are split into fragments by Shoal',
      'ok    239.255.0.1 routes via v-a',
      'skip  rmem: sends only: no receive buffer to size',
      'ok    no rule drops udp port 7400 (iptables)',
      'ok    the join of 239.255.0.1 shows on v-a in /proc/net/igmp',
      'ok    sent and received one frame on 239.255.0.1:7400 on v-a',
      'all 7 checks passed',
    ])
    expect(env.probes).toEqual({ opened: 1, closed: 1 })
  })

  it('exits 1 with the fix when a check fails, and when the frame does not come back', async () => {
    const noMulticast = { ...healthy, files: { ...healthy.files, '/sys/class/net/v-a/flags': '0x3\n' } }
    const { code, lines } = await doctor(fakeDoctorEnv(noMulticast))
    expect(code).toBe(1)
    expect(lines[0]).toMatch(/^FAIL {2}interface: .* → fix: ip link set v-a multicast on$/)
    expect(lines.at(-1)).toBe('1 of 7 checks failed')

    const lost = await doctor(fakeDoctorEnv({ ...healthy, probe: 'lost' }))
    expect(lost.code).toBe(1)
    expect(lost.lines.at(-2)).toMatch(
      /^FAIL {2}self-test: sent one frame to 239.255.0.1:7400 on v-a and it did not come back/,
    )
  })

  it('reports a probe that cannot open as a failed join and self-test', async () => {
    const env = fakeDoctorEnv({ ...healthy, probe: new Error('bind EADDRNOTAVAIL') })
    const { code, lines } = await doctor(env)
    expect(code).toBe(1)
    expect(lines.filter((line) => line.startsWith('FAIL'))).toHaveLength(2)
    expect(lines.at(-2)).toContain('bind EADDRNOTAVAIL')
  })

  it('heads each labelled target and indents its checks; skips the self-test for unicast', async () => {
    const unicast: DoctorTarget = {
      ...target,
      label: '--out unicast://10.0.0.7',
      mode: 'unicast',
      address: '10.0.0.7',
    }
    const { lines } = await doctor(fakeDoctorEnv(healthy), [unicast])
    expect(lines[0]).toBe('--out unicast://10.0.0.7:')
    expect(lines.slice(1, -1).every((line) => line.startsWith('  '))).toBe(true)
    expect(lines).toContain('  skip  self-test: not run for unicast: it sends to a group')
  })
})

describe('formatCheck', () => {
  it('writes ok, FAIL with the fix, or skip', () => {
    expect(formatCheck({ name: 'x', ok: true, detail: 'fine' })).toBe('ok    fine')
    expect(formatCheck({ name: 'x', ok: false, detail: 'bad', fix: 'do it' })).toBe(
      'FAIL  x: bad → fix: do it',
    )
    expect(formatCheck({ name: 'x', ok: true, skipped: true, detail: 'n/a' })).toBe('skip  x: n/a')
  })
})

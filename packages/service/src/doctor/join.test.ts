import { describe, expect, it } from 'vitest'
import { fakeDoctorEnv } from '../testing/doctor-env.js'
import { checkJoin, expandIpv6, parseIgmp, parseIgmp6 } from './join.js'
import type { DoctorTarget } from './types.js'

// /proc/net/igmp of a namespace with lo and v-a, v-a having joined 239.255.0.1 (little-endian host).
const IGMP = `Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter
1\tlo        :     1      V3
\t\t\t\t010000E0     1 0:00000000\t\t0
2\tv-a       :     2      V3
\t\t\t\t0100FFEF     1 0:00000000\t\t0
\t\t\t\t010000E0     1 0:00000000\t\t0
`
const IGMP6 = `1    lo              ff020000000000000000000000000001     1 0000000C 0
2    v-a             ff150000000000000000000000000001     1 00000004 0
2    v-a             ff020000000000000000000000000001     1 0000000C 0
`
const target: DoctorTarget = {
  role: 'receive',
  mode: 'multicast',
  family: 4,
  interface: { spec: 'v-a', name: 'v-a', addresses: [] },
  address: '239.255.0.1',
  port: 7400,
}

describe('parsing the kernel’s membership tables', () => {
  it('reads /proc/net/igmp groups per device, in the host’s byte order', () => {
    const table = parseIgmp(IGMP, 'LE')
    expect([...(table.get('v-a') ?? [])]).toEqual(['239.255.0.1', '224.0.0.1'])
    expect([...(table.get('lo') ?? [])]).toEqual(['224.0.0.1'])
    expect([...(parseIgmp(IGMP, 'BE').get('lo') ?? [])]).toEqual(['1.0.0.224'])
  })

  it('reads /proc/net/igmp6 and expands addresses the way it prints them', () => {
    expect(parseIgmp6(IGMP6).get('v-a')?.has(expandIpv6('ff15::1'))).toBe(true)
    expect(expandIpv6('ff02::1:ff00:1')).toBe('ff0200000000000000000001ff000001')
    expect(expandIpv6('FF15:0:0:0:0:0:0:1')).toBe('ff150000000000000000000000000001')
  })
})

describe('checkJoin', () => {
  it('passes when the group is listed on the interface', () => {
    const env = fakeDoctorEnv({ files: { '/proc/net/igmp': IGMP } })
    expect(checkJoin(target, env, true)).toMatchObject({ ok: true })
    const env6 = fakeDoctorEnv({ files: { '/proc/net/igmp6': IGMP6 } })
    expect(checkJoin({ ...target, family: 6, address: 'ff15::1' }, env6, true).ok).toBe(true)
  })

  it('fails when it is listed elsewhere or not at all, or the join failed', () => {
    const env = fakeDoctorEnv({ files: { '/proc/net/igmp': IGMP } })
    const elsewhere = checkJoin(
      { ...target, address: '224.0.0.1', interface: { spec: 'x', name: 'x', addresses: [] } },
      env,
      true,
    )
    expect(elsewhere).toMatchObject({ ok: false, fix: 'ip maddress show dev x' })
    expect(elsewhere.detail).toContain('it does on lo, v-a')
    expect(checkJoin({ ...target, address: '239.1.1.1' }, env, true).ok).toBe(false)
    expect(checkJoin(target, env, false).ok).toBe(false)
  })

  it('skips what is not multicast', () => {
    expect(checkJoin({ ...target, mode: 'unicast' }, fakeDoctorEnv(), true).skipped).toBe(true)
  })
})

import { describe, expect, it } from 'vitest'
import { fakeDoctorEnv } from '../testing/doctor-env.js'
import { checkInterface, checkMtu } from './interface.js'
import type { DoctorTarget } from './types.js'

const iface = { spec: 'v-a', name: 'v-a', addresses: [] }
const target: DoctorTarget = {
  role: 'receive',
  mode: 'multicast',
  family: 4,
  interface: iface,
  address: '239.255.0.1',
  port: 7400,
}
const sys = (flags: string, operstate = 'up', mtu = '1500') => ({
  '/sys/class/net/v-a/flags': `${flags}\n`,
  '/sys/class/net/v-a/operstate': `${operstate}\n`,
  '/sys/class/net/v-a/mtu': `${mtu}\n`,
})

describe('checkInterface', () => {
  it('passes an interface that is up with MULTICAST', () => {
    const check = checkInterface(target, fakeDoctorEnv({ files: sys('0x1003') }))
    expect(check).toEqual({ name: 'interface', ok: true, detail: 'interface v-a is up, MULTICAST, mtu 1500' })
  })

  it('fails an interface without MULTICAST, with the command that turns it on', () => {
    const check = checkInterface(target, fakeDoctorEnv({ files: sys('0x3') }))
    expect(check.ok).toBe(false)
    expect(check.fix).toBe('ip link set v-a multicast on')
  })

  it('needs no MULTICAST flag for unicast, nor on loopback', () => {
    expect(checkInterface({ ...target, mode: 'unicast' }, fakeDoctorEnv({ files: sys('0x3') })).ok).toBe(true)
    expect(checkInterface(target, fakeDoctorEnv({ files: sys('0x9', 'unknown') }))).toMatchObject({
      ok: true,
      detail: 'interface v-a is up, loopback, mtu 1500',
    })
  })

  it('fails an interface that is down, or whose link is', () => {
    expect(checkInterface(target, fakeDoctorEnv({ files: sys('0x1002', 'down') }))).toMatchObject({
      ok: false,
      fix: 'ip link set v-a up',
    })
    expect(checkInterface(target, fakeDoctorEnv({ files: sys('0x1003', 'lowerlayerdown') }))).toMatchObject({
      ok: false,
      detail: expect.stringContaining('lowerlayerdown'),
    })
  })

  it('fails an interface that does not exist', () => {
    expect(checkInterface(target, fakeDoctorEnv())).toMatchObject({ ok: false, detail: 'no interface v-a' })
  })
})

describe('checkMtu', () => {
  it('says what a datagram may carry: MTU less the IP and UDP headers', () => {
    expect(checkMtu(target, fakeDoctorEnv({ files: sys('0x1003') })).detail).toContain('up to 1472 bytes')
    const v6 = checkMtu({ ...target, family: 6 }, fakeDoctorEnv({ files: sys('0x1003') }))
    expect(v6.detail).toContain('up to 1452 bytes')
  })

  it('fails a --budget larger than the MTU carries', () => {
    const check = checkMtu({ ...target, budget: 9000 }, fakeDoctorEnv({ files: sys('0x1003') }))
    expect(check).toMatchObject({ ok: false, fix: '--budget 1472 (or ip link set v-a mtu 9028)' })
  })

  it('fails an MTU too small for the smallest datagram Shoal sends', () => {
    const check = checkMtu(target, fakeDoctorEnv({ files: sys('0x1003', 'up', '400') }))
    expect(check).toMatchObject({ ok: false, fix: 'ip link set v-a mtu 540' })
  })

  it('skips an unreadable MTU', () => {
    expect(checkMtu(target, fakeDoctorEnv()).skipped).toBe(true)
  })
})

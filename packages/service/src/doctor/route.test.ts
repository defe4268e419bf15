import { describe, expect, it } from 'vitest'
import { fakeDoctorEnv } from '../testing/doctor-env.js'
import { checkRecvBuffer } from './buffer.js'
import { checkRoute } from './route.js'
import type { DoctorTarget } from './types.js'

const target: DoctorTarget = {
  role: 'receive',
  mode: 'multicast',
  family: 4,
  interface: { spec: 'v-a', name: 'v-a', addresses: [] },
  address: '239.255.0.1',
  port: 7400,
  recvBufferBytes: 8 * 1024 * 1024,
}
const routeGet = (stdout: string, status = 0, stderr = '') => ({
  commands: { 'ip route get 239.255.0.1': { status, stdout, stderr } },
})

describe('checkRoute', () => {
  it('passes a group routed out of the interface', async () => {
    const env = fakeDoctorEnv(
      routeGet('multicast 239.255.0.1 dev v-a table local src 10.77.1.1 uid 0 \n    cache <mc> \n'),
    )
    expect(await checkRoute(target, env)).toEqual({
      name: 'route',
      ok: true,
      detail: '239.255.0.1 routes via v-a',
    })
  })

  it('fails a group with no route, and says how to add one for the multicast range', async () => {
    const env = fakeDoctorEnv(routeGet('', 2, 'RTNETLINK answers: Network is unreachable\n'))
    const check = await checkRoute(target, env)
    expect(check).toMatchObject({ ok: false, fix: 'ip route add 224.0.0.0/4 dev v-a' })
    expect(check.detail).toContain('Network is unreachable')
  })

  it('asks ip -6 for IPv6 groups', async () => {
    const env = fakeDoctorEnv({
      commands: {
        'ip -6 route get ff15::1': { status: 2, stderr: 'RTNETLINK answers: Network is unreachable' },
      },
    })
    const check = await checkRoute({ ...target, family: 6, address: 'ff15::1' }, env)
    expect(check.fix).toBe('ip -6 route add ff00::/8 dev v-a')
  })

  it('lets a group routed elsewhere pass (Shoal names the interface) but not a unicast peer', async () => {
    const env = fakeDoctorEnv(routeGet('239.255.0.1 via 10.0.0.1 dev eth0 src 10.0.0.2 uid 0\n'))
    expect(await checkRoute(target, env)).toMatchObject({
      ok: true,
      detail: expect.stringContaining('via eth0, not v-a'),
    })
    const unicast = fakeDoctorEnv({
      commands: { 'ip route get 10.9.9.9': { stdout: '10.9.9.9 via 10.0.0.1 dev eth0' } },
    })
    const check = await checkRoute({ ...target, role: 'send', mode: 'unicast', address: '10.9.9.9' }, unicast)
    expect(check).toMatchObject({ ok: false, fix: 'ip route add 10.9.9.9 dev v-a' })
  })

  it('skips without iproute2, and for a listener with no destination', async () => {
    expect((await checkRoute(target, fakeDoctorEnv())).skipped).toBe(true)
    const { address: _, ...listener } = target
    expect((await checkRoute(listener, fakeDoctorEnv())).skipped).toBe(true)
  })
})

describe('checkRecvBuffer', () => {
  const rmem = (value: string) => fakeDoctorEnv({ files: { '/proc/sys/net/core/rmem_max': `${value}\n` } })

  it('passes when rmem_max allows the buffer asked, and fails with the sysctl when not', () => {
    expect(checkRecvBuffer(target, rmem('8388608')).ok).toBe(true)
    const check = checkRecvBuffer(target, rmem('212992'))
    expect(check).toMatchObject({
      ok: false,
      fix: expect.stringContaining('sysctl -w net.core.rmem_max=8388608'),
    })
    expect(check.detail).toContain('212992')
  })

  it('skips a sender, and an unreadable file', () => {
    expect(checkRecvBuffer({ ...target, role: 'send' }, rmem('1')).skipped).toBe(true)
    expect(checkRecvBuffer(target, fakeDoctorEnv()).skipped).toBe(true)
  })
})

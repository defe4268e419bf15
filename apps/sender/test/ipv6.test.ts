/**
 * `--ipv6` and the interface it sends on: refused at start (exit 2) on the default IPv4 interface,
 * and a run whose sends fail (ENETUNREACH: IPv6 multicast on a lo without a route for it) exits 1
 * naming the error. The failing run is in a private namespace (@shoal/netns), whose lo has no IPv6
 * multicast route, so it does not depend on this host's routes; nothing leaves it.
 */
import { createNetwork, type Network, requireNetns, watchProcess } from '@shoal/netns'
import { cleanEnv, requireBuilt, runCli } from '@shoal/service/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN } from './support.js'

const netns = requireNetns()
const WAIT_MS = 15_000

beforeAll(() => requireBuilt(BIN))

describe('shoal-send --ipv6', () => {
  it('on the default interface (127.0.0.1) exits 2 at start, saying why and what to pass', async () => {
    const result = await runCli(BIN, ['--ipv6', '--count', '1'])
    expect(result.code).toBe(2)
    const [first] = result.stderr.split('\n')
    expect(first).toMatch(
      /^shoal-send: --ipv6 needs an interface with an IPv6 address: the default --interface 127\.0\.0\.1 is an IPv4 address.*pass --interface NAME.*--interface ::1 to stay on this host.*ip -6 route add multicast ff00::\/8 dev lo table local\)$/,
    )
  })
})

describe.skipIf(netns.skip)('shoal-send --ipv6 in a namespace', () => {
  let net: Network
  beforeAll(async () => {
    net = await createNetwork({
      hosts: ['a', 'b'],
      segments: [{ name: 'lan', hosts: ['a', 'b'] }],
      ipv6: true,
    })
  }, 30_000)
  afterAll(() => net?.destroy())

  const send = async (args: string[]) => {
    const child = watchProcess(net.host('a').node(BIN, args, { timeoutMs: WAIT_MS * 2, env: cleanEnv() }))
    return child.waitForExit(WAIT_MS)
  }
  const base = ['--ipv6', '--group', 'ff15::7', '--count', '5', '--sensors', 'imu', '--rate', 'imu=100']

  it('on an interface with IPv6 multicast, sends and exits 0', async () => {
    const result = await send([...base, '--interface', net.host('a').ifname()])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).not.toContain('sendErrors')
  })

  it('when every send fails (ENETUNREACH on lo), exits 1 and names the error', async () => {
    const result = await send([...base, '--interface', '::1'])
    expect(result.code, result.stderr).toBe(1)
    expect(result.stderr).toMatch(/sendErrors=\d+/)
    expect(result.stderr).toMatch(/^shoal-send: error: \d+ sends? failed \(first: .*ENETUNREACH.*\)$/m)
  })
})

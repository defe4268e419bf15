/**
 * `--doctor` of the three built bundles in private namespaces (@shoal/netns), one host per way of
 * being broken, all on one segment:
 *
 *   healthy   as @shoal/netns makes it (224.0.0.0/4 routed to v-lan, MULTICAST on, no rules)
 *   noroute   without the 224.0.0.0/4 route
 *   nomc      with MULTICAST off on v-lan
 *   drop      with an iptables rule dropping the port
 *
 * The self-tests send only on v-lan, inside these namespaces. Runs one doctor at a time.
 */
import { readFileSync } from 'node:fs'
import { createNetwork, type Network, requireNetns } from '@shoal/netns'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AppName, assertBuilt, startOn, WAIT_MS } from './support.js'

const netns = requireNetns()
const PORT = 7400
const GROUP = '239.255.0.1'
/** What receivers ask the kernel for (DEFAULT_RECV_BUFFER_BYTES); rmem_max is the host's, in every namespace. */
const RECV_BUFFER_BYTES = 8 * 1024 * 1024
const rmemAllows = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8')) >= RECV_BUFFER_BYTES

describe.skipIf(netns.skip)('--doctor in namespaces made broken on purpose', () => {
  let net: Network

  beforeAll(async () => {
    assertBuilt()
    net = await createNetwork({
      hosts: ['healthy', 'noroute', 'nomc', 'drop'],
      segments: [{ name: 'lan', hosts: ['healthy', 'noroute', 'nomc', 'drop'] }],
    })
    const run = async (host: string, command: string, ...args: string[]) => {
      const result = await net.host(host).run(command, args)
      if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} on ${host}: ${result.stderr}`)
    }
    await run('noroute', 'ip', 'route', 'del', '224.0.0.0/4')
    await run('nomc', 'ip', 'link', 'set', 'v-lan', 'multicast', 'off')
    await run(
      'drop',
      'iptables',
      '-A',
      'INPUT',
      '-p',
      'udp',
      '-m',
      'udp',
      '--dport',
      String(PORT),
      '-j',
      'DROP',
    )
  }, 30_000)

  afterAll(async () => {
    await net?.destroy()
  })

  async function doctor(host: string, app: AppName, args: string[]) {
    const running = startOn(net.host(host), app, ['--doctor', ...args])
    const exit = await running.exited(WAIT_MS)
    const lines = running
      .stdout()
      .split('\n')
      .filter((line) => line !== '')
    return { code: exit.code, lines, stderr: running.stderr() }
  }
  const sender = (host: string) =>
    doctor(host, 'send', ['--interface', 'v-lan', '--group', GROUP, '--port', String(PORT)])
  const failed = (lines: string[], name: string) => lines.filter((line) => line.startsWith(`FAIL  ${name}:`))

  it('passes every check of a healthy host, the self-test included (exit 0)', async () => {
    const { code, lines, stderr } = await sender('healthy')
    expect(code, stderr).toBe(0)
    expect(lines.filter((line) => line.startsWith('FAIL'))).toEqual([])
    expect(lines).toContain('ok    interface v-lan is up, MULTICAST, mtu 1500')
    expect(lines).toContain(`ok    ${GROUP} routes via v-lan`)
    expect(lines).toContain(`ok    the join of ${GROUP} shows on v-lan in /proc/net/igmp`)
    expect(lines).toContain(`ok    sent and received one frame on ${GROUP}:${PORT} on v-lan`)
    expect(lines.at(-1)).toMatch(/^all \d+ checks passed$/)
  })

  it('checks a receiver’s buffer against rmem_max, and each route of a relay', async () => {
    const recv = await doctor('healthy', 'recv', [
      '--interface',
      'v-lan',
      '--group',
      GROUP,
      '--port',
      String(PORT),
    ])
    expect(recv.code, recv.stderr).toBe(rmemAllows ? 0 : 1)
    expect(recv.lines.filter((line) => line.startsWith('FAIL')).map((line) => line.split(':')[0])).toEqual(
      rmemAllows ? [] : ['FAIL  rmem'],
    )
    expect(recv.lines).toContain(`ok    sent and received one frame on ${GROUP}:${PORT} on v-lan`)

    const relay = await doctor('healthy', 'relay', [
      '--in',
      `multicast://${GROUP}:${PORT}?interface=v-lan`,
      '--out',
      'multicast://239.255.0.2:7401?interface=v-lan',
    ])
    expect(relay.code, relay.stderr).toBe(rmemAllows ? 0 : 1)
    expect(relay.lines).toContain(`--in multicast://${GROUP}:${PORT}?interface=v-lan:`)
    expect(relay.lines).toContain('--out multicast://239.255.0.2:7401?interface=v-lan:')
    expect(relay.lines).toContain('  ok    sent and received one frame on 239.255.0.2:7401 on v-lan')
  })

  it('fails the route where the group has none, with the command that adds it (exit 1)', async () => {
    const { code, lines } = await sender('noroute')
    expect(code).toBe(1)
    const [route] = failed(lines, 'route')
    expect(route).toContain(`no route to ${GROUP}`)
    expect(route).toMatch(/→ fix: ip route add 224\.0\.0\.0\/4 dev v-lan$/)
  })

  it('fails the interface without MULTICAST, with the command that turns it on (exit 1)', async () => {
    const { code, lines } = await sender('nomc')
    expect(code).toBe(1)
    expect(failed(lines, 'interface')).toEqual([
      "FAIL  interface: interface v-lan is up but has no MULTICAST flag: it may drop every group's frames → fix: ip link set v-lan multicast on",
    ])
  })

  it('fails the firewall and the self-test where a rule drops the port (exit 1)', async () => {
    const { code, lines } = await doctor('drop', 'recv', [
      '--interface',
      'v-lan',
      '--group',
      GROUP,
      '--port',
      String(PORT),
    ])
    expect(code).toBe(1)
    expect(failed(lines, 'firewall')).toEqual([
      `FAIL  firewall: a rule drops udp port ${PORT} (input): -A INPUT -p udp -m udp --dport ${PORT} -j DROP → fix: iptables -D INPUT -p udp -m udp --dport ${PORT} -j DROP`,
    ])
    expect(failed(lines, 'self-test')).toHaveLength(1)
    // A port no rule names passes both on the same host.
    const other = await sender('drop')
    expect(other.lines.filter((line) => line.startsWith('FAIL  firewall'))).toHaveLength(1)
    const free = await doctor('drop', 'send', [
      '--interface',
      'v-lan',
      '--group',
      GROUP,
      '--port',
      String(PORT + 1),
    ])
    expect(free.code, free.lines.join('\n')).toBe(0)
  })
})

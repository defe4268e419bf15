import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCommand } from '../src/exec.js'
import { createNetwork, type Host, type Network, requireNetns, watchProcess } from '../src/index.js'

// Three hosts that matter plus a relay-ish host on both segments:
//   lan: a, b, r      wan: r, c
const PROBE = fileURLToPath(new URL('./fixtures/udp-probe.mjs', import.meta.url))
const WAIT_MS = 5_000
const GROUP4 = '239.77.0.1'
const GROUP6 = 'ff15::77'

const gate = requireNetns()

interface Tally {
  count: number
  sources: string[]
  timedOut: boolean
}

interface Receiver {
  /** The receiver's tally once it has exited (after an END datagram, or its own 5 s limit). */
  tally(): Promise<Tally>
  /** Sends END to it over its host's loopback, then returns its tally. */
  stop(): Promise<Tally>
}

/** Starts udp-probe recv on `host` and resolves once it is bound (and joined). */
async function receive(host: Host, port: number, args: string[] = []): Promise<Receiver> {
  const watched = watchProcess(
    host.node(PROBE, ['recv', '--port', String(port), '--timeout', '5000', ...args], { timeoutMs: 10_000 }),
  )
  await watched.waitForLine('ready', WAIT_MS)
  const tally = async (): Promise<Tally> => {
    const exit = await watched.waitForExit(WAIT_MS)
    const last = exit.stdout.trim().split('\n').at(-1) ?? ''
    return JSON.parse(last) as Tally
  }
  const v6 = args.some((arg) => arg.includes(':'))
  return {
    tally,
    async stop() {
      await send(host, v6 ? '::1' : '127.0.0.1', port, ['--count', '0', '--end'])
      return tally()
    },
  }
}

/** Runs udp-probe send on `host`; returns what it printed ({sent} or {error}). */
async function send(
  host: Host,
  to: string,
  port: number,
  args: string[],
): Promise<{ sent?: number; error?: string }> {
  const result = await host.run(
    process.execPath,
    [PROBE, 'send', '--to', to, '--port', String(port), ...args],
    {
      timeoutMs: WAIT_MS,
    },
  )
  expect(result.timedOut, result.stderr).toBe(false)
  return JSON.parse(result.stdout.trim()) as { sent?: number; error?: string }
}

describe.skipIf(gate.skip)('createNetwork: a, b, r on lan; r, c on wan', () => {
  let net: Network
  let a: Host
  let b: Host
  let c: Host
  let r: Host

  beforeAll(async () => {
    net = await createNetwork({
      hosts: ['a', 'b', 'c', 'r'],
      segments: [
        { name: 'lan', hosts: ['a', 'b', 'r'] },
        { name: 'wan', hosts: ['r', 'c'] },
      ],
      ipv6: true,
    })
    ;({ a, b, c, r } = net.hosts as Record<'a' | 'b' | 'c' | 'r', Host>)
  })

  afterAll(async () => {
    await net?.destroy()
  })

  it('gives each host its planned addresses and routes, in a namespace with no way out', async () => {
    expect([a.ipv4(), b.ipv4(), c.ipv4(), r.ipv4('lan'), r.ipv4('wan')]).toEqual([
      '10.77.1.1',
      '10.77.1.2',
      '10.77.2.3',
      '10.77.1.4',
      '10.77.2.4',
    ])
    expect(r.ipv6('wan')).toBe('fd77:2::4')
    const addrs = JSON.parse((await r.run('ip', ['-j', 'addr', 'show'])).stdout) as Array<{
      ifname: string
      addr_info: Array<{ local: string; prefixlen: number; tentative?: boolean }>
    }>
    expect(addrs.map((l) => l.ifname).sort()).toEqual(['lo', 'v-lan', 'v-wan'])
    const local = addrs.flatMap((l) => l.addr_info.map((i) => `${l.ifname} ${i.local}/${i.prefixlen}`))
    expect(local).toEqual(
      expect.arrayContaining([
        'v-lan 10.77.1.4/24',
        'v-wan 10.77.2.4/24',
        'v-lan fd77:1::4/64',
        'v-wan fd77:2::4/64',
      ]),
    )
    expect(addrs.flatMap((l) => l.addr_info).filter((i) => i.tentative)).toEqual([])
    const routes = (await r.run('ip', ['route', 'show'])).stdout
    expect(routes).toContain('224.0.0.0/4 dev v-lan')
    expect(routes).not.toContain('default')
  })

  it('runs each segment as a bridge that floods multicast (no IGMP/MLD snooping)', async () => {
    const lan = net.segments.lan!
    const bridge = await runCommand('ip', ['-n', lan.ns, '-d', 'link', 'show', lan.bridge])
    expect(bridge.stdout).toContain('mcast_snooping 0')
    const ports = await runCommand('ip', ['-n', lan.ns, '-br', 'link', 'show', 'master', lan.bridge])
    expect(
      ports.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(/[@ ]/)[0])
        .sort(),
    ).toEqual(['p-a', 'p-b', 'p-r'])
  })

  it('delivers unicast a → b', async () => {
    const atB = await receive(b, 5000)
    expect(await send(a, b.ipv4(), 5000, ['--count', '3', '--end'])).toEqual({ sent: 3 })
    expect(await atB.tally()).toEqual({ count: 3, sources: ['10.77.1.1'], timedOut: false })
  })

  it('has no route from a to the other segment', async () => {
    expect(await send(a, c.ipv4(), 5000, ['--count', '1'])).toEqual({ error: 'ENETUNREACH' })
  })

  it("floods multicast from a's veth to the members on lan (b, and r on its lan side) and not to c on wan", async () => {
    const join = (host: Host) => ['--group', GROUP4, '--iface', host.ipv4()]
    const atB = await receive(b, 5001, join(b))
    const atR = await receive(r, 5001, join(r))
    const atC = await receive(c, 5001, join(c))
    // END goes to the group last, so b and r stop only after everything before it arrived.
    expect(await send(a, GROUP4, 5001, ['--count', '3', '--end', '--iface', a.ipv4()])).toEqual({ sent: 3 })
    expect(await atB.tally()).toEqual({ count: 3, sources: ['10.77.1.1'], timedOut: false })
    expect(await atR.tally()).toEqual({ count: 3, sources: ['10.77.1.1'], timedOut: false })
    expect(await atC.stop()).toEqual({ count: 0, sources: [], timedOut: false })
  })

  it('carries IPv6 multicast at once (no DAD wait) to b and not to c', async () => {
    const atB = await receive(b, 5002, ['--group', GROUP6, '--iface', `::%${b.ifname()}`])
    const atC = await receive(c, 5002, ['--group', GROUP6, '--iface', `::%${c.ifname()}`])
    expect(await send(a, GROUP6, 5002, ['--count', '3', '--end', '--iface', `::%${a.ifname()}`])).toEqual({
      sent: 3,
    })
    expect(await atB.tally()).toEqual({ count: 3, sources: ['fd77:1::1'], timedOut: false })
    expect(await atC.stop()).toEqual({ count: 0, sources: [], timedOut: false })
  })

  it('drops everything at loss 1.0 and delivers again after clearLoss', async () => {
    const join = ['--group', GROUP4, '--iface', b.ipv4()]
    await net.injectLoss('b', 1.0)
    const atB = await receive(b, 5003, join)
    expect(await send(a, GROUP4, 5003, ['--count', '5'])).toEqual({ sent: 5 })
    // The drop counter shows the 5 datagrams did reach b and were dropped there (bounded wait).
    let dropped = 0
    for (let i = 0; i < 100 && dropped < 5; i++) {
      dropped = await net.droppedPackets('b')
      if (dropped < 5) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(dropped).toBe(5)
    await net.clearLoss('b')
    // The END now gets through: the receiver saw nothing of the 5 but is alive and reachable.
    expect(await send(a, GROUP4, 5003, ['--count', '0', '--end'])).toEqual({ sent: 0 })
    expect(await atB.tally()).toEqual({ count: 0, sources: [], timedOut: false })

    const again = await receive(b, 5003, join)
    expect(await send(a, GROUP4, 5003, ['--count', '5', '--end'])).toEqual({ sent: 5 })
    expect(await again.tally()).toEqual({ count: 5, sources: ['10.77.1.1'], timedOut: false })
  })

  it('rejects a loss probability outside 0..1 and a segment the host is not on', async () => {
    await expect(net.injectLoss('b', 1.5)).rejects.toThrow(/0\.\.1/)
    await expect(net.injectLoss('b', 0.5, { segment: 'wan' })).rejects.toThrow(/not on segment "wan"/)
    expect(() => net.host('z')).toThrow(/no host "z"/)
  })
})

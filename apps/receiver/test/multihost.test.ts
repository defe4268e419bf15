import { fileURLToPath } from 'node:url'
import { createNetwork, type Network, requireNetns, watchProcess } from '@shoal/netns'
import { cleanEnv } from '@shoal/service/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, jsonLines, requireBuild, uniqueEndpoint, until, WAIT_MS } from './support.js'

const netns = requireNetns()
const PUBLISH = fileURLToPath(new URL('./fixtures/publish.mjs', import.meta.url))

/** shoal-recv on host b, a publisher on host a, one LAN between them (private namespaces). */
describe.skipIf(netns.skip)('shoal-recv across hosts', () => {
  let net: Network
  beforeAll(async () => {
    requireBuild()
    net = await createNetwork({
      hosts: ['a', 'b'],
      segments: [{ name: 'lan', hosts: ['a', 'b'] }],
      ipv6: true,
    })
  })
  afterAll(() => net?.destroy())

  /** shoal-recv on host b, resolved once bound and joined. */
  const receive = async (args: string[]) => {
    const rx = watchProcess(net.host('b').node(BIN, args, { timeoutMs: WAIT_MS * 2, env: cleanEnv() }))
    await until(() => rx.stderr().includes('"msg":"ready"'), WAIT_MS, 'shoal-recv to be ready')
    return rx
  }

  const publish = async (count: number, group: string, port: number, ackName?: string) => {
    const a = net.host('a')
    const iface = group.includes(':') ? a.ifname() : a.ipv4()
    const args = [iface, group, String(port), String(count), ...(ackName ? [ackName] : [])]
    const result = await a.run(process.execPath, [PUBLISH, ...args], { timeoutMs: WAIT_MS })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    return JSON.parse(result.stdout) as { session: string; acks?: string[] }
  }

  it('receives from another host on the interface named by --interface, and acks back', async () => {
    const { group, port } = uniqueEndpoint()
    const b = net.host('b')
    const rx = await receive([
      ...['--interface', b.ifname(), '--group', group, '--port', String(port)],
      ...['--count', '5', '--ack', '--name', 'rx-b'],
    ])
    const sent = await publish(5, group, port, 'rx-b')
    expect(sent.acks).toEqual(['rx-b'])
    const result = await rx.waitForExit(WAIT_MS)
    expect(result.code).toBe(0)
    const lines = jsonLines(result.stdout)
    expect(lines.map((line) => line.sequence)).toEqual([0, 1, 2, 3, 4])
    expect(lines[0]).toMatchObject({ source: { session: sent.session, address: net.host('a').ipv4() } })
    expect(result.stderr).toContain(`"interface":"v-lan","interfaceAddress":"${b.ipv4()}"`)
    expect(result.stderr).not.toContain('listening on loopback')
  })

  it('receives IPv6 multicast with --ipv6', async () => {
    const { port } = uniqueEndpoint()
    const group = `ff15::5:${port.toString(16)}`
    const b = net.host('b')
    const rx = await receive([
      ...['--ipv6', '--interface', b.ifname(), '--group', group, '--port', String(port)],
      ...['--count', '2', '--ack', '--name', 'rx-b6'],
    ])
    const sent = await publish(2, group, port, 'rx-b6')
    expect(sent.acks).toEqual(['rx-b6'])
    const result = await rx.waitForExit(WAIT_MS)
    expect(result.code).toBe(0)
    expect(jsonLines(result.stdout)).toMatchObject([
      { sequence: 0, source: { session: sent.session } },
      { sequence: 1, source: { session: sent.session } },
    ])
    expect(result.stderr).toContain(`"groups":["${group}"]`)
  })

  it('on the default interface (loopback) hears nothing from another host, and says so', async () => {
    const { group, port } = uniqueEndpoint()
    const rx = await receive(['--group', group, '--port', String(port), '--duration', '1s'])
    await publish(3, group, port)
    const result = await rx.waitForExit(WAIT_MS)
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(
      /listening on loopback: only frames sent on this host arrive; to receive from the network, pass --interface v-lan/,
    )
    expect(result.stderr).toMatch(/stopped \(--duration 1s\) after [\d.]+s: frames=0 /)
  })

  it('counts frames lost on the wire as gaps', async () => {
    const { group, port } = uniqueEndpoint()
    const b = net.host('b')
    await net.injectLoss('b', 0.2)
    try {
      // --no-repair: what the loss took stays lost, so every frame is either shown or dropped.
      const rx = await receive([
        '--interface',
        b.ifname(),
        '--group',
        group,
        '--port',
        String(port),
        '--no-repair',
      ])
      const total = 300
      await publish(total, group, port)
      // Each frame is one datagram: every one was either dropped by the injected loss or shown.
      const dropped = await net.droppedPackets('b')
      expect(dropped).toBeGreaterThan(0)
      await until(() => rx.lines().length + dropped >= total, WAIT_MS, 'every frame shown or dropped')
      rx.child.kill('SIGTERM')
      const result = await rx.waitForExit(WAIT_MS)
      expect(result.code).toBe(0)
      const sequences = jsonLines(result.stdout).map((line) => line.sequence as number)
      expect(sequences.length + dropped).toBe(total)
      const [first, last] = [Math.min(...sequences), Math.max(...sequences)]
      const [, frames, gaps] = /frames=(\d+) bytes=\d+ gaps=(\d+) /.exec(result.stderr) ?? []
      expect(Number(frames)).toBe(sequences.length)
      // Gaps are the frames missing between the first and the last received: losses before the
      // first (the stream is joined there) and after the last cannot be seen.
      expect(Number(gaps)).toBeGreaterThan(0)
      expect(Number(frames) + Number(gaps)).toBe(last - first + 1)
    } finally {
      await net.clearLoss('b')
    }
  })
})

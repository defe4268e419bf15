#!/usr/bin/env node
import { listRuns, listShoalNamespaces, pidAlive, removeNamespaces } from './cleanup.js'
import { parseCli, USAGE, UsageError } from './cli-args.js'
import { isNetnsError } from './errors.js'
import { parseNsName } from './names.js'
import { createNetwork, type Network } from './network.js'

const SELF = 'node tools/netns/dist/cli.js'

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? '').length)))
  return rows
    .map((row) =>
      row
        .map((cell, col) => cell.padEnd(widths[col]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

function hint(label: string, command: string): string {
  return `${label.padEnd(20)}${command}`
}

function describeNetwork(net: Network): string {
  const hostRows = [['host', 'namespace', 'interface', 'segment', 'ipv4', 'ipv6']]
  for (const host of Object.values(net.hosts)) {
    for (const iface of host.ifaces) {
      hostRows.push([
        host.name,
        host.ns,
        iface.name,
        iface.segment,
        `${iface.ipv4}/${iface.prefix4}`,
        iface.ipv6 === undefined ? '-' : `${iface.ipv6}/${iface.prefix6}`,
      ])
    }
  }
  const segmentRows = [['segment', 'switch namespace', 'bridge', 'hosts', 'subnets']]
  for (const segment of Object.values(net.segments)) {
    segmentRows.push([
      segment.name,
      segment.ns,
      segment.bridge,
      segment.hosts.join(','),
      [segment.subnet4, segment.subnet6].filter((s) => s !== undefined).join(' '),
    ])
  }
  const [first] = Object.values(net.hosts)
  const [firstSegment] = Object.values(net.segments)
  const peer = Object.values(net.hosts).find(
    (h) => h !== first && h.ifaces[0]?.segment === first?.ifaces[0]?.segment,
  )
  return [
    `network ${net.id} is up; it stays until you remove it.`,
    '',
    table(hostRows),
    '',
    table(segmentRows),
    '',
    hint('Shell on a host:', `ip netns exec ${first?.ns} bash`),
    ...(peer === undefined
      ? []
      : [
          hint(`Listen on ${peer.name}:`, `ip netns exec ${peer.ns} socat -u UDP4-RECV:5000 -`),
          hint(
            `Send from ${first?.name}:`,
            `echo hi | ip netns exec ${first?.ns} socat - UDP4-DATAGRAM:${peer.ipv4()}:5000`,
          ),
        ]),
    hint('Watch a segment:', `ip netns exec ${firstSegment?.ns} tcpdump -ni ${firstSegment?.bridge}`),
    hint('Remove it:', `${SELF} down --run ${net.id}`),
    '',
  ].join('\n')
}

function networkJson(net: Network): unknown {
  return {
    id: net.id,
    hosts: Object.fromEntries(Object.values(net.hosts).map((h) => [h.name, { ns: h.ns, ifaces: h.ifaces }])),
    segments: net.segments,
  }
}

async function down(scope: { run: string } | 'all' | 'default'): Promise<string[]> {
  const names = (await listShoalNamespaces()).filter((name) => {
    const parsed = parseNsName(name)!
    if (scope === 'all') return true
    if (scope !== 'default') return parsed.runId === scope.run
    return parsed.owner === 'cli' || (parsed.owner !== process.pid && !pidAlive(parsed.owner))
  })
  await removeNamespaces(names)
  return names
}

async function list(): Promise<string> {
  const rows = [['run', 'owner', 'namespaces']]
  for (const [runId, names] of await listRuns()) {
    const owner = parseNsName(names[0]!)!.owner
    const state =
      owner === 'cli'
        ? 'cli (kept until down)'
        : `pid ${owner} (${pidAlive(owner) ? 'running' : 'dead: stale'})`
    rows.push([runId, state, names.map((n) => n.slice(runId.length + 1)).join(' ')])
  }
  return rows.length === 1 ? 'no shoal namespaces\n' : `${table(rows)}\n`
}

async function main(argv: readonly string[]): Promise<number> {
  let command: ReturnType<typeof parseCli>
  try {
    command = parseCli(argv)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`shoal-netns: ${error.message}\nRun with --help for usage.\n`)
    return 2
  }
  try {
    switch (command.kind) {
      case 'help':
        process.stdout.write(USAGE)
        return 0
      case 'up': {
        const net = await createNetwork(command.topology, { persistent: true })
        process.stdout.write(
          command.json ? `${JSON.stringify(networkJson(net), null, 2)}\n` : describeNetwork(net),
        )
        return 0
      }
      case 'down': {
        const removed = await down(command.scope)
        process.stdout.write(
          removed.length === 0
            ? 'nothing to remove\n'
            : `removed ${removed.length} namespaces:\n  ${removed.join('\n  ')}\n`,
        )
        return 0
      }
      case 'list':
        process.stdout.write(await list())
        return 0
    }
  } catch (error) {
    if (isNetnsError(error) && error.code === 'NETNS_BAD_TOPOLOGY') {
      process.stderr.write(`shoal-netns: ${error.message}\n`)
      return 2
    }
    process.stderr.write(`shoal-netns: ${(error as Error).message}\n`)
    return 1
  }
}

process.exitCode = await main(process.argv.slice(2))

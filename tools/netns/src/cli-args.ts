import { parseArgs } from 'node:util'
import { isRunId, NAME_PATTERN } from './names.js'
import type { SegmentSpec, Topology } from './topology.js'

export const USAGE = `Usage: shoal-netns <command> [flags]

Private test networks of Linux network namespaces joined by veth pairs and per-segment bridges.
Nothing is created in or routed through the root namespace. Needs root.

Commands:
  up     Create a network and leave it in place (run id shoal-cli-<rand>)
           --hosts a,b,c          host names (default: every host named in --segment)
           --segment NAME:H,H...  an L2 segment and its hosts; repeatable (default: lan:<all hosts>)
           --ipv6                 also assign fd77:<segment>::<host>/64 addresses
           --json                 print the network as JSON instead of a table
  down   Remove networks
           --run ID               only this run (shoal-<pid>-<rand> or shoal-cli-<rand>)
           --all                  every shoal-* namespace, including those of test runs still going
           (neither: networks made by \`up\` plus those left behind by dead processes)
  list   Show shoal-* namespaces by run

Flags for every command:
  -h, --help   show this help

Names are 1-8 characters, a-z then a-z0-9. Segment number s and host number h (in order) give the
addresses 10.77.s.h/24 and fd77:s::h/64.

Examples:
  node tools/netns/dist/cli.js up --hosts a,b,c --segment lan:a,b,c
  node tools/netns/dist/cli.js up --segment lan:a,b,r --segment wan:r,c --ipv6
  node tools/netns/dist/cli.js down --run shoal-cli-1a2b3c
`

export type CliCommand =
  | { kind: 'help' }
  | { kind: 'up'; topology: Topology; json: boolean }
  | { kind: 'down'; scope: { run: string } | 'all' | 'default' }
  | { kind: 'list' }

/** A command-line mistake: the message names the flag, the bad value and what would be valid. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

const COMMAND_FLAGS: Record<'up' | 'down' | 'list', readonly string[]> = {
  up: ['hosts', 'segment', 'ipv6', 'json'],
  down: ['run', 'all'],
  list: [],
}

function splitList(flag: string, value: string): string[] {
  const items = value.split(',').map((item) => item.trim())
  for (const item of items) {
    if (!NAME_PATTERN.test(item)) {
      throw new UsageError(
        `${flag} ${JSON.stringify(value)}: ${JSON.stringify(item)} is not a valid name (1-8 chars, a-z then a-z0-9)`,
      )
    }
  }
  return items
}

function parseSegment(value: string): SegmentSpec {
  const colon = value.indexOf(':')
  if (colon <= 0) {
    throw new UsageError(`--segment ${JSON.stringify(value)}: expected NAME:HOST,HOST... (e.g. lan:a,b,c)`)
  }
  const name = value.slice(0, colon)
  if (!NAME_PATTERN.test(name)) {
    throw new UsageError(
      `--segment ${JSON.stringify(value)}: ${JSON.stringify(name)} is not a valid segment name (1-8 chars, a-z then a-z0-9)`,
    )
  }
  return { name, hosts: splitList('--segment', value.slice(colon + 1)) }
}

function upTopology(values: { hosts?: string; segment?: string[]; ipv6?: boolean }): Topology {
  const segments = (values.segment ?? []).map(parseSegment)
  let hosts: string[]
  if (values.hosts !== undefined) {
    hosts = splitList('--hosts', values.hosts)
    for (const segment of segments) {
      const stranger = segment.hosts.find((h) => !hosts.includes(h))
      if (stranger !== undefined) {
        throw new UsageError(
          `--segment ${segment.name}:${segment.hosts.join(',')}: host ${JSON.stringify(stranger)} is not in --hosts ${values.hosts}`,
        )
      }
    }
  } else {
    if (segments.length === 0)
      throw new UsageError('up needs --hosts a,b,... or at least one --segment NAME:a,b')
    hosts = [...new Set(segments.flatMap((s) => s.hosts))]
  }
  if (segments.length === 0) segments.push({ name: 'lan', hosts: [...hosts] })
  return { hosts, segments, ipv6: values.ipv6 === true }
}

/** Parses the CLI's arguments (without `node` and the script); throws UsageError on any mistake. */
export function parseCli(argv: readonly string[]): CliCommand {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    // parseArgs names the flag in its first sentence; the rest is advice about `--` that does not apply.
    throw new UsageError((error as Error).message.split('. ')[0]!)
  }
  const { values, positionals } = parsed
  if (values.help === true || positionals[0] === 'help') return { kind: 'help' }
  const [command, ...extra] = positionals
  if (command === undefined) throw new UsageError('missing command: expected up, down or list')
  if (command !== 'up' && command !== 'down' && command !== 'list') {
    throw new UsageError(`unknown command ${JSON.stringify(command)}: expected up, down or list`)
  }
  if (extra.length > 0)
    throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])} after ${command}`)
  for (const [flag, value] of Object.entries(values)) {
    if (value !== undefined && flag !== 'help' && !COMMAND_FLAGS[command].includes(flag)) {
      const valid = COMMAND_FLAGS[command].map((f) => `--${f}`).join(', ') || 'none'
      throw new UsageError(`--${flag} is not a flag of ${command} (its flags: ${valid})`)
    }
  }
  switch (command) {
    case 'up':
      return { kind: 'up', topology: upTopology(values), json: values.json === true }
    case 'down': {
      if (values.run !== undefined && values.all === true)
        throw new UsageError('--run and --all exclude each other')
      if (values.run !== undefined) {
        if (!isRunId(values.run)) {
          throw new UsageError(
            `--run ${JSON.stringify(values.run)}: expected a run id like shoal-1234-1a2b3c or shoal-cli-1a2b3c`,
          )
        }
        return { kind: 'down', scope: { run: values.run } }
      }
      return { kind: 'down', scope: values.all === true ? 'all' : 'default' }
    }
    case 'list':
      return { kind: 'list' }
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      hosts: { type: 'string' },
      segment: { type: 'string', multiple: true },
      ipv6: { type: 'boolean' },
      json: { type: 'boolean' },
      run: { type: 'string' },
      all: { type: 'boolean' },
    },
  })
}

import { randomBytes } from 'node:crypto'

/**
 * Namespace naming. Every namespace the harness makes is called
 * `shoal-<owner>-<rand>-<host>` or `shoal-<owner>-<rand>-sw-<segment>`, where `<owner>` is the pid of
 * the process that made it (so stale ones can be found once that pid is gone) or `cli` for networks
 * made by hand with the CLI (which outlive it), and `<rand>` is 6 hex digits.
 * Host and segment names cannot contain `-`, so the parse is unambiguous.
 */
export const NS_PREFIX = 'shoal-'

/** Host and segment names: short, lower-case, usable inside interface names (IFNAMSIZ is 16). */
export const NAME_PATTERN = /^[a-z][a-z0-9]{0,7}$/

export type RunOwner = number | 'cli'

const RUN_ID_PATTERN = /^shoal-(\d+|cli)-([0-9a-f]{6})$/
const NS_PATTERN = /^(shoal-(?:\d+|cli)-[0-9a-f]{6})-(?:(sw)-([a-z][a-z0-9]{0,7})|([a-z][a-z0-9]{0,7}))$/

export function newRunId(owner: RunOwner): string {
  return `${NS_PREFIX}${owner}-${randomBytes(3).toString('hex')}`
}

export function isRunId(value: string): boolean {
  return RUN_ID_PATTERN.test(value)
}

export function runOwner(runId: string): RunOwner | undefined {
  const match = RUN_ID_PATTERN.exec(runId)
  if (!match) return undefined
  return match[1] === 'cli' ? 'cli' : Number(match[1])
}

export function hostNsName(runId: string, host: string): string {
  return `${runId}-${host}`
}

export function switchNsName(runId: string, segment: string): string {
  return `${runId}-sw-${segment}`
}

/** The host's end of its veth on `segment`. */
export function hostIfname(segment: string): string {
  return `v-${segment}`
}

/** The switch's end of `host`'s veth, enslaved to the segment bridge. */
export function switchPortName(host: string): string {
  return `p-${host}`
}

export const BRIDGE_NAME = 'br0'

export type ParsedNsName =
  | { runId: string; owner: RunOwner; role: 'host'; host: string }
  | { runId: string; owner: RunOwner; role: 'switch'; segment: string }

/** Parses a namespace name made by this harness; undefined for anything else. */
export function parseNsName(name: string): ParsedNsName | undefined {
  const match = NS_PATTERN.exec(name)
  if (!match) return undefined
  const runId = match[1]!
  const owner = runOwner(runId)!
  if (match[2] === 'sw') return { runId, owner, role: 'switch', segment: match[3]! }
  return { runId, owner, role: 'host', host: match[4]! }
}

import { defaultText, envName, type FlagSpec, type FlagTable } from './flags.js'

export interface HelpInfo {
  /** The command: `shoal-send`. */
  readonly name: string
  /** One or two sentences on what the command does. */
  readonly description: string
  readonly flags: FlagTable
}

const INDENT = '  '
const MAX_FLAG_COLUMN = 34

/** `--port <port>`, `--group <address>...`, `--ack`. */
export function flagSignature(name: string, spec: FlagSpec): string {
  if (spec.kind === 'boolean') return `--${name}`
  return `--${name} <${spec.placeholder}>${spec.kind === 'list' ? '...' : ''}`
}

function details(name: string, spec: FlagSpec): string {
  const parts: string[] = []
  const fallback = defaultText(spec)
  if (fallback !== undefined) parts.push(`default ${fallback}`)
  if (spec.kind === 'list') parts.push('repeatable')
  const variable = envName(name, spec)
  if (variable !== undefined) parts.push(`env ${variable}`)
  return parts.join('; ')
}

const BUILT_IN: readonly (readonly [string, string])[] = [
  ['--help, -h', 'Show this help and exit'],
  ['--version', 'Print the version and exit'],
]

/** The `--help` text, generated from the flag table. */
export function renderHelp(info: HelpInfo): string {
  const rows = Object.entries(info.flags).map(([name, spec]) => ({
    signature: flagSignature(name, spec),
    help: spec.help,
    details: details(name, spec),
  }))
  const width = Math.min(
    MAX_FLAG_COLUMN,
    Math.max(...rows.map((row) => row.signature.length), ...BUILT_IN.map(([s]) => s.length)) + 2,
  )
  const pad = (signature: string) =>
    signature.length + 2 > width
      ? `${signature}\n${' '.repeat(width + INDENT.length)}`
      : signature.padEnd(width)
  const continuation = ' '.repeat(width + INDENT.length)

  const lines = [`Usage: ${info.name} [options]`, '', info.description, '', 'Options:']
  for (const row of rows) {
    lines.push(`${INDENT}${pad(row.signature)}${row.help}`)
    if (row.details !== '') lines.push(`${continuation}(${row.details})`)
  }
  for (const [signature, help] of BUILT_IN) lines.push(`${INDENT}${pad(signature)}${help}`)
  lines.push(
    '',
    'Settings come from, highest first: flags, SHOAL_* environment variables, the --config file',
    '(keys named like the flags, without --), defaults. Lists take several flags or commas;',
    'boolean flags take --no-<flag> or --<flag>=false.',
  )
  return `${lines.join('\n')}\n`
}

function cell(value: string): string {
  return value.replace(/\|/g, '\\|')
}

/** A Markdown table of the flags for a README: flag, environment variable, default, description. */
export function renderFlagsMarkdown(flags: FlagTable): string {
  const lines = ['| Flag | Environment | Default | Description |', '| --- | --- | --- | --- |']
  for (const [name, spec] of Object.entries(flags)) {
    const variable = envName(name, spec)
    const fallback = defaultText(spec)
    const description = spec.kind === 'list' ? `${spec.help} (repeatable)` : spec.help
    lines.push(
      `| \`${cell(flagSignature(name, spec))}\` | ${variable === undefined ? '' : `\`${variable}\``} | ${
        fallback === undefined ? '' : `\`${cell(fallback)}\``
      } | ${cell(description)} |`,
    )
  }
  lines.push(
    '| `--help`, `-h` |  |  | Show the help and exit |',
    '| `--version` |  |  | Print the version and exit |',
  )
  return `${lines.join('\n')}\n`
}

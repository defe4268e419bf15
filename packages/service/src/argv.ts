import { ConfigError } from './errors.js'
import type { FlagTable } from './flags.js'
import { suggest } from './suggest.js'

/** What the command line asked for before any value is validated. */
export type ArgvResult =
  | { readonly action: 'help' }
  | { readonly action: 'version' }
  | { readonly action: 'run'; readonly raw: ReadonlyMap<string, RawArgv> }

/** A flag's raw command-line value: a boolean's state, a value flag's last string, a list's strings. */
export type RawArgv = boolean | string | readonly string[]

/**
 * Splits argv into raw flag values. Understands `--flag value`, `--flag=value`, booleans with
 * `--no-flag` and `--flag=false`, repeated list flags, `--help`/`-h` and `--version`, which win over
 * anything else on the line. Takes no positional arguments.
 */
export function parseArgv(flags: FlagTable, argv: readonly string[]): ArgvResult {
  const end = argv.indexOf('--')
  const options = end === -1 ? argv : argv.slice(0, end)
  if (options.some((arg) => arg === '--help' || arg === '-h')) return { action: 'help' }
  if (options.includes('--version')) return { action: 'version' }

  const raw = new Map<string, boolean | string | string[]>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      const rest = argv[i + 1]
      if (rest === undefined) break
      throw unexpected(rest)
    }
    if (!arg.startsWith('--') || arg === '--') {
      if (arg.startsWith('-') && arg !== '-') throw unknownFlag(flags, arg)
      throw unexpected(arg)
    }
    const eq = arg.indexOf('=')
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
    const inline = eq === -1 ? undefined : arg.slice(eq + 1)
    const spec = flags[name]

    if (spec === undefined) {
      const negated = name.startsWith('no-') ? flags[name.slice(3)] : undefined
      if (negated?.kind === 'boolean' && inline === undefined) {
        raw.set(name.slice(3), false)
        continue
      }
      throw unknownFlag(flags, `--${name}`)
    }

    if (spec.kind === 'boolean') {
      raw.set(name, inline ?? true)
      continue
    }

    let value = inline
    if (value === undefined) {
      const next = argv[i + 1]
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new ConfigError(`--${name} needs a value: --${name} <${spec.placeholder}>`, {
          code: 'SHOAL_CONFIG_MISSING_VALUE',
          flag: `--${name}`,
        })
      }
      value = next
      i++
    }
    if (spec.kind === 'list') {
      const previous = raw.get(name)
      raw.set(name, [...(Array.isArray(previous) ? previous : []), value])
    } else {
      raw.set(name, value)
    }
  }
  return { action: 'run', raw }
}

function unknownFlag(flags: FlagTable, arg: string): ConfigError {
  const names = [...Object.keys(flags), 'help', 'version'].map((name) => `--${name}`)
  const hint = suggest(arg, names)
  return new ConfigError(`unknown flag ${arg}${hint === undefined ? '' : `; did you mean ${hint}?`}`, {
    code: 'SHOAL_CONFIG_UNKNOWN_FLAG',
    flag: arg,
  })
}

function unexpected(arg: string): ConfigError {
  return new ConfigError(`unexpected argument ${JSON.stringify(arg)}: this command takes only --flags`, {
    code: 'SHOAL_CONFIG_UNEXPECTED_ARGUMENT',
  })
}

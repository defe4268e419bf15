import { z } from 'zod'
import { parseArgv } from './argv.js'
import { type ConfigFile, readConfigFile } from './config-file.js'
import { ConfigError, invalidValue } from './errors.js'
import {
  type ConfigSource,
  camelCase,
  envName,
  type FlagSources,
  type FlagSpec,
  type FlagTable,
  type FlagValues,
  type ValueSchema,
} from './flags.js'
import { suggest } from './suggest.js'

/** The flag whose value names the config file. */
export const CONFIG_FLAG = 'config'

export interface ConfigInput {
  readonly argv: readonly string[]
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Directory a relative `--config` path is read from; the process's own by default. */
  readonly cwd?: string
}

export interface LoadedConfig<T extends FlagTable> {
  readonly values: FlagValues<T>
  readonly sources: FlagSources<T>
  /** Absolute path of the config file that was read, if any. */
  readonly configFile: string | undefined
}

export type ConfigOutcome<T extends FlagTable> =
  | { readonly action: 'help' }
  | { readonly action: 'version' }
  | ({ readonly action: 'run' } & LoadedConfig<T>)

/**
 * Resolves every flag of a table from, in order of precedence, the command line, the `SHOAL_*`
 * environment, the `--config` file and the table's defaults, and validates each value with its
 * schema. Throws {@link ConfigError} naming the flag, the value and what would be valid.
 */
export function parseConfig<T extends FlagTable>(flags: T, input: ConfigInput): ConfigOutcome<T> {
  const argv = parseArgv(flags, input.argv)
  if (argv.action !== 'run') return argv
  const env = input.env ?? {}

  const file = loadFile(flags, argv.raw, env, input.cwd ?? process.cwd())
  const fileSettings = file === undefined ? new Map<string, FileValue>() : fileByFlag(flags, file)

  const values: Record<string, unknown> = {}
  const sources: Record<string, ConfigSource> = {}
  for (const [name, spec] of Object.entries(flags)) {
    const key = camelCase(name)
    const variable = envName(name, spec)
    const fromArgv = argv.raw.get(name)
    const fromEnv = variable === undefined ? undefined : nonEmpty(env[variable])
    const fromFile = fileSettings.get(name)

    if (fromArgv !== undefined) {
      values[key] = resolveValue(name, spec, fromArgv, undefined)
      sources[key] = 'argv'
    } else if (fromEnv !== undefined) {
      values[key] = resolveValue(name, spec, fromEnv, variable)
      sources[key] = 'env'
    } else if (fromFile !== undefined && file !== undefined) {
      values[key] = resolveValue(name, spec, fromFile, file.displayPath, true)
      sources[key] = 'file'
    } else {
      values[key] = resolveDefault(name, spec)
      sources[key] = 'default'
    }
  }
  return {
    action: 'run',
    values: values as FlagValues<T>,
    sources: sources as FlagSources<T>,
    configFile: file?.path,
  }
}

type FileValue = string | boolean | readonly string[]
type LoadedFile = ConfigFile & { readonly displayPath: string }

function loadFile(
  flags: FlagTable,
  raw: ReadonlyMap<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): LoadedFile | undefined {
  const spec = flags[CONFIG_FLAG]
  if (spec === undefined) return undefined
  const variable = envName(CONFIG_FLAG, spec)
  const fromArgv = raw.get(CONFIG_FLAG)
  const path =
    typeof fromArgv === 'string' ? fromArgv : variable === undefined ? undefined : nonEmpty(env[variable])
  if (path === undefined) return undefined
  return { ...readConfigFile(path, cwd), displayPath: path }
}

/** Maps a file's keys, written as on the command line (`log-level`) or in camelCase, to flag names. */
function fileByFlag(flags: FlagTable, file: LoadedFile): Map<string, FileValue> {
  const byKey = new Map<string, string>()
  for (const name of Object.keys(flags)) {
    byKey.set(name, name)
    byKey.set(camelCase(name), name)
  }
  const settings = new Map<string, FileValue>()
  for (const [key, value] of file.settings) {
    const name = byKey.get(key)
    const fail = (reason: string) =>
      new ConfigError(`invalid --config ${file.displayPath}: ${reason}`, {
        code: 'SHOAL_CONFIG_FILE',
        flag: '--config',
      })
    if (name === CONFIG_FLAG) throw fail('a config file cannot name another config file')
    if (name === undefined) {
      const hint = suggest(
        key,
        [...byKey.keys()].filter((k) => k !== CONFIG_FLAG),
      )
      throw fail(
        `unknown option ${JSON.stringify(key)}${hint === undefined ? '' : `; did you mean ${hint}?`}`,
      )
    }
    if (settings.has(name)) throw fail(`option ${name} is set twice`)
    settings.set(name, value)
  }
  return settings
}

const BOOLEAN = z.stringbool({ error: 'expected true or false (also 1/0, yes/no, on/off)' })

function resolveValue(
  name: string,
  spec: FlagSpec,
  raw: FileValue,
  origin: string | undefined,
  fromFile = false,
): unknown {
  const flagName = `--${name}`
  switch (spec.kind) {
    case 'boolean':
      return typeof raw === 'boolean'
        ? raw
        : check(flagName, BOOLEAN, asScalar(flagName, raw, origin), origin)
    case 'value':
      return check(flagName, spec.schema, asScalar(flagName, raw, origin), origin)
    case 'list': {
      // A list written out in a file is taken element by element; any other string is split.
      const items = Array.isArray(raw)
        ? fromFile
          ? raw
          : raw.flatMap((item: string) => split(item, spec.separator))
        : split(String(raw), spec.separator)
      return items.map((item) => check(flagName, spec.schema, item, origin))
    }
  }
}

function resolveDefault(name: string, spec: FlagSpec): unknown {
  switch (spec.kind) {
    case 'boolean':
      return spec.default ?? false
    case 'value': {
      const value = typeof spec.default === 'function' ? spec.default() : spec.default
      return value === undefined ? undefined : check(`--${name}`, spec.schema, value as string, 'default')
    }
    case 'list': {
      const value = typeof spec.default === 'function' ? spec.default() : spec.default
      return (value ?? []).map((item) => check(`--${name}`, spec.schema, item as string, 'default'))
    }
  }
}

function check(flag: string, schema: ValueSchema, value: string, origin: string | undefined): unknown {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  throw invalidValue(flag, value, issue?.message ?? 'invalid value', origin)
}

function asScalar(flag: string, raw: FileValue, origin: string | undefined): string {
  if (typeof raw === 'string') return raw
  if (typeof raw === 'boolean') return String(raw)
  throw invalidValue(flag, raw.join(','), 'expected one value, not a list', origin)
}

function split(value: string, separator: string | RegExp | false | undefined): string[] {
  if (separator === false) return [value]
  return value
    .split(separator ?? ',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

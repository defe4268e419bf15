import { readFileSync } from 'node:fs'
import { extname, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { ConfigError } from './errors.js'

/** A config file's settings: option name (as written in the file) to a scalar or a list of scalars. */
export type FileSettings = ReadonlyMap<string, string | boolean | readonly string[]>

export interface ConfigFile {
  /** Absolute path, for messages. */
  readonly path: string
  readonly settings: FileSettings
}

const FLAG = '--config'

/**
 * Reads a `.json`, `.yaml` or `.yml` file holding one mapping of option names to values. Numbers
 * become the strings a user would have typed, so one schema serves flags, environment and files.
 */
export function readConfigFile(path: string, cwd: string): ConfigFile {
  const absolute = resolve(cwd, path)
  const fail = (reason: string, cause?: unknown) =>
    new ConfigError(`invalid ${FLAG} ${path}: ${reason}`, {
      code: 'SHOAL_CONFIG_FILE',
      flag: FLAG,
      cause,
    })

  const extension = extname(absolute).toLowerCase()
  if (extension !== '.json' && extension !== '.yaml' && extension !== '.yml') {
    throw fail('expected a .json, .yaml or .yml file')
  }

  let text: string
  try {
    text = readFileSync(absolute, 'utf8')
  } catch (error) {
    throw new ConfigError(`cannot read ${FLAG} ${path}: ${describeFsError(error)}`, {
      code: 'SHOAL_CONFIG_FILE',
      flag: FLAG,
      cause: error,
    })
  }

  let document: unknown
  try {
    document = extension === '.json' ? JSON.parse(text) : parseYaml(text)
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error)
    throw fail(`not valid ${extension === '.json' ? 'JSON' : 'YAML'}: ${message}`, error)
  }

  if (document === null || document === undefined) return { path: absolute, settings: new Map() }
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw fail('expected a mapping of option names to values at the top level')
  }

  const settings = new Map<string, string | boolean | readonly string[]>()
  for (const [key, value] of Object.entries(document)) {
    if (typeof value === 'boolean') settings.set(key, value)
    else if (Array.isArray(value)) {
      settings.set(
        key,
        value.map((item, index) => {
          const scalar = scalarText(item)
          if (scalar === undefined)
            throw fail(`option ${key}[${index}]: expected a string, number or boolean`)
          return scalar
        }),
      )
    } else {
      const scalar = scalarText(value)
      if (scalar === undefined) throw fail(`option ${key}: expected a string, number, boolean or list`)
      settings.set(key, scalar)
    }
  }
  return { path: absolute, settings }
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value)
  return undefined
}

export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  switch (code) {
    case 'ENOENT':
      return 'no such file'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'EISDIR':
      return 'is a directory'
    default:
      return error instanceof Error ? error.message : String(error)
  }
}

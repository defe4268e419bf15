/**
 * Every way a service's configuration can be wrong. Each one exits with code 2 and a message that
 * names the flag, the bad value and what would be valid.
 */
export type ConfigErrorCode =
  | 'SHOAL_CONFIG_INVALID_VALUE'
  | 'SHOAL_CONFIG_UNKNOWN_FLAG'
  | 'SHOAL_CONFIG_MISSING_VALUE'
  | 'SHOAL_CONFIG_UNEXPECTED_ARGUMENT'
  | 'SHOAL_CONFIG_FILE'
  | 'SHOAL_CONFIG_KEY_FILE'
  | 'SHOAL_CONFIG_PROTO'
  | 'SHOAL_CONFIG_CONFLICT'

export interface ConfigErrorOptions {
  readonly code: ConfigErrorCode
  /** The flag at fault, spelled as on the command line: `--port`. */
  readonly flag?: string
  readonly cause?: unknown
}

/** Exit status of a configuration error: the usage-error convention of BSD sysexits and GNU tools. */
export const CONFIG_EXIT_CODE = 2

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  readonly code: ConfigErrorCode
  readonly flag: string | undefined
  readonly exitCode = CONFIG_EXIT_CODE

  constructor(message: string, options: ConfigErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = options.code
    this.flag = options.flag
  }
}

export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof ConfigError
}

/** Quotes a value for an error message only when it would otherwise be ambiguous. */
export function formatValue(value: string): string {
  return value === '' || /[\s"'\\]/.test(value) ? JSON.stringify(value) : value
}

/**
 * `invalid --port 70000: expected an integer 1-65535`, with the origin of a value that did not come
 * from the command line: `invalid --port 70000 (from SHOAL_PORT): …`.
 */
export function invalidValue(flag: string, value: string, expected: string, origin?: string): ConfigError {
  const from = origin === undefined ? '' : ` (from ${origin})`
  return new ConfigError(`invalid ${flag} ${formatValue(value)}${from}: ${expected}`, {
    code: 'SHOAL_CONFIG_INVALID_VALUE',
    flag,
  })
}

/** Two settings that cannot go together, or one that needs another: names the first flag. */
export function conflict(flag: string, message: string): ConfigError {
  return new ConfigError(message, { code: 'SHOAL_CONFIG_CONFLICT', flag })
}

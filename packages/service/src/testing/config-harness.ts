import { type LoadedConfig, parseConfig } from '../config.js'
import { ConfigError } from '../errors.js'
import type { FlagTable, FlagValues } from '../flags.js'

export interface ConfigHarness<C> {
  /**
   * Parses a command line as the service does (with `env` as the whole environment, empty unless
   * given) and resolves it into the service's config; throws what either step throws, and throws
   * for `--help` or `--version`.
   */
  resolve(argv: readonly string[], env?: Readonly<Record<string, string>>): C
  /** The {@link ConfigError} a command line is refused with; throws if it is accepted. */
  refusal(argv: readonly string[]): ConfigError
}

/**
 * `resolve` and `refusal` for a service's config tests, from its flag table and the function that
 * turns the parsed flags into its config (what the service's main runs after `parseConfig`).
 */
export function configHarness<T extends FlagTable, C>(
  flags: T,
  resolveConfig: (values: FlagValues<T>, loaded: LoadedConfig<T>) => C,
): ConfigHarness<C> {
  function resolve(argv: readonly string[], env: Readonly<Record<string, string>> = {}): C {
    const outcome = parseConfig(flags, { argv, env })
    if (outcome.action !== 'run') throw new Error(outcome.action)
    return resolveConfig(outcome.values, outcome)
  }
  function refusal(argv: readonly string[]): ConfigError {
    try {
      resolve(argv)
    } catch (error) {
      if (error instanceof ConfigError) return error
      throw error
    }
    throw new Error(`${argv.join(' ')} was accepted`)
  }
  return { resolve, refusal }
}

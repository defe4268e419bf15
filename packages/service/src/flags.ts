import type { z } from 'zod'

/**
 * A flag's value schema: parses the string a user typed (on the command line, in an environment
 * variable, or as a scalar in the config file) into the value the service uses.
 */
export type ValueSchema<T = unknown> = z.ZodType<T, string>

interface FlagCommon {
  readonly help: string
  /** Environment variable; `SHOAL_<NAME>` unless given, `false` for none. */
  readonly env?: string | false
  /** Shown in help instead of the default value, e.g. for a default computed at run time. */
  readonly defaultText?: string
}

export interface ValueFlag<S extends ValueSchema = ValueSchema> extends FlagCommon {
  readonly kind: 'value'
  readonly schema: S
  /** The value's name in help: `--port <port>`. */
  readonly placeholder: string
  readonly default?: z.input<S> | (() => z.input<S>)
}

export interface ListFlag<S extends ValueSchema = ValueSchema> extends FlagCommon {
  readonly kind: 'list'
  /** Schema of one element. */
  readonly schema: S
  readonly placeholder: string
  readonly default?: readonly z.input<S>[] | (() => readonly z.input<S>[])
  /**
   * How one string (a command-line value, an environment variable, a string in the config file)
   * splits into elements; `','` unless given, `false` to never split. The flag may also repeat.
   */
  readonly separator?: string | RegExp | false
}

export interface BooleanFlag extends FlagCommon {
  readonly kind: 'boolean'
  readonly default?: boolean
}

export type FlagSpec = ValueFlag | ListFlag | BooleanFlag

/** A service's flags, keyed by the name used on the command line (`'log-level'` for `--log-level`). */
export type FlagTable = Readonly<Record<string, FlagSpec>>

type OptionKeys = 'help' | 'env' | 'defaultText'

type ValueOptions<S extends ValueSchema> = Pick<ValueFlag<S>, OptionKeys | 'placeholder' | 'default'>
type ListOptions<S extends ValueSchema> = Pick<
  ListFlag<S>,
  OptionKeys | 'placeholder' | 'default' | 'separator'
>
type BooleanOptions = Pick<BooleanFlag, OptionKeys | 'default'>

/** Builders that keep each flag's schema type, so the parsed config is fully typed. */
export const flag = {
  /** A flag that takes one value: `--port 7400`, `--port=7400`. The last occurrence wins. */
  value<S extends ValueSchema, const O extends ValueOptions<S>>(schema: S, options: O): ValueFlag<S> & O {
    return { kind: 'value', schema, ...options }
  },
  /** A flag that may repeat and whose values may be separated: `--group a --group b,c`. */
  list<S extends ValueSchema, const O extends ListOptions<S>>(schema: S, options: O): ListFlag<S> & O {
    return { kind: 'list', schema, ...options }
  },
  /** An on/off flag: `--ack`, `--no-ack`, `--ack=false`; `SHOAL_ACK=1`; `ack: true` in a file. */
  boolean<const O extends BooleanOptions>(options: O): BooleanFlag & O {
    return { kind: 'boolean', ...options }
  },
}

/** Checks a table at the type level and returns it unchanged. */
export function defineFlags<const T extends FlagTable>(table: T): T {
  return table
}

export type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S

/** The parsed value of one flag. A value flag without a default is `undefined` when not given. */
export type FlagValue<F> = F extends BooleanFlag
  ? boolean
  : F extends ListFlag<infer S>
    ? z.output<S>[]
    : F extends ValueFlag<infer S>
      ? F extends { readonly default: unknown }
        ? z.output<S>
        : z.output<S> | undefined
      : never

/** The parsed config of a table, keyed in camelCase: `--log-level` is `logLevel`. */
export type FlagValues<T extends FlagTable> = {
  -readonly [K in keyof T & string as CamelCase<K>]: FlagValue<T[K]>
}

/** Where each setting came from, keyed like {@link FlagValues}. */
export type FlagSources<T extends FlagTable> = {
  -readonly [K in keyof T & string as CamelCase<K>]: ConfigSource
}

export type ConfigSource = 'argv' | 'env' | 'file' | 'default'

export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}

export function envName(name: string, spec: FlagSpec): string | undefined {
  if (spec.env === false) return undefined
  return spec.env ?? `SHOAL_${name.replace(/-/g, '_').toUpperCase()}`
}

/** The value the user would have typed to get the default, or undefined when there is none. */
export function defaultText(spec: FlagSpec): string | undefined {
  if (spec.defaultText !== undefined) return spec.defaultText
  if (spec.kind === 'boolean') return spec.default === true ? 'on' : undefined
  if (spec.default === undefined || typeof spec.default === 'function') return undefined
  if (spec.kind === 'list') {
    const items = spec.default as readonly unknown[]
    const joiner =
      spec.separator === undefined ? ',' : typeof spec.separator === 'string' ? spec.separator : ' '
    return items.length === 0 ? undefined : items.map(String).join(joiner)
  }
  return String(spec.default)
}

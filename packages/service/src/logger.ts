import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino'
import pinoPretty from 'pino-pretty'
import { escapeControls, escapeJsonControls } from './control-chars.js'

export type { Logger } from 'pino'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number] & LevelWithSilent

/** Anything with a synchronous-enough `write`, such as `process.stderr`. */
export interface LogSink {
  write(chunk: string): unknown
  readonly isTTY?: boolean
}

export interface LoggerOptions {
  /** The service name, on every record. */
  readonly name: string
  readonly level?: LogLevel
  /** Where records go; stderr by default, since stdout carries a service's data. */
  readonly destination?: LogSink
  /** Human-readable lines instead of JSON; on by default when the destination is a TTY. */
  readonly pretty?: boolean
  /** Colours in pretty output; on by default for a TTY unless NO_COLOR is set. */
  readonly colorize?: boolean
}

/**
 * A pino logger writing JSON lines, or, on a terminal, lines formatted by pino-pretty. The pretty
 * formatter runs in-process on each record (`prettyFactory`), never as a worker-thread transport, so
 * it keeps working when a service is bundled into one file, and it loses nothing at exit.
 *
 * Records carry text from the network (topics, receiver names, addresses), so no control character
 * reaches the destination raw: JSON lines have the ones JSON leaves alone (DEL, C1, bidirectional
 * formatting) as `\u` escapes too, and pretty lines have every string of the record escaped
 * ({@link escapeControls}) before it is formatted.
 */
export function createLogger(options: LoggerOptions): Logger {
  const sink = options.destination ?? process.stderr
  const pretty = options.pretty ?? sink.isTTY === true
  const level = options.level ?? 'info'
  if (pretty)
    return pino(
      { name: options.name, level },
      prettySink(sink, options.colorize ?? defaultColor(sink), terseLevel(level)),
    )
  return pino(
    { name: options.name, level: options.level ?? 'info', hooks: { streamWrite: escapeJsonControls } },
    sink as DestinationStream,
  )
}

function defaultColor(sink: LogSink): boolean {
  return sink.isTTY === true && process.env.NO_COLOR === undefined && pinoPretty.isColorSupported
}

/**
 * Whether readable lines at this level are terse: at `info` and above, a person at a terminal reads
 * messages, not fields. Every message says what matters in words; the fields (the same ones JSON
 * lines carry, always) show with `--log-level debug`.
 */
export function terseLevel(level: LogLevel): boolean {
  return level !== 'debug' && level !== 'trace'
}

/** pino's number for `error`: terse lines keep the fields of errors (on one line; the stack below). */
const ERROR_LEVEL = 50

function prettySink(sink: LogSink, colorize: boolean, terse: boolean): DestinationStream {
  const common = { colorize, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' }
  const full = pinoPretty.prettyFactory({ ...common, singleLine: false })
  // Terse: an info or warning record is its message alone (each message says what is wrong and
  // the fix in words); an error keeps its fields on the same line, its stack on the lines below.
  const message = pinoPretty.prettyFactory({ ...common, hideObject: true })
  const oneLine = pinoPretty.prettyFactory({ ...common, singleLine: true })
  return {
    write(record: string) {
      const parsed = escapeStrings(JSON.parse(record)) as { level?: number }
      const format = !terse ? full : (parsed.level ?? 0) >= ERROR_LEVEL ? oneLine : message
      sink.write(format(parsed))
    },
  }
}

/** Whether a logger writing to `sink` at `level` writes terse readable lines (see {@link terseLevel}). */
export function isTerseTerminal(options: {
  readonly destination: LogSink
  readonly level: LogLevel
  readonly pretty?: boolean
}): boolean {
  return (options.pretty ?? options.destination.isTTY === true) && terseLevel(options.level)
}

/**
 * The record with control characters escaped in every string and key, nested ones too; a `stack`
 * keeps its line breaks, line by line.
 */
function escapeStrings(value: unknown, key?: string): unknown {
  if (typeof value === 'string')
    return key === 'stack' ? value.split('\n').map(escapeControls).join('\n') : escapeControls(value)
  if (Array.isArray(value)) return value.map((item) => escapeStrings(item))
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value).map(([name, item]) => [escapeControls(name), escapeStrings(item, name)]),
  )
}

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
  if (pretty)
    return pino(
      { name: options.name, level: options.level ?? 'info' },
      prettySink(sink, options.colorize ?? defaultColor(sink)),
    )
  return pino(
    { name: options.name, level: options.level ?? 'info', hooks: { streamWrite: escapeJsonControls } },
    sink as DestinationStream,
  )
}

function defaultColor(sink: LogSink): boolean {
  return sink.isTTY === true && process.env.NO_COLOR === undefined && pinoPretty.isColorSupported
}

function prettySink(sink: LogSink, colorize: boolean): DestinationStream {
  const format = pinoPretty.prettyFactory({
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name',
    singleLine: false,
  })
  return {
    write(record: string) {
      sink.write(format(escapeStrings(JSON.parse(record))))
    },
  }
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

import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino'
import pinoPretty from 'pino-pretty'

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
 */
export function createLogger(options: LoggerOptions): Logger {
  const sink = options.destination ?? process.stderr
  const pretty = options.pretty ?? sink.isTTY === true
  const stream: DestinationStream = pretty ? prettySink(sink, options.colorize ?? defaultColor(sink)) : sink
  return pino({ name: options.name, level: options.level ?? 'info' }, stream)
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
      sink.write(format(record))
    },
  }
}

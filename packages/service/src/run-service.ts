import { CLOSE_REPAIR_MAX_MS } from '@shoal/transport'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { parseConfig } from './config.js'
import { escapeControls } from './control-chars.js'
import { systemEnv } from './doctor/env.js'
import { runDoctor } from './doctor/run.js'
import type { DoctorEnv, DoctorTarget } from './doctor/types.js'
import { CONFIG_EXIT_CODE, conflict, isConfigError } from './errors.js'
import type { FlagSources, FlagTable, FlagValues } from './flags.js'
import { createHealth } from './health.js'
import { renderHelp } from './help.js'
import { type HttpServerHandle, startHttpServer } from './http.js'
import { writeNewKeyFile } from './key-file.js'
import { createLogger, isTerseTerminal, type Logger, type LogLevel } from './logger.js'
import { registerBuildInfo } from './metrics.js'

/** What a started service gives back to {@link runService}. */
export interface ServiceHandle {
  /** Flush, leave groups, close sockets. Must finish within the stop deadline (2 s). */
  stop(): Promise<void>
  /** What the run did, for the final line: a sentence, or fields printed as `key=value`. */
  summary(): string | Readonly<Record<string, unknown>>
  /**
   * Read after `stop()` and the summary: a run that stopped cleanly may still have failed at what
   * it was asked to do (a sender whose `--expect`-ed receiver never acknowledged, sends that
   * failed). The message is logged and printed after the summary line, and the process exits with
   * `code` (the highest code wins).
   */
  verdict?(): ServiceVerdict | undefined
}

/** A run's failure found at its end: the exit code and the sentence that says why. */
export interface ServiceVerdict {
  readonly code: number
  readonly message: string
}

export interface ServiceContext<C> {
  readonly name: string
  readonly version: string
  readonly config: C
  readonly logger: Logger
  /** The service's own prom-client registry, served on `/metrics` when `--http` is given. */
  readonly registry: Registry
  /** Aborted as soon as shutdown begins (signal, `shutdown()`, `fail()`): stop taking input. */
  readonly signal: AbortSignal
  /** Data output (the receiver's JSON lines); logs never go here. */
  readonly stdout: OutputStream
  readonly stdin: NodeJS.ReadableStream
  /** Bound and joined: `/healthz` turns 200, with `detail` in its body. */
  ready(detail?: Readonly<Record<string, unknown>>): void
  /** Finish normally, as on SIGTERM (for example after `--count` frames): stop, summary, exit 0. */
  shutdown(reason: string): void
  /** A failure at run time: log it, stop, exit 1. */
  fail(error: unknown): void
  /**
   * Calls `listener` on every SIGHUP (re-read key files). A service that registers none keeps the
   * default: SIGHUP ends it, as a hung-up terminal should.
   */
  onReload(listener: () => void): void
}

export interface ServiceDefinition<T extends FlagTable, C> {
  /** The command name, used in messages and help: `shoal-send`. */
  readonly name: string
  readonly version: string
  /** For `--help`: what the command does. */
  readonly description: string
  readonly flags: T
  /**
   * Turns the parsed flags into the service's config, checking what one flag alone cannot
   * (`--mode broadcast` needs `--address`). Throw a `ConfigError` to exit 2.
   */
  readonly resolve?: (values: FlagValues<T>, info: { readonly sources: FlagSources<T> }) => C
  start(context: ServiceContext<C>): ServiceHandle | Promise<ServiceHandle>
  /** What `--doctor` checks for this config (see `doctor/`); without it `--doctor` exits 2. */
  readonly doctor?: (config: C) => readonly DoctorTarget[]
}

export interface OutputStream extends NodeJS.WritableStream {
  readonly isTTY?: boolean
}

/** The process around a service; tests replace parts of it. */
export interface ServiceIo {
  readonly argv?: readonly string[]
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly cwd?: string
  readonly stdin?: NodeJS.ReadableStream
  readonly stdout?: OutputStream
  readonly stderr?: OutputStream
  readonly exit?: (code: number) => void
  /**
   * Where SIGINT, SIGTERM, SIGHUP, uncaughtException and unhandledRejection are heard; `process` by
   * default.
   */
  readonly events?: Pick<NodeJS.EventEmitter, 'on' | 'off'>
  /** How long `stop()` may take before the process exits 1 anyway; {@link DEFAULT_STOP_TIMEOUT_MS} by default. */
  readonly stopTimeoutMs?: number
  /** What `--doctor` reads and runs; this host by default. */
  readonly doctorEnv?: DoctorEnv
}

/** The flags every service reads itself; see `commonFlags`. */
interface CommonValues {
  readonly logLevel?: LogLevel
  readonly http?: number
  readonly httpHost?: string
  /** `--new-key` (keyFlags): write a key file and exit instead of running. */
  readonly newKey?: string
  readonly newKeyId?: number
  readonly doctor?: boolean
}

/**
 * How long a stop may take, ms. It must outlast what a service's transport legitimately waits for
 * on close: a publisher waits up to `CLOSE_REPAIR_MAX_MS` (2 s) for its receivers' last repairs, for
 * instance for a receiver that left before reporting that it had everything. With 2 s here, a
 * `shoal-send --count 5` to a `shoal-recv --count 5` could exit 1 when the receiver left first.
 */
export const DEFAULT_STOP_TIMEOUT_MS = CLOSE_REPAIR_MAX_MS + 3_000
const SIGNALS = ['SIGINT', 'SIGTERM'] as const

/**
 * Runs a service: parses its flags (help, version and config errors exit here, with 0 or 2), makes
 * the logger, serves `/metrics` and `/healthz` when `--http` is given, calls `start`, and on
 * SIGINT/SIGTERM or `shutdown()` aborts `signal`, awaits `stop()`, prints the summary and exits 0 —
 * or exits 1 on a failure, or when `stop()` outlives the deadline. Resolves with the exit code.
 */
export function runService<T extends FlagTable, C = FlagValues<T>>(
  definition: ServiceDefinition<T, C>,
  io: ServiceIo = {},
): Promise<number> {
  const { name } = definition
  const stdout = io.stdout ?? process.stdout
  const stderr = io.stderr ?? process.stderr
  const events = io.events ?? process
  const exitProcess = io.exit ?? ((code: number) => process.exit(code))
  const stopTimeoutMs = io.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS
  // Lines may hold text from the network (a summary's topics): no control character goes out raw.
  const print = (line: string) =>
    stderr.write(`${name}: ${line.split('\n').map(escapeControls).join('\n')}\n`)

  let resolveDone!: (code: number) => void
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve
  })
  let exited = false
  const cleanups: (() => void)[] = []
  const finish = (code: number) => {
    if (exited) return
    exited = true
    for (const cleanup of cleanups) cleanup()
    exitProcess(code)
    resolveDone(code)
  }

  // --- configuration: everything here exits 0 (help, version) or 2 (a config error)
  let config: C
  let common: CommonValues
  try {
    const outcome = parseConfig(definition.flags, {
      argv: io.argv ?? process.argv.slice(2),
      env: io.env ?? process.env,
      ...(io.cwd === undefined ? {} : { cwd: io.cwd }),
    })
    if (outcome.action === 'help') {
      stdout.write(renderHelp(definition))
      finish(0)
      return done
    }
    if (outcome.action === 'version') {
      stdout.write(`${name} ${definition.version}\n`)
      finish(0)
      return done
    }
    common = outcome.values as CommonValues
    const sources = outcome.sources as Readonly<Record<string, string>>
    if (sources.newKey === 'file' || sources.newKeyId === 'file')
      throw conflict(
        '--new-key',
        '--new-key and --new-key-id are given on the command line only, not in a config file',
      )
    if (common.newKey === undefined && sources.newKeyId === 'argv')
      throw conflict('--new-key-id', '--new-key-id needs --new-key <file>')
    if (common.newKey !== undefined) {
      // An action like --help: nothing else runs. The key itself is never printed.
      const made = writeNewKeyFile(common.newKey, common.newKeyId)
      stdout.write(`wrote ${made.path}: key id ${made.keyId}, mode 0600\n`)
      finish(0)
      return done
    }
    config = definition.resolve
      ? definition.resolve(outcome.values, { sources: outcome.sources })
      : (outcome.values as C)
  } catch (error) {
    if (!isConfigError(error)) {
      print(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
      finish(1)
      return done
    }
    print(error.message)
    stderr.write(`Try '${name} --help' for the flags.\n`)
    finish(CONFIG_EXIT_CODE)
    return done
  }

  if (common.doctor === true) {
    if (definition.doctor === undefined) {
      print('--doctor is not available for this command')
      finish(CONFIG_EXIT_CODE)
      return done
    }
    const targets = definition.doctor(config)
    const env = io.doctorEnv ?? systemEnv()
    runDoctor(targets, env, (line) => stdout.write(`${escapeControls(line)}\n`)).then(
      finish,
      (error: unknown) => {
        print(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
        finish(1)
      },
    )
    return done
  }

  // --- run
  const level = common.logLevel ?? 'info'
  const logger = createLogger({ name, level, destination: stderr })
  // On a terminal at the default level, start-up and stop say what matters in a line or two: the
  // `ready` and `stopped` records repeat what the service's own start line and the summary line
  // say, so there they are debug; in JSON lines (pipes, files, journald) they stay info.
  const routine = isTerseTerminal({ destination: stderr, level }) ? 'debug' : 'info'
  const registry = new Registry()
  const health = createHealth({ service: name, version: definition.version })
  const controller = new AbortController()
  const startedAt = Date.now()

  let request: { reason: string; code: number } | undefined
  let onRequest: (() => void) | undefined
  const requested = new Promise<void>((resolve) => {
    onRequest = resolve
  })
  const requestStop = (reason: string, code: number) => {
    if (request !== undefined) {
      if (code !== 0) request.code = code
      return
    }
    request = { reason, code }
    health.markStopping()
    controller.abort(new Error(`shutting down: ${reason}`))
    const deadline = setTimeout(() => {
      logger.error({ stopTimeoutMs }, 'stop did not finish in time')
      print(`stop did not finish within ${stopTimeoutMs} ms; exiting`)
      finish(1)
    }, stopTimeoutMs)
    cleanups.push(() => clearTimeout(deadline))
    onRequest?.()
  }

  const fail = (error: unknown) => {
    logger.error({ err: error }, 'failed')
    print(`error: ${error instanceof Error ? error.message : String(error)}`)
    requestStop('error', 1)
  }

  // A service runs until it is told to stop, even while it has no socket or timer of its own.
  const keepAlive = setInterval(() => {}, 1 << 30)
  cleanups.push(() => clearInterval(keepAlive))

  const listen = (event: string, listener: (...args: unknown[]) => void) => {
    events.on(event, listener)
    cleanups.push(() => events.off(event, listener))
  }
  for (const signal of SIGNALS) {
    listen(signal, () => {
      if (request !== undefined) {
        print(`${signal} again; exiting now`)
        finish(1)
        return
      }
      logger.info({ signal }, 'shutting down')
      requestStop(signal, 0)
    })
  }
  listen('uncaughtException', (error) => fail(error))
  listen('unhandledRejection', (error) => fail(error))
  const onStdoutError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') requestStop('stdout closed', 0)
    else fail(error)
  }
  stdout.on('error', onStdoutError)
  cleanups.push(() => stdout.off('error', onStdoutError))

  const context: ServiceContext<C> = {
    name,
    version: definition.version,
    config,
    logger,
    registry,
    signal: controller.signal,
    stdout,
    stdin: io.stdin ?? process.stdin,
    ready(detail) {
      if (health.status === 'ready') return
      health.markReady(detail)
      logger[routine](detail ?? {}, 'ready')
    },
    shutdown: (reason) => requestStop(reason, 0),
    fail,
    onReload(listener) {
      listen('SIGHUP', () => {
        if (request === undefined) listener()
      })
    },
  }

  const run = async () => {
    let server: HttpServerHandle | undefined
    let handle: ServiceHandle | undefined
    try {
      if (common.http !== undefined) {
        registerBuildInfo(registry, name, definition.version)
        collectDefaultMetrics({ register: registry })
        server = await startHttpServer({
          host: common.httpHost ?? '127.0.0.1',
          port: common.http,
          registry,
          health,
        })
        logger.info({ url: server.url }, 'serving /metrics and /healthz')
      }
      handle = await definition.start(context)
    } catch (error) {
      logger.error({ err: error }, 'failed to start')
      print(`failed to start: ${error instanceof Error ? error.message : String(error)}`)
      await server?.close()
      finish(1)
      return
    }

    await requested
    const stop = request!
    let code = stop.code
    try {
      await handle.stop()
    } catch (error) {
      logger.error({ err: error }, 'stop failed')
      print(`stop failed: ${error instanceof Error ? error.message : String(error)}`)
      code = 1
    }
    let summary: string | Readonly<Record<string, unknown>>
    try {
      summary = handle.summary()
    } catch (error) {
      summary = `no summary: ${error instanceof Error ? error.message : String(error)}`
    }
    let verdict: ServiceVerdict | undefined
    try {
      verdict = handle.verdict?.()
    } catch (error) {
      verdict = { code: 1, message: `no verdict: ${error instanceof Error ? error.message : String(error)}` }
    }
    const uptimeMs = Date.now() - startedAt
    logger[routine]({ reason: stop.reason, uptimeMs, summary }, 'stopped')
    print(`stopped (${stop.reason}) after ${(uptimeMs / 1000).toFixed(1)}s: ${formatSummary(summary)}`)
    if (verdict !== undefined) {
      logger.error({ exitCode: verdict.code }, verdict.message)
      print(`error: ${verdict.message}`)
      code = Math.max(code, verdict.code)
    }
    await server?.close()
    finish(Math.max(code, request?.code ?? 0))
  }
  run().catch((error: unknown) => {
    print(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    finish(1)
  })
  return done
}

/** `frames=10 bytes=2000 topics=["a","b"]`, or the sentence as given. */
export function formatSummary(summary: string | Readonly<Record<string, unknown>>): string {
  if (typeof summary === 'string') return summary
  const fields = Object.entries(summary).map(([key, value]) => {
    const text =
      typeof value === 'string' && !/[\s"=]/.test(value) && value !== '' ? value : JSON.stringify(value)
    return `${key}=${text}`
  })
  return fields.length === 0 ? 'nothing to report' : fields.join(' ')
}

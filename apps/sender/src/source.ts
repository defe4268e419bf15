/** What every kind of input (simulated sensors, JSON lines, a replay, raw datagrams) looks like to the app. */
import type { Logger, OutputStream } from '@shoal/service'
import type { Publisher } from '@shoal/transport'
import type { FrameSink } from './frame-sink.js'

export interface SourceContext {
  readonly publisher: Publisher
  readonly sink: FrameSink
  /** Aborted when the source must stop: shutdown, `--count` reached, `--duration` elapsed. */
  readonly signal: AbortSignal
  readonly logger: Logger
  /** Data output (raw mode prints replies here). */
  readonly stdout: OutputStream
  /** A datagram that could not be sent: counted and logged; the source goes on. */
  readonly onSendError: (error: unknown) => void
}

export interface Source {
  /** `sensors`, `input`, `replay` or `raw`. */
  readonly kind: string
  /** Whether small frames are batched (`--batch-linger`); replays and raw datagrams never are. */
  readonly batched: boolean
  /** Startup detail for the log. */
  readonly describe: Readonly<Record<string, unknown>>
  /**
   * Publishes until the input ends, resolving with why (`end of input`), or until `signal` aborts,
   * resolving with undefined.
   */
  run(context: SourceContext): Promise<string | undefined>
  /** This source's own counts for the summary line (bad lines, replies...). */
  summary(): Readonly<Record<string, unknown>>
  /**
   * Why the run fails (exit 1) although the source went to its end, or undefined: a replay that
   * had to skip damaged parts of its recording. Asked once the source is done and sends settled.
   */
  failure?(): string | undefined
}

/** True for the error an aborted `timers/promises` sleep or an aborted stream throws. */
export function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError'
}

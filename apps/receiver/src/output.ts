import type { TypeRegistry } from '@shoal/schema'
import type { OutputStream } from '@shoal/service'
import type { RawDatagram, ReceivedFrame, StatsSnapshot } from '@shoal/transport'
import type { Output as OutputKind } from './config.js'
import { LineWriter } from './line-writer.js'
import { JsonOutput } from './output-json.js'
import { PrettyOutput } from './output-pretty.js'

/** Where received frames and datagrams are shown: stdout as JSON lines, the terminal view, or nowhere. */
export interface Output {
  frame(frame: ReceivedFrame): void
  raw(datagram: RawDatagram): void
  /** How often `tick` wants to be called, ms; undefined: never. */
  readonly statsIntervalMs: number | undefined
  /** Updates the stats shown (the terminal view's rates and block). */
  tick(): void
  /** Lines dropped because stdout did not keep up (see `OUTPUT_BACKLOG_BYTES`). */
  readonly dropped: number
  /** Writes what is pending and the final stats; resolves once stdout has taken them (bounded). */
  close(): Promise<void>
}

export interface OutputOptions {
  readonly full: boolean
  /** The types messages are printed with (see `FrameObjectOptions`). */
  readonly types?: TypeRegistry | undefined
  /** The counters the terminal view shows. */
  readonly stats: () => StatsSnapshot
  /** A session's source id, shown beside it in the terminal view. */
  readonly sourceId?: (session: string) => string | undefined
  /** Called once, when the first line is dropped because stdout does not keep up. */
  readonly onFirstDrop?: () => void
  /**
   * Where logs go (stderr). When it is the terminal the view draws on, the stats block steps
   * aside before each log write, so log lines are never drawn over.
   */
  readonly logs?: NodeJS.WriteStream
}

/** Calls `before` ahead of every write to `stream`; returns the function that undoes it. */
function beforeWrites(stream: NodeJS.WriteStream, before: () => void): () => void {
  const write = stream.write
  stream.write = function (this: NodeJS.WriteStream, ...args: Parameters<typeof write>) {
    before()
    return write.apply(this, args)
  } as typeof write
  return () => {
    stream.write = write
  }
}

export function createOutput(kind: OutputKind, stdout: OutputStream, options: OutputOptions): Output {
  const writer = new LineWriter(stdout, options.onFirstDrop)
  if (kind === 'json') return new JsonOutput(writer, options)
  if (kind === 'pretty') {
    const tty = stdout.isTTY === true
    const pretty = new PrettyOutput(writer, {
      ...options,
      tty,
      columns: () => (stdout as { columns?: number }).columns,
    })
    if (tty && options.logs?.isTTY === true) {
      const restore = beforeWrites(options.logs, () => pretty.stepAside())
      const close = pretty.close.bind(pretty)
      pretty.close = async () => {
        await close()
        restore()
      }
    }
    return pretty
  }
  return NO_OUTPUT
}

const NO_OUTPUT: Output = {
  frame() {},
  raw() {},
  statsIntervalMs: undefined,
  tick() {},
  dropped: 0,
  close: async () => {},
}

import type { TypeRegistry } from '@shoal/schema'
import { escapeControls } from '@shoal/service'
import type { RawDatagram, ReceivedFrame, StatsSnapshot, StreamStats } from '@shoal/transport'
import { describeMessage } from './describe-message.js'
import { frameToObject } from './frame-object.js'
import type { LineWriter } from './line-writer.js'
import { LruMap } from './lru-map.js'
import type { Output } from './output.js'
import { describeRaw } from './raw.js'

/** At most one line per stream (source and topic, or sender address with --raw) this often, ms. */
export const PRETTY_LINE_INTERVAL_MS = 250
/** Rates are averaged over this long, ms. */
export const RATE_WINDOW_MS = 5_000
/** How often rates are computed and the stats block redrawn on a terminal, ms. */
export const TTY_STATS_INTERVAL_MS = 500
/** How often the stats block is printed when stdout is not a terminal, ms. */
export const PLAIN_STATS_INTERVAL_MS = 5000
/** Streams listed in the stats block; the rest are counted in one line. */
export const MAX_STATS_ROWS = 12
/**
 * Streams the view keeps state for (when each last showed a line, and its recent frame counts for
 * the rate): a stranger can make new sessions and topics as fast as datagrams go, so the view's
 * tables hold at most this many; the least recently seen makes room, and is counted.
 */
export const MAX_VIEW_STREAMS = 1024
/** A stream with no frame for this long is forgotten by the view (its next frame is shown at once), ms. */
export const VIEW_STREAM_IDLE_MS = 60_000

/** Move to the start of the line `n` lines up; clear from the cursor to the end of the screen. */
const up = (n: number) => `\u001b[${n}F`
const CLEAR_BELOW = '\u001b[J'

export interface PrettyOptions {
  readonly full: boolean
  /** The types messages are printed with (see `FrameObjectOptions`). */
  readonly types?: TypeRegistry | undefined
  /** Redraw the stats block in place (ANSI); otherwise print it every few seconds. */
  readonly tty: boolean
  /** Terminal width; lines are cut to it so that the redraw can count them. */
  readonly columns: () => number | undefined
  /** The counters shown in the stats block. */
  readonly stats: () => StatsSnapshot
  /** A session's source id (`--source-id` of its sender), shown beside it when known. */
  readonly sourceId?: (session: string) => string | undefined
  readonly now?: () => number
}

interface Sampler {
  lastShown: number
  lastSeen: number
  notShown: number
}

/** A stream's (time, frames) at recent ticks, oldest first, and the rate measured over them. */
interface Mark {
  samples: Array<[number, number]>
  rate: number
}

/**
 * `--output pretty`: for people at a terminal. One line per frame, sampled to at most one per
 * stream every {@link PRETTY_LINE_INTERVAL_MS} (a line says how many frames were not shown before
 * it), and below them a stats block per source and topic — rate, frames, gaps, duplicates, drops —
 * redrawn in place on a terminal, or printed every {@link PLAIN_STATS_INTERVAL_MS} elsewhere.
 * Control characters in what came from the network are shown escaped (`\x1b`, `\u202e`).
 */
export class PrettyOutput implements Output {
  readonly statsIntervalMs: number
  readonly #writer: LineWriter
  readonly #options: PrettyOptions
  readonly #now: () => number
  /** Per stream (session and topic, or sender address): when it last showed a line. */
  readonly #samplers = new LruMap<string, Sampler>(MAX_VIEW_STREAMS)
  /** Per stream of the stats snapshot, the first {@link MAX_VIEW_STREAMS} in the block's order. */
  #marks = new Map<string, Mark>()
  #lastTick: number
  #pending: string[] = []
  /** Lines of the stats block now on the screen, above the cursor. */
  #drawn = 0
  #scheduled: NodeJS.Immediate | undefined
  #started = false

  constructor(writer: LineWriter, options: PrettyOptions) {
    this.#writer = writer
    this.#options = options
    this.#now = options.now ?? Date.now
    this.#lastTick = this.#now()
    this.statsIntervalMs = options.tty ? TTY_STATS_INTERVAL_MS : PLAIN_STATS_INTERVAL_MS
  }

  get dropped(): number {
    return this.#writer.dropped
  }

  /** Streams the view forgot to stay within {@link MAX_VIEW_STREAMS} (shown in the stats block). */
  get evictedStreams(): number {
    return this.#samplers.evictions
  }

  /** Entries in the view's per-stream tables: line sampling, and rates. */
  get tableSizes(): { readonly samplers: number; readonly rates: number } {
    return { samplers: this.#samplers.size, rates: this.#marks.size }
  }

  frame(frame: ReceivedFrame): void {
    const notShown = this.#sample(`${frame.source.session}\u0000${frame.topic}`)
    if (notShown === undefined) return
    const object = frameToObject(frame, { full: this.#options.full, types: this.#options.types })
    const what = describeMessage(object.type, object.message)
    this.#show(
      `${clock(frame.receivedAt)}  ${object.topic}  ${this.#source(object.source.session)} #${frame.sequence}  ${what}${more(notShown)}`,
    )
  }

  raw(datagram: RawDatagram): void {
    const from = `${datagram.from.address}:${datagram.from.port}`
    const notShown = this.#sample(from)
    if (notShown === undefined) return
    this.#show(
      `${clock(datagram.receivedAt)}  ${from}  ${datagram.data.length} B  ${describeRaw(datagram.data)}${more(notShown)}`,
    )
  }

  /** Measures the rates; redraws the block (terminal) or prints it when anything arrived (elsewhere). */
  tick(): void {
    const now = this.#now()
    const previous = this.#lastTick
    this.#lastTick = now
    // Rates of the streams the block can show, and no others: the table is rebuilt from the
    // snapshot, so a stream gone from it is gone from here too.
    const marks = new Map<string, Mark>()
    for (const stream of inBlockOrder(this.#options.stats().received).slice(0, MAX_VIEW_STREAMS)) {
      const key = streamKey(stream)
      // A stream new since the last tick had 0 frames then.
      const mark = this.#marks.get(key) ?? { samples: [[previous, 0]], rate: 0 }
      mark.samples.push([now, stream.frames])
      // Measure over the last RATE_WINDOW_MS, so a 1 Hz stream does not flip between 0 and 2/s.
      while (mark.samples.length > 2 && now - mark.samples[1]![0] >= RATE_WINDOW_MS) mark.samples.shift()
      const [since, framesThen] = mark.samples[0]!
      mark.rate = now > since ? ((stream.frames - framesThen) * 1000) / (now - since) : 0
      marks.set(key, mark)
    }
    this.#marks = marks
    for (const [key, sampler] of this.#samplers.entries())
      if (now - sampler.lastSeen >= VIEW_STREAM_IDLE_MS) this.#samplers.delete(key)
    if (!this.#options.tty) {
      const snapshot = this.#options.stats()
      if (snapshot.datagramsIn > 0) this.#pending.push(...this.#statsBlock(snapshot))
    }
    this.#schedule()
  }

  close(): Promise<void> {
    if (!this.#options.tty) this.#pending.push(...this.#statsBlock(this.#options.stats()))
    this.#render()
    return this.#writer.drain()
  }

  /**
   * Erases the stats block so that something else written to the terminal (a log line on stderr)
   * is not drawn over; the block comes back below it at the end of the event-loop turn.
   */
  stepAside(): void {
    if (this.#drawn === 0) return
    this.#writer.write(up(this.#drawn) + CLEAR_BELOW)
    this.#drawn = 0
    this.#schedule()
  }

  /** Undefined when the line is not shown; else how many frames of the stream were not shown before it. */
  #sample(key: string): number | undefined {
    const now = this.#now()
    const sampler = this.#samplers.get(key)
    if (sampler === undefined) {
      this.#samplers.set(key, { lastShown: now, lastSeen: now, notShown: 0 })
      return 0
    }
    sampler.lastSeen = now
    if (now - sampler.lastShown < PRETTY_LINE_INTERVAL_MS) {
      sampler.notShown++
      return undefined
    }
    const notShown = sampler.notShown
    sampler.lastShown = now
    sampler.notShown = 0
    return notShown
  }

  #show(line: string): void {
    if (!this.#started) {
      this.#started = true
      this.#pending.push(
        `One line per frame, at most one per stream every ${PRETTY_LINE_INTERVAL_MS} ms; (+n): frames not shown before it.`,
      )
    }
    this.#pending.push(line)
    this.#schedule()
  }

  #schedule(): void {
    this.#scheduled ??= setImmediate(() => this.#render())
  }

  /** At most once per event-loop turn: erase the stats block, print the new lines, draw the block again. */
  #render(): void {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled)
    this.#scheduled = undefined
    // Topics, sources and message fields come from the network: no control character in them reaches
    // the terminal raw (the view's own escape sequences are written apart from lines).
    const lines = this.#pending.map(escapeControls)
    this.#pending = []
    if (!this.#options.tty) {
      for (const line of lines) this.#writer.line(line)
      return
    }
    const width = lineWidth(this.#options.columns())
    const block = this.#statsBlock(this.#options.stats()).map(escapeControls)
    if (this.#drawn > 0) this.#writer.write(up(this.#drawn) + CLEAR_BELOW)
    for (const line of [...lines, ...block]) this.#writer.line(cut(line, width))
    this.#writer.flush()
    this.#drawn = block.length
  }

  #statsBlock(snapshot: StatsSnapshot): string[] {
    const streams = inBlockOrder(snapshot.received)
    const lines = [
      `${'source'.padEnd(8)}  ${this.#options.sourceId === undefined ? '' : `${'source id'.padEnd(SOURCE_ID_WIDTH)}  `}${'topic'.padEnd(16)} ${columns(['rate/s', 'frames', 'gaps', 'dups', 'drops'])}`,
      ...streams.slice(0, MAX_STATS_ROWS).map((stream) => this.#row(stream)),
    ]
    if (streams.length > MAX_STATS_ROWS) lines.push(`… and ${streams.length - MAX_STATS_ROWS} more streams`)
    if (streams.length === 0) lines.push(`no frames yet (${snapshot.datagramsIn} datagrams)`)
    const drops = Object.entries(snapshot.drops)
      .filter(([, n]) => (n ?? 0) > 0)
      .map(([reason, n]) => `${reason} ${n}`)
    if (drops.length > 0) lines.push(`dropped: ${drops.join(', ')}`)
    if ((snapshot.kernelDrops ?? 0) > 0)
      lines.push(
        `kernel: ${snapshot.kernelDrops} datagrams dropped on this host, receive buffer full (not lost on the network)`,
      )
    const table = snapshot.streams
    if (table !== undefined && table.evicted + table.expired > 0)
      lines.push(
        `streams: ${table.active} tracked, ${table.evicted} let go past the caps, ${table.expired} idle`,
      )
    const { nacksSent, fragmentsRepaired } = snapshot.repair
    if (nacksSent > 0) lines.push(`repair: ${nacksSent} NACKs sent, ${fragmentsRepaired} fragments repaired`)
    const evicted = this.#samplers.evictions
    if (evicted > 0)
      lines.push(
        `view: over ${MAX_VIEW_STREAMS} streams at once; ${evicted} forgotten (their (+n) counts are lost)`,
      )
    return lines
  }

  #row(stream: StreamStats): string {
    const drops = Object.values(stream.drops).reduce((sum: number, n) => sum + (n ?? 0), 0)
    const rate = this.#marks.get(streamKey(stream))?.rate ?? 0
    // Escaped before padding, so that the columns line up.
    // Without a lookup (tests, --raw) no column; with one, `-` for a session with no id yet.
    const lookup = this.#options.sourceId
    const id =
      lookup === undefined ? '' : `${escapeControls(lookup(stream.source) ?? '-').padEnd(SOURCE_ID_WIDTH)}  `
    return `${escapeControls(stream.source).padEnd(8)}  ${id}${escapeControls(stream.topic).padEnd(16)} ${columns([rate.toFixed(1), stream.frames, stream.gaps, stream.duplicates, drops])}`
  }

  /** `eb4831e3 imu0`: the session, and its source id when known. */
  #source(session: string): string {
    const id = this.#options.sourceId?.(session)
    return id === undefined ? session : `${session} ${id}`
  }
}

const COLUMN_WIDTHS = [9, 10, 7, 6, 6]
/** Width of the stats block's source id column (longer ids push the row right). */
const SOURCE_ID_WIDTH = 12

function columns(values: readonly (string | number)[]): string {
  return values.map((value, i) => String(value).padStart(COLUMN_WIDTHS[i] ?? 6)).join(' ')
}

/** The stats block's order: by topic, then source. */
function inBlockOrder(streams: readonly StreamStats[]): StreamStats[] {
  return [...streams].sort((a, b) => a.topic.localeCompare(b.topic) || a.source.localeCompare(b.source))
}

function streamKey(stream: StreamStats): string {
  return `${stream.source}\u0000${stream.topic}`
}

/** Local time of day, HH:MM:SS.mmm. */
function clock(ms: number): string {
  const t = new Date(ms)
  const two = (n: number) => String(n).padStart(2, '0')
  return `${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}.${String(t.getMilliseconds()).padStart(3, '0')}`
}

function more(notShown: number): string {
  return notShown > 0 ? `  (+${notShown})` : ''
}

/** Usable width of a terminal line; 80 columns when the terminal does not say. */
function lineWidth(columns: number | undefined): number {
  return (columns !== undefined && columns >= 20 ? columns : 80) - 1
}

function cut(line: string, width: number): string {
  return line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line
}

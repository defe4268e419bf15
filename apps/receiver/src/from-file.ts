import { once } from 'node:events'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import {
  describeDamage,
  openRecording,
  type RecordingFrame,
  recordedTypeLearner,
  skipFields,
} from '@shoal/recording'
import { formatFingerprint, registry, type TypeRegistry } from '@shoal/schema'
import type { OutputStream, ServiceContext, ServiceHandle } from '@shoal/service'
import { formatDuration } from '@shoal/service'
import { compileTopicFilter, type ReceivedFrame, sessionHex } from '@shoal/transport'
import type { ReceiverConfig } from './config.js'
import { frameLine } from './output-json.js'

/**
 * Frames printed between two turns of the event loop: a signal (Ctrl-C) or `--duration` is heard
 * at least this often while a file is read.
 */
export const FROM_FRAMES_PER_TURN = 1000

/**
 * `shoal-recv --from FILE`: prints a recording's frames (MCAP or SHOALREC, told apart by their first
 * bytes) as the live receiver printed them, one JSON line each, with no socket at all, then exits:
 * 0 at the end of the file, 1 when the file was damaged (every good frame printed first), as
 * `shoal-send --replay` treats damage. Unlike live output, no line is ever dropped: the reader waits
 * for stdout. `--topic`, `--count`, `--duration` and `--full` apply as they do live. Types that are
 * not built in are decoded with `--proto`, or with the schema an MCAP file carries for them.
 */
export async function startFromFile(
  ctx: ServiceContext<ReceiverConfig>,
  path: string,
): Promise<ServiceHandle> {
  const { config, logger, signal } = ctx
  let recording: Awaited<ReturnType<typeof openRecording>>
  try {
    recording = await openRecording(path, { types: config.types })
  } catch (error) {
    throw new Error(`--from ${path}: ${(error as Error).message}`, { cause: error })
  }
  const keep = compileTopicFilter(config.topic.length > 0 ? config.topic : undefined)
  const limit = config.count ?? Number.POSITIVE_INFINITY
  const out = config.output === 'json' ? ctx.stdout : undefined
  let printed = 0
  let undecodable = 0

  const timers: NodeJS.Timeout[] = []
  if (config.duration !== undefined) {
    const duration = config.duration
    timers.push(setTimeout(() => ctx.shutdown(`--duration ${formatDuration(duration)}`), duration))
  }

  // A type the file describes (MCAP channel schema, SHOALREC schema record) is learnt from it.
  const learn = recordedTypeLearner(config.types, (outcome) => {
    const fields = { type: outcome.typeName, fingerprint: formatFingerprint(outcome.fingerprint) }
    if (outcome.added) logger.info(fields, `type ${outcome.typeName} from the recording's schema`)
    else
      logger.warn(
        { ...fields, reason: outcome.reason },
        `the recording's schema of ${outcome.typeName} is not used: ${outcome.reason}`,
      )
  })
  async function read(): Promise<void> {
    let turn = 0
    for (const recorded of recording.frames()) {
      if (signal.aborted) return
      if (!keep(recorded.topic)) continue
      learn(recorded)
      const frame = toReceivedFrame(recorded, config.types)
      if (frame === undefined) {
        undecodable++
        continue
      }
      if (out !== undefined)
        await writeLine(out, frameLine(frame, { full: config.full, types: config.types }), signal)
      if (++printed >= limit) return ctx.shutdown(`--count ${limit}`)
      if (++turn >= FROM_FRAMES_PER_TURN) {
        turn = 0
        await yieldToLoop()
      }
    }
    if (signal.aborted) return
    const { report } = recording
    if (report.truncatedTail)
      logger.warn(
        { path, frames: report.frames, skippedBytes: report.skippedBytes },
        `${path} ends inside a record (the recorder was stopped mid-write); printed the whole records before it`,
      )
    else if (!report.complete)
      logger.info(
        { path },
        `${path} has no summary (the recorder was killed); read up to its last whole chunk`,
      )
    const damage = describeDamage(path, report)
    if (damage === undefined) return ctx.shutdown('end of recording')
    logger.warn({ path, skips: report.skips.slice(0, 10) }, damage)
    ctx.fail(new Error(`${damage}; printed the ${printed} good frames`))
  }

  logger.info(
    { from: path, format: recording.format, topics: config.topic.length > 0 ? config.topic : 'all' },
    'reading',
  )
  ctx.ready({ from: path, format: recording.format })
  const done = read().catch((error: unknown) => ctx.fail(error))

  let stopped = false
  return {
    async stop() {
      if (stopped) return
      stopped = true
      for (const timer of timers) clearTimeout(timer)
      await done
    },
    summary: () => ({
      frames: printed,
      from: path,
      format: recording.format,
      ...(undecodable > 0 ? { undecodable } : {}),
      ...skipFields(recording.report),
    }),
  }
}

/** Writes one line; waits (until `signal`) while stdout holds more than its buffer, so none is dropped. */
async function writeLine(out: OutputStream, line: string, signal: AbortSignal): Promise<void> {
  if (out.write(`${line}\n`)) return
  try {
    await once(out, 'drain', { signal })
  } catch (error) {
    if (!signal.aborted) throw error
  }
}

/**
 * A recorded frame as the transport delivers one live: its message decoded by the type its
 * fingerprint names. Undefined when that type cannot decode the payload (a live receiver drops such
 * a frame before it is shown or recorded, so only a foreign or damaged file has one).
 */
export function toReceivedFrame(
  recorded: RecordingFrame,
  types: TypeRegistry = registry,
): ReceivedFrame | undefined {
  const type = types.byFingerprint(recorded.fingerprint)
  let message: unknown
  if (type !== undefined) {
    try {
      message = type.decode(recorded.payload)
    } catch {
      return undefined
    }
  }
  const { address, port } = splitSource(recorded.source)
  return {
    topic: recorded.topic,
    typeName: type?.typeName ?? recorded.typeName,
    fingerprint: recorded.fingerprint,
    message,
    payload: recorded.payload,
    source: { sessionId: recorded.sessionId, session: sessionHex(recorded.sessionId), address, port },
    sequence: recorded.sequence,
    hops: recorded.hops,
    ackRequested: false,
    receivedAt: Number(recorded.receivedAtNs / 1_000_000n),
  }
}

/** `10.0.0.5:40000` or `[::1]:40000` as recorded; anything else is an address without a port (0). */
export function splitSource(source: string): { address: string; port: number } {
  const match = /^(?:\[([^\]]*)\]|([^:]*)):(\d{1,5})$/.exec(source)
  if (match === null) return { address: source, port: 0 }
  return { address: match[1] ?? match[2]!, port: Number(match[3]) }
}

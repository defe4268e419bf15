/**
 * Replays a recording made by a receiver (`shoal-recv --record`), MCAP or Shoal's own format (told
 * apart by the file's first bytes): every recorded frame is published on its recorded topic with its
 * recorded fingerprint and payload, spaced as it was received (receive times: MCAP log times),
 * divided by `--speed` (0: as fast as the socket takes them).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import {
  describeDamage,
  openRecording,
  type Recording,
  type RecordingReport,
  recordedTypeLearner,
  skipFields,
} from '@shoal/recording'
import { type DynamicTypeRegistry, formatFingerprint } from '@shoal/schema'
import { isAbort, type Source } from './source.js'

export interface ReplayOptions {
  readonly path: string
  /** 1 = original timing, 2 = twice as fast, 0 = no waiting. */
  readonly speed: number
  /** The publisher's types (its schema source): the recording's schemas are added to them. */
  readonly types?: DynamicTypeRegistry
}

/** What a first pass over the file found: how many frames, over how long, and what was skipped. */
interface Survey {
  readonly frames: number
  readonly firstNs: bigint
  readonly spanNs: bigint
  readonly report: RecordingReport
}

/**
 * Opens the recording now, so a missing or foreign file fails at startup, and reads it through once
 * (MCAP is streamed, a chunk at a time, then streamed again to send; SHOALREC is read whole, as
 * before). Damaged stretches of the file are skipped (the reader goes on at the next good record):
 * they are logged at the start, counted in the summary, and make the run fail (exit 1) once every
 * good record was replayed. A tail cut off mid-record (a receiver killed while writing) is only a
 * warning.
 */
export async function replaySource(options: ReplayOptions): Promise<Source> {
  const recording = await openRecording(options.path)
  const survey = surveyOf(recording)
  const { frames, report } = survey
  const damage = describeDamage(options.path, report)
  return {
    kind: 'replay',
    batched: false,
    describe: {
      replay: options.path,
      format: recording.format,
      recordedFrames: frames,
      recordedSeconds: Number(survey.spanNs / 1_000_000n) / 1000,
      speed: options.speed,
      ...skipFields(report),
    },
    async run(context) {
      const { logger, sink, signal } = context
      if (report.truncatedTail)
        logger.warn(
          { path: options.path, frames },
          `${options.path} ends inside a record (the recorder was stopped mid-write); replaying the ${frames} whole records before it`,
        )
      if (damage !== undefined)
        logger.warn(
          {
            path: options.path,
            frames,
            damaged: report.damagedStretches,
            skippedBytes: report.skippedBytes,
            skips: report.skips.filter((skip) => skip.reason !== 'truncated').slice(0, 10),
          },
          `${damage}; replaying the ${frames} good records`,
        )
      // A type the file describes is added to the publisher's types, which it announces in-band.
      const learn =
        options.types === undefined
          ? undefined
          : recordedTypeLearner(options.types, (outcome) => {
              const fields = { type: outcome.typeName, fingerprint: formatFingerprint(outcome.fingerprint) }
              if (outcome.added)
                logger.info(
                  fields,
                  `type ${outcome.typeName} from the recording's schema: announced to receivers`,
                )
              else
                logger.warn(
                  { ...fields, reason: outcome.reason },
                  `the recording's schema of ${outcome.typeName} is not used: ${outcome.reason}; receivers need --proto for it`,
                )
            })
      const start = performance.now()
      for (const frame of recording.frames()) {
        if (signal.aborted) return undefined
        const dueMs = options.speed === 0 ? 0 : offsetMs(frame.receivedAtNs, survey.firstNs) / options.speed
        const wait = start + dueMs - performance.now()
        if (wait > 0) {
          try {
            await sleep(wait, undefined, { signal })
          } catch (error) {
            if (isAbort(error)) return undefined
            throw error
          }
        }
        learn?.(frame)
        const sent = sink.publishEncoded(frame.topic, frame.fingerprint, frame.payload)
        if (sent === undefined) return undefined // --count reached
        logger.trace(
          {
            topic: frame.topic,
            fingerprint: formatFingerprint(frame.fingerprint),
            bytes: frame.payload.length,
          },
          'replayed',
        )
        await sent
      }
      return 'end of recording'
    },
    summary: () => ({ recorded: frames, ...skipFields(report) }),
    failure: () => (damage === undefined ? undefined : `${damage}; replayed the ${frames} good records`),
  }
}

/** One pass over the file: frames counted (not kept), the first receive time and the span. */
function surveyOf(recording: Recording): Survey {
  let frames = 0
  let firstNs: bigint | undefined
  let lastNs = 0n
  for (const frame of recording.frames()) {
    frames++
    firstNs ??= frame.receivedAtNs
    lastNs = frame.receivedAtNs
  }
  const first = firstNs ?? 0n
  // The report of this pass: later passes read the same file.
  return { frames, firstNs: first, spanNs: lastNs > first ? lastNs - first : 0n, report: recording.report }
}

/** Milliseconds from the first recorded frame; 0 for a frame recorded out of order before it. */
function offsetMs(receivedAtNs: bigint, firstNs: bigint): number {
  const delta = receivedAtNs - firstNs
  return delta > 0n ? Number(delta) / 1e6 : 0
}

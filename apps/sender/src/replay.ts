/**
 * Replays a recording made by a receiver (`shoal-recv --record`): every recorded frame is published
 * on its recorded topic with its recorded fingerprint and payload, spaced as it was received
 * (`receivedAtNs` deltas), divided by `--speed` (0: as fast as the socket takes them).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { formatFingerprint } from '@shoal/schema'
import { type ReadRecordingResult, type RecordedFrame, readRecording } from '@shoal/transport'
import { isAbort, type Source } from './source.js'

export interface ReplayOptions {
  readonly path: string
  /** 1 = original timing, 2 = twice as fast, 0 = no waiting. */
  readonly speed: number
}

/**
 * Reads the whole recording now, so a missing or foreign file fails at startup. Damaged stretches
 * of the file are skipped (the transport's reader goes on at the next good record): they are logged
 * at the start, counted in the summary, and make the run fail (exit 1) once every good record was
 * replayed. A tail cut off mid-record (a receiver killed while writing) is only a warning.
 */
export function replaySource(options: ReplayOptions): Source {
  const recording = readRecording(options.path)
  const { frames } = recording
  const spanNs = frames.length > 1 ? frames.at(-1)!.receivedAtNs - frames[0]!.receivedAtNs : 0n
  const damage = describeDamage(options.path, recording)
  return {
    kind: 'replay',
    batched: false,
    describe: {
      replay: options.path,
      recordedFrames: frames.length,
      recordedSeconds: Number(spanNs / 1_000_000n) / 1000,
      speed: options.speed,
      ...skipFields(recording),
    },
    async run(context) {
      const { logger, sink, signal } = context
      if (recording.truncatedTail)
        logger.warn(
          { path: options.path, frames: frames.length },
          `${options.path} ends inside a record (the recorder was stopped mid-write); replaying the ${frames.length} whole records before it`,
        )
      if (damage !== undefined)
        logger.warn(
          {
            path: options.path,
            frames: frames.length,
            damaged: recording.damagedStretches,
            skippedBytes: recording.skippedBytes,
            skips: recording.skips.filter((skip) => skip.reason !== 'truncated').slice(0, 10),
          },
          `${damage}; replaying the ${frames.length} good records`,
        )
      const start = performance.now()
      const first = frames[0]?.receivedAtNs ?? 0n
      for (const frame of frames) {
        if (signal.aborted) return undefined
        const dueMs = options.speed === 0 ? 0 : offsetMs(frame, first) / options.speed
        const wait = start + dueMs - performance.now()
        if (wait > 0) {
          try {
            await sleep(wait, undefined, { signal })
          } catch (error) {
            if (isAbort(error)) return undefined
            throw error
          }
        }
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
    summary: () => ({ recorded: frames.length, ...skipFields(recording) }),
    failure: () =>
      damage === undefined ? undefined : `${damage}; replayed the ${frames.length} good records`,
  }
}

/** The summary's and startup log's account of what the reader skipped; nothing for a whole file. */
function skipFields(recording: ReadRecordingResult): Record<string, unknown> {
  return {
    ...(recording.truncatedTail ? { truncatedTail: true } : {}),
    ...(recording.corrupt ? { damaged: recording.damagedStretches } : {}),
    ...(recording.skippedBytes > 0 ? { skippedBytes: recording.skippedBytes } : {}),
  }
}

/**
 * `run.rec is damaged: 2 stretches with no good record, the first at byte 4,012 (1,050 bytes
 * skipped in all)`, or undefined for an undamaged file (a cut-off tail is not damage).
 */
function describeDamage(path: string, recording: ReadRecordingResult): string | undefined {
  if (!recording.corrupt) return undefined
  const n = recording.damagedStretches
  const first = recording.skips.find((skip) => skip.reason !== 'truncated')!
  const gaveUp = recording.skips.some((skip) => skip.reason === 'unsearched')
    ? '; the rest of the file was not searched (too many false starts)'
    : ''
  return `${path} is damaged: ${n} ${n === 1 ? 'stretch' : 'stretches'} with no good record, the first at byte ${first.offset.toLocaleString('en-US')} (${recording.skippedBytes.toLocaleString('en-US')} bytes skipped in all)${gaveUp}`
}

/** Milliseconds from the first recorded frame; 0 for a frame recorded out of order before it. */
function offsetMs(frame: RecordedFrame, firstNs: bigint): number {
  const delta = frame.receivedAtNs - firstNs
  return delta > 0n ? Number(delta) / 1e6 : 0
}

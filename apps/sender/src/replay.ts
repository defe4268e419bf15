/**
 * Replays a recording made by a receiver (`shoal-recv --record`): every recorded frame is published
 * on its recorded topic with its recorded fingerprint and payload, spaced as it was received
 * (`receivedAtNs` deltas), divided by `--speed` (0: as fast as the socket takes them).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { formatFingerprint } from '@shoal/schema'
import { type RecordedFrame, readRecording } from '@shoal/transport'
import { isAbort, type Source } from './source.js'

export interface ReplayOptions {
  readonly path: string
  /** 1 = original timing, 2 = twice as fast, 0 = no waiting. */
  readonly speed: number
}

/** Reads the whole recording now, so a missing or foreign file fails at startup. */
export function replaySource(options: ReplayOptions): Source {
  const recording = readRecording(options.path)
  const { frames } = recording
  const spanNs = frames.length > 1 ? frames.at(-1)!.receivedAtNs - frames[0]!.receivedAtNs : 0n
  return {
    kind: 'replay',
    batched: false,
    describe: {
      replay: options.path,
      recordedFrames: frames.length,
      recordedSeconds: Number(spanNs / 1_000_000n) / 1000,
      speed: options.speed,
      ...(recording.truncatedTail ? { truncatedTail: true } : {}),
      ...(recording.corrupt ? { corrupt: true } : {}),
    },
    async run(context) {
      const { logger, sink, signal } = context
      if (recording.truncatedTail)
        logger.warn(
          { path: options.path, frames: frames.length },
          `${options.path} ends inside a record (the recorder was stopped mid-write); replaying the ${frames.length} whole records before it`,
        )
      if (recording.corrupt)
        logger.warn(
          { path: options.path, frames: frames.length },
          `${options.path} has a corrupt record after ${frames.length} good ones; replaying those`,
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
    summary: () => ({
      recorded: frames.length,
      ...(recording.truncatedTail ? { truncatedTail: true } : {}),
      ...(recording.corrupt ? { corrupt: true } : {}),
    }),
  }
}

/** Milliseconds from the first recorded frame; 0 for a frame recorded out of order before it. */
function offsetMs(frame: RecordedFrame, firstNs: bigint): number {
  const delta = frame.receivedAtNs - firstNs
  return delta > 0n ? Number(delta) / 1e6 : 0
}

import { closeSync, openSync, readSync } from 'node:fs'
import { registry, type TypeRegistry } from '@shoal/schema'
import { type RecordedSchema, readRecording } from '@shoal/transport'
import { loadCodecs } from './codecs.js'
import { hasMcapMagic, readMcapFrames } from './mcap-reader.js'
import { emptyReport, type RecordingFrame, type RecordingReport } from './recording-frame.js'

/** The two formats: MCAP, and Shoal's own (`SHOALREC`, the transport's recording.ts). */
export type RecordingFormat = 'mcap' | 'shoal'

/** What a file is, by its first bytes (never by its name): MCAP's magic or `SHOALREC`. */
export function recordingFormatOf(path: string): RecordingFormat {
  const head = new Uint8Array(8)
  const fd = openSync(path, 'r')
  let read: number
  try {
    read = readSync(fd, head, 0, head.length, 0)
  } finally {
    closeSync(fd)
  }
  if (hasMcapMagic(head.subarray(0, read))) return 'mcap'
  if (Buffer.from(head.subarray(0, read)).toString('latin1') === 'SHOALREC') return 'shoal'
  throw new Error(`${path} is not a Shoal recording: neither MCAP nor SHOALREC`)
}

/** A recording opened for reading, either format. */
export interface Recording {
  readonly path: string
  readonly format: RecordingFormat
  /**
   * Every good frame, in file order. Each call reads the file again (MCAP: streamed, one chunk in
   * memory; SHOALREC: read whole when opened). `report` describes the pass in progress or last made.
   */
  frames(): Generator<RecordingFrame, void, undefined>
  readonly report: RecordingReport
}

export interface OpenRecordingOptions {
  /**
   * Names SHOALREC frames' types by fingerprint (frame records hold only the fingerprint; version-2
   * files also hold the schemas the recorder knew, which name the rest). MCAP files name their types
   * themselves. Default: the built-in types.
   */
  readonly types?: TypeRegistry
}

/**
 * Opens a recording for reading: checks that it exists and is one of the two formats (throws
 * otherwise), and for SHOALREC reads it whole (as the transport's reader does).
 */
export async function openRecording(path: string, options: OpenRecordingOptions = {}): Promise<Recording> {
  const types = options.types ?? registry
  const format = recordingFormatOf(path)
  if (format === 'shoal') {
    const read = readRecording(path)
    const report: RecordingReport = {
      frames: read.frames.length,
      truncatedTail: read.truncatedTail,
      corrupt: read.corrupt,
      damagedStretches: read.damagedStretches,
      skippedBytes: read.skippedBytes,
      skips: read.skips,
      complete: true,
    }
    // Version 2 files carry the schemas of their types (the recorder's registry): first one wins.
    const schemas = new Map<number, RecordedSchema>()
    for (const schema of read.schemas)
      if (!schemas.has(schema.fingerprint)) schemas.set(schema.fingerprint, schema)
    return {
      path,
      format,
      report,
      *frames() {
        for (const frame of read.frames) {
          const schema = schemas.get(frame.fingerprint)
          yield {
            ...frame,
            typeName: types.byFingerprint(frame.fingerprint)?.typeName ?? schema?.typeName,
            publishedAtNs: undefined,
            ...(schema === undefined ? {} : { schemaData: schema.data }),
          }
        }
      },
    }
  }
  const codecs = await loadCodecs()
  let report = emptyReport()
  return {
    path,
    format,
    get report() {
      return report
    },
    *frames() {
      report = emptyReport()
      yield* readMcapFrames(path, codecs, report)
    },
  }
}

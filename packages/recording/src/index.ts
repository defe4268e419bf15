/**
 * @shoal/recording — Shoal frames on disk. MCAP (self-describing: every type's FileDescriptorSet is
 * in the file, so any MCAP reader decodes it) written and read, and one reader over both formats,
 * MCAP and Shoal's own (`SHOALREC`, in @shoal/transport).
 */

export { type Codecs, loadCodecs, MAX_CHUNK_UNCOMPRESSED_BYTES, ZSTD_LEVEL } from './codecs.js'
export { type DamageReport, describeDamage, skipFields } from './damage.js'
export {
  isMcapPath,
  MCAP_SUFFIX,
  META_FINGERPRINT,
  META_HOPS,
  META_SESSION,
  META_SOURCE,
  PROTOBUF_ENCODING,
} from './mcap-layout.js'
export { MCAP_MAX_READ_CHANNELS, MCAP_MAX_RECORD_BYTES, readMcapFrames } from './mcap-reader.js'
export { createMcapWriter } from './mcap-recording.js'
export {
  MCAP_CHUNK_MAX_BYTES,
  MCAP_CHUNK_MAX_MS,
  MCAP_MAX_CHANNELS_PER_FILE,
  MCAP_MAX_CHUNKS_PER_FILE,
  McapRecordWriter,
  type McapRecordWriterOptions,
  rotatedPath,
} from './mcap-writer.js'
export {
  MAX_REFUSED_RECORDED_SCHEMAS,
  type RecordedSchemaOutcome,
  recordedTypeLearner,
} from './recorded-types.js'
export {
  type OpenRecordingOptions,
  openRecording,
  type Recording,
  type RecordingFormat,
  recordingFormatOf,
} from './recording.js'
export type { RecordingFrame, RecordingReport } from './recording-frame.js'

export { DEFAULT_DEDUP_ENTRIES, DedupCache } from './dedup.js'
export { isTransportError, TRANSPORT_ERROR_CODES, TransportError, type TransportErrorCode } from './errors.js'
export type { CodecRegistry, MessageCodec, TopicTypes } from './message-codec.js'
export { type Family, ipFamily, isMulticast, isSsmGroup } from './net/address.js'
export type { EndpointOptions } from './net/endpoint.js'
export {
  budgetForMtu,
  DEFAULT_INTERFACE,
  type ResolvedInterface,
  readMtu,
  resolveInterface,
} from './net/interface.js'
export { DEFAULT_RECV_BUFFER_BYTES, type Mode, type RecvBufferInfo } from './net/socket.js'
export {
  ACK_RETENTION_MS,
  type AckEntry,
  type AckReport,
  type BatchOptions,
  CLOSE_REPAIR_MAX_MS,
  CLOSE_REPAIR_QUIET_MS,
  createPublisher,
  DEFAULT_BURST_BYTES,
  DEFAULT_LINGER_MS,
  type ForeignAck,
  MAX_LINGER_MS,
  type Pacing,
  Publisher,
  type PublisherInfo,
  type PublisherOptions,
  type PublishOptions,
  type PublishResult,
  type RepairOptions,
  type WaitForAcksOptions,
} from './publisher.js'
export {
  DEFAULT_ROTATE_BYTES,
  DEFAULT_ROTATE_KEEP,
  RECORDING_MAX_LISTED_SKIPS,
  RECORDING_RESYNC_CHECK_BYTES,
  type ReadRecordingOptions,
  type ReadRecordingResult,
  type RecordedFrame,
  type RecordingSkip,
  RecordWriter,
  type RecordWriterOptions,
  readRecording,
} from './recording.js'
export {
  RECYCLED_BUFFERS_MAX,
  REPAIR_HOLDOFF_MS,
  REPAIR_WINDOW_BYTES,
  REPAIR_WINDOW_MS,
} from './repair-window.js'
export { type RepairStats, type StatsSnapshot, type StreamStats, sessionHex } from './stats.js'
export {
  createSubscriber,
  DEFAULT_QUEUE_LIMIT,
  DEFAULT_REPAIR_TIMING,
  type ForwardDatagram,
  type FrameSource,
  MAX_WANTED_MESSAGES,
  MAX_WHOLE_MESSAGE_NACKS,
  type RawDatagram,
  REPAIR_TICK_MS,
  type ReceivedFrame,
  Subscriber,
  type SubscriberInfo,
  type SubscriberOptions,
  SWEEP_INTERVAL_MS,
  type TransportWarning,
} from './subscriber.js'
export { PACING_SLACK_MS, PACING_TICK_MS } from './token-bucket.js'
export { compileTopicFilter, type TopicFilter } from './topic-filter.js'
export { Limits, MAX_DATAGRAM_BYTES, MAX_DATAGRAM_BYTES_IPV6, MIN_DATAGRAM_BUDGET } from './wire/constants.js'
export {
  type ReassemblerOptions,
  type ReassemblerStats,
  type RepairTiming,
  SPARE_BUFFERS_MAX,
  SPARE_BYTES_MAX,
} from './wire/fragment.js'
export { DROP_REASONS, type DropReason } from './wire/frame.js'
export type { FrameHeader } from './wire/header.js'
export { MAX_NACK_RANGES } from './wire/nack.js'

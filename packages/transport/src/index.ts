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
export { dropsForInode } from './net/kernel-drops.js'
export { type Datagram, type DatagramLink, type SendDone, UdpLink, type UdpLinkOptions } from './net/link.js'
export { DEFAULT_RECV_BUFFER_BYTES, type Mode, type RecvBufferInfo } from './net/socket.js'
export { createPublisher, Publisher } from './publisher.js'
export {
  FRAME_REPAIR_MAX_RETRIES,
  FRAME_REPAIR_RETRY_MS,
  type FrameRepairStats,
  MAX_WANTED_FRAMES,
} from './receive/frame-repair.js'
export { MAX_NACK_SOURCES, NACK_CREDIT_FRACTION, NACK_CREDIT_MAX_BYTES } from './receive/nack-credit.js'
export {
  ALLOCATE_AT_FRACTION,
  type ReassemblerOptions,
  type ReassemblerStats,
  type RepairTiming,
  SPARE_BUFFERS_MAX,
  SPARE_BYTES_MAX,
} from './receive/reassembler.js'
export {
  DEFAULT_REPAIR_TIMING,
  MAX_WANTED_MESSAGES,
  MAX_WHOLE_MESSAGE_NACKS,
  REPAIR_TICK_MS,
  WHOLE_MESSAGE_FRAGMENTS,
} from './receive/repair-requester.js'
export { SCHEMA_HOLD_BYTES, SCHEMA_HOLD_FRAMES, SCHEMA_HOLD_MS } from './receive/schema-hold.js'
export {
  type LearnedSchema,
  MAX_LEARNED_TYPES,
  MAX_PENDING_SCHEMAS,
  SCHEMA_PENDING_FORGET_MS,
  SCHEMA_REASSEMBLY,
  SCHEMA_REQUEST_MAX_ASKS,
  SCHEMA_REQUEST_RETRY_MS,
  SCHEMA_REQUESTS_PER_SECOND,
  SCHEMA_VERIFY_BURST_MS,
  SCHEMA_VERIFY_BYTES_PER_SECOND,
  SCHEMA_VERIFY_MS_PER_SECOND,
  type SchemaRejection,
  type SchemaVerdict,
} from './receive/schema-learner.js'
export { SOURCE_GONE_MS, type SourceEvent } from './receive/sources.js'
export {
  KERNEL_DATAGRAM_OVERHEAD,
  MAX_STATUS_SESSIONS,
  MAX_STATUS_TOPICS,
  receiveBufferHolds,
  STATUS_AFTER_DATAGRAMS,
  STATUS_GIVE_UP_MS,
  STATUS_INTERVAL_MS,
  STATUS_KEEPALIVE_MS,
  STATUS_SESSION_IDLE_MS,
  STATUS_WINDOW_FRACTION,
} from './receive/status-sender.js'
export {
  DEFAULT_MAX_STREAMS,
  DEFAULT_MAX_STREAMS_PER_ADDRESS,
  DEFAULT_STREAM_IDLE_MS,
  ESTABLISHED_FRAMES,
  type StreamLimits,
} from './receive/stream-table.js'
export {
  DEFAULT_ROTATE_BYTES,
  DEFAULT_ROTATE_KEEP,
  RECORDING_MAX_LISTED_SKIPS,
  RECORDING_MAX_SCHEMAS,
  RECORDING_RESYNC_CHECK_BYTES,
  type ReadRecordingOptions,
  type ReadRecordingResult,
  type RecordedFrame,
  type RecordedSchema,
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
export {
  type GroupKey,
  KEY_BYTES,
  Keyring,
  MAX_KEY_FILE_BYTES,
  MAX_KEY_LINE,
  MAX_KEYS,
} from './seal/keyring.js'
export { OPEN_PROBLEMS, Opener, type OpenerStats, type OpenProblem, type OpenResult } from './seal/opener.js'
export {
  MAX_CLOCK_SKEW_MS,
  MAX_SEAL_SESSIONS,
  REPLAY_WINDOW,
  SEAL_SESSION_IDLE_MS,
} from './seal/replay-window.js'
export type { SealStats } from './seal/seal-stats.js'
export { Sealer, type SealerStats, type SealMode } from './seal/sealer.js'
export {
  ACK_RETENTION_MS,
  type AckEntry,
  type AckReport,
  MAX_ACK_RECEIVERS,
  parseExpected,
  RECEIVER_IDLE_MS,
  RECEIVER_REPIN_MS,
  type WaitForAcksOptions,
} from './send/ack-book.js'
export {
  type BackPressureStats,
  FLOW_RECEIVER_TIMEOUT_MS,
  type FlowControlStats,
  type FlowStrategy,
  MAX_FLOW_RECEIVERS,
  MAX_FLOW_WINDOW_BYTES,
} from './send/flow-control.js'
export type { FlowStats } from './send/flow-gate.js'
export { HEARTBEAT_MAX_MS, HEARTBEAT_MIN_MS, type HeartbeatTiming } from './send/heartbeat.js'
export {
  BACK_PRESSURED,
  type BatchOptions,
  DEFAULT_LINGER_MS,
  type EngineOptions,
  type FlowOptions,
  type ForeignAck,
  MAX_LINGER_MS,
  type Pacing,
  type PublisherInfo,
  type PublisherOptions,
  type PublishOptions,
  type PublishResult,
  type RelayedMessage,
  type SealOptions,
} from './send/options.js'
export { DEFAULT_BURST_BYTES } from './send/outbox.js'
export {
  MAX_REPAIR_REQUESTERS,
  REQUESTER_IDLE_MS,
  REQUESTER_SHARE,
  RESEND_BURST_BYTES,
  RESEND_BURST_SECONDS,
  RESEND_FLOOR_BYTES_PER_SECOND,
  RESEND_SHARE,
  type ResendLimits,
} from './send/resend-budget.js'
export {
  CLOSE_HEARTBEAT_MS,
  CLOSE_REPAIR_MAX_MS,
  CLOSE_REPAIR_QUIET_MS,
  MAX_LOOKUPS_PER_NACK,
  type RepairOptions,
} from './send/retransmitter.js'
export {
  BUILT_IN_SCHEMAS,
  MAX_ANNOUNCED_TYPES,
  SCHEMA_ANNOUNCE_INTERVAL_MS,
  SCHEMA_BUDGET_BURST_BYTES,
  SCHEMA_BUDGET_BYTES_PER_SECOND,
  type SchemaSource,
} from './send/schema-announcer.js'
export { MAX_RESEND_DATAGRAMS_PER_LOOKUP, SENT_LOG_BYTES, SENT_LOG_MS } from './send/sent-log.js'
export {
  type DatagramOutcome,
  emptyRepairStats,
  type RepairStats,
  type SchemaStats,
  type StatsSnapshot,
  type StreamStats,
  type StreamTableStats,
  type StreamTotals,
} from './stats.js'
export { OWNER_IDLE_MS, sessionHex } from './stream.js'
export {
  createSubscriber,
  DEFAULT_QUEUE_LIMIT,
  type ForwardDatagram,
  type FrameSource,
  KERNEL_DROPS_INTERVAL_MS,
  MAX_HELD_BYTES,
  MAX_HELD_FRAMES,
  ORDER_HOLD_MS,
  type RawDatagram,
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
export { MIN_FRAGMENT_BYTES } from './wire/fragment.js'
export { DROP_REASONS, type DropReason } from './wire/frame.js'
export type { FrameHeader } from './wire/header.js'
export { MAX_NACK_RANGES, NACK_AMPLIFICATION } from './wire/nack.js'
export { SCHEMA_MAX_BYTES } from './wire/schema.js'

/**
 * What the coordinator and its worker processes say to each other. A worker gets one JSON config
 * as its only argument and answers with `@bench {json}` lines on stdout; the coordinator may write
 * `stop` to its stdin. Everything else a worker prints is ignored (and shown on failure).
 */
import type { RepairStats } from '@shoal/transport'

export const EVENT_PREFIX = '@bench '
export const STOP_COMMAND = 'stop'

export type Impl = 'raw' | 'shoal'
/**
 * Small-frame variants. `unbatched`: `publisher.send()` per frame, the loop raw runs;
 * `publish`: `await publisher.publish()` per frame (informational); `batched`: `send()` on a
 * batching publisher as fast as possible; `paced`: the same, offered at a fixed rate; `sealed`:
 * `batched` with a keyed publisher and subscriber (`seal`, mode `encrypt`).
 */
export type SmallVariant = 'raw' | 'unbatched' | 'publish' | 'batched' | 'paced' | 'sealed'
/**
 * Image variants: raw dgram; Shoal's publisher unpaced; Shoal's with `pacing.bytesPerSecond`;
 * `sealed`: unpaced with a keyed publisher and subscriber (mode `encrypt`).
 */
export type ImageVariant = 'raw' | 'shoal' | 'paced' | 'sealed'
/**
 * Latency variants. `shoal`: `publisher.send()` on both legs, never awaited, like raw's
 * `socket.send()`; `publish`: `publisher.publish()` on both legs (a promise per message), for
 * information; `sealed`: `shoal` with every publisher and subscriber keyed (mode `encrypt`).
 */
export type LatencyVariant = 'raw' | 'shoal' | 'publish' | 'sealed'

interface Bounded {
  /** The worker reports what it has and exits after this long, whatever happens. */
  deadlineMs: number
}

export interface SmallReceiverConfig extends Bounded {
  impl: Impl
  /** Shoal: a keyed subscriber (the sealed variant). */
  sealed: boolean
  group: string
  port: number
  iface: string
  /** Frames in the measured burst; a frame with a sequence at or past it is the end marker. */
  frames: number
}

export interface SmallSenderConfig extends Bounded {
  variant: SmallVariant
  group: string
  port: number
  iface: string
  frames: number
  /** Frames sent back to back before yielding to the event loop. */
  chunk: number
  /** Quiet time after the burst before the end markers, so the receiver drains its buffer. */
  pauseMs: number
  lingerMs: number | undefined
  /** `paced` only: frames per second offered (the frames due are sent, then the loop yields). */
  rate: number | undefined
}

/** The images a receiver counts as its start: loss among them is reported on its own. */
export const EARLY_IMAGES = 100

export interface ImageReceiverConfig extends Bounded {
  impl: Impl
  /** Shoal: a keyed subscriber (the sealed variant). */
  sealed: boolean
  group: string
  port: number
  iface: string
  frames: number
}

export interface ImageSenderConfig extends Bounded {
  variant: ImageVariant
  group: string
  port: number
  iface: string
  frames: number
  pauseMs: number
  /** `paced` only: the publisher's `pacing.bytesPerSecond`. */
  bytesPerSecond: number | undefined
}

export interface PongConfig extends Bounded {
  variant: LatencyVariant
  group: string
  port: number
  /** Where pongs go: the pinger's unicast port on `iface`. */
  pongPort: number
  iface: string
}

export interface PingConfig extends Bounded {
  variant: LatencyVariant
  group: string
  /** The multicast port pings go to. */
  port: number
  /** The unicast port pongs come back to, on `iface`. */
  pongPort: number
  iface: string
  pings: number
  warmup: number
  /** A ping without a pong after this long is counted lost and the next one goes. */
  timeoutMs: number
}

export interface CodecConfig extends Bounded {
  messages: number
  warmup: number
  /** How long each per-datagram crypto row is timed, ms (after a warm-up of a fifth of it). */
  cryptoMs: number
}

/** Kernel UDP counters of the namespace (/proc/net/snmp), as differences over a measurement. */
export interface UdpCounters {
  inDatagrams: number
  rcvbufErrors: number
  inErrors: number
}

/** Every worker's `result` event carries its own CPU time (added by `emit`). */
export interface WorkerResult {
  event: 'result'
  /** User + system CPU time of the worker process so far, µs. */
  cpuUs?: number
}

export interface ReceiverReport extends WorkerResult {
  delivered: number
  /** Frames between the first and the last timestamp; the rate is this over `elapsedNs`. */
  timedFrames: number
  elapsedNs: number
  bytes: number
  /** Shoal only: sequence gaps, duplicates and drops by reason the subscriber counted. */
  gaps?: number
  duplicates?: number
  drops?: Record<string, number>
  datagramsIn: number
  /** Shoal only: the subscriber's repair counters (NACKs sent, fragments repaired). */
  repair?: RepairStats
  /** Images only: how many of the first {@link EARLY_IMAGES} never arrived whole (a cold receiver's share). */
  lostEarly?: number
  /** How the receiver stopped: the end marker, the coordinator's `stop`, or its deadline. */
  endedBy: 'marker' | 'stop' | 'deadline'
  udp: UdpCounters
  recvBufferBytes: number
  readyRssBytes: number
  peakRssBytes: number
}

export interface SenderReport extends WorkerResult {
  sent: number
  datagrams: number
  elapsedNs: number
  peakRssBytes: number
  /** Shoal only: the publisher's repair counters (NACKs received, fragments resent). */
  repair?: RepairStats
  /** Set when the variant cannot run (batching not in this build of @shoal/transport). */
  unavailable?: string
}

export interface PingReport extends WorkerResult {
  pings: number
  lost: number
  p50Us: number
  p99Us: number
  p999Us: number
  minUs: number
  maxUs: number
  meanUs: number
}

/**
 * Codec rows. Encode: `shoalEncode` (FrameSlab.encodeFrame: one frame in place, what send/publish
 * do for a small message), `shoalFragment` (fragmentMessage), `shoalEncodeInto` (a reused buffer),
 * `shoalBatch` (BatchBuilder.appendMessage, finish's CRC amortised per batch). Decode: `shoalDecode` (decodeFrame per
 * frame), `shoalBatchDecode` (one decodeFrame per batch, forEachInnerFrame per frame).
 */
export type CodecRow =
  | 'pbEncode'
  | 'pbDecode'
  | 'shoalEncode'
  | 'shoalFragment'
  | 'shoalEncodeInto'
  | 'shoalBatch'
  | 'shoalDecode'
  | 'shoalBatchDecode'

/**
 * Per-datagram crypto: `seal` and `open` are AES-256-GCM as the transport's Sealer and Opener do
 * them (mode `encrypt`); `sign` and `verify` are Ed25519 over the whole datagram (node:crypto), what
 * per-sender signatures would add. Not in the transport: measured to say whether they are affordable.
 */
export type CryptoOp = 'seal' | 'open' | 'sign' | 'verify'

export interface CryptoMeasurement {
  op: CryptoOp
  /** The datagram as it goes on the wire (sealed: the seal's 36 bytes included); what is signed. */
  datagramBytes: number
  /** The unsealed frame the sealer takes (`datagramBytes` − 36); for signatures, `datagramBytes`. */
  frameBytes: number
  /** Datagrams per second on one core. */
  perSecond: number
}

export interface CodecReport extends WorkerResult {
  messageBytes: number
  frameBytes: number
  /** Frames in one batch datagram of the loopback budget. */
  framesPerBatch: number
  /** Messages per second per row. */
  rates: Record<CodecRow, number>
  crypto: CryptoMeasurement[]
}

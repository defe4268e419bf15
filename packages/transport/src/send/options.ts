/**
 * A publisher's options and results: their types, defaults and the checks `createPublisher` runs
 * on them (a bad value is a `SHOAL_BAD_OPTION` error naming it).
 */
import { transportError } from '../errors.js'
import type { Family } from '../net/address.js'
import type { EndpointOptions } from '../net/endpoint.js'
import type { Mode } from '../net/socket.js'
import { Keyring } from '../seal/keyring.js'
import type { SealMode } from '../seal/sealer.js'
import type { FrameHeader } from '../wire/header.js'
import type { FlowStrategy } from './flow-control.js'
import { HEARTBEAT_MAX_MS, HEARTBEAT_MIN_MS, type HeartbeatTiming } from './heartbeat.js'
import type { RepairOptions } from './retransmitter.js'
import type { SchemaSource } from './schema-announcer.js'

export interface PublisherOptions extends Omit<EndpointOptions, 'source'> {
  /** Multicast TTL / hop limit, or unicast TTL. 0–255, default 1 (one subnet). */
  ttl?: number
  /** Deliver multicast to listeners on the sending host too. Default true. */
  loopback?: boolean
  /** Largest datagram sent, bytes. Default: from the interface MTU (1,472 on Ethernet, 65,507 on lo). */
  budget?: number
  /** Local port to bind (acks and unicast replies come back to it). Default 0: any free port. */
  localPort?: number
  /** Fixed session id; random by default (tests only). */
  sessionId?: number
  /** How fast fragments of large messages go out (see {@link Pacing}). */
  pacing?: Pacing
  /**
   * Pack small frames into one datagram (see {@link BatchOptions}); `true` for the defaults.
   * Default off: every frame is its own datagram, sent at once.
   */
  batch?: BatchOptions | boolean
  /**
   * Hold fragmented messages so that receivers missing fragments can ask for them again (see
   * {@link RepairOptions}); `false` to hold nothing. Default on, with the default window.
   */
  repair?: RepairOptions | boolean
  /**
   * Send HEARTBEAT frames (each topic's last sequence) when quiet, so receivers see loss after a
   * stream's last frame and tell a quiet publisher from a gone one (see {@link HeartbeatTiming});
   * `false` sends none (relays: they forward their publishers' heartbeats). Default on.
   */
  heartbeat?: Partial<HeartbeatTiming> | boolean
  /** Flow control (see {@link FlowOptions}); `false`: receivers' STATUS is ignored. Default on (`min`). */
  flow?: FlowOptions | false
  /**
   * Seal every datagram with the group's key (WIRE.md “Sealing”), and take only sealed control
   * frames (ACK, NACK, STATUS). Default: unsealed. Without it a sealed frame forwarded by a relay
   * goes on as it is.
   */
  seal?: SealOptions
  /**
   * In-band schemas (WIRE.md “Schemas”): where the publisher finds the FileDescriptorSet of the
   * types it sends, to announce each on its first send (types built into @shoal/schema only when
   * asked) and when a receiver asks. Default: @shoal/schema's built-in types (so custom types need
   * a source, e.g. a dynamic registry); `false` announces nothing and answers no request.
   */
  schemas?: SchemaSource | false
}

/** Sealing with a keyring (see {@link Keyring}). */
export interface SealOptions {
  keyring: Keyring
  /** `encrypt` (default): payloads unreadable without the key; `authenticate`: readable, not forgeable. */
  mode?: SealMode
}

/**
 * Batching: frames that fit whole in a datagram are packed together, up to the datagram budget.
 * A batch goes out as soon as one of these holds:
 * - the next frame would not fit the budget;
 * - its first frame is `lingerMs` old (checked at the end of every event-loop turn);
 * - a turn of the event loop ended with no frame added to it: the producer has gone quiet, and
 *   waiting longer would add latency and no company;
 * - `flush()` is called.
 * So a busy producer fills datagrams (about 600 45-byte frames per loopback datagram at 1.2 M
 * frames/s), and a slow one (a 200 Hz IMU) pays about one event-loop turn. Sequence and loss
 * accounting stay per frame.
 */
export interface BatchOptions {
  /**
   * Longest a frame waits for company, ms: 0 to {@link MAX_LINGER_MS}. 0 sends every frame at
   * once in its own datagram, as without batching. Default {@link DEFAULT_LINGER_MS}.
   */
  lingerMs?: number
}

export const DEFAULT_LINGER_MS = 0.5
export const MAX_LINGER_MS = 1

/**
 * Pacing of fragmented (large) messages, so that a receiver with an ordinary buffer keeps up
 * with multi-MiB frames.
 *
 * Without `bytesPerSecond`: at most `burstBytes` (plus the datagram that crosses it) go out back
 * to back, then the publisher waits for the kernel to take them and yields to the event loop.
 *
 * With `bytesPerSecond`: a token bucket across publishes ({@link TokenBucket}). Tokens (bytes)
 * accrue at `bytesPerSecond`; the bucket starts with `burstBytes` and holds at most `burstBytes`
 * plus {@link PACING_SLACK_MS} (2 ms) of the rate. A message goes out in bursts: each waits until
 * the bucket holds the rest of the message or `burstBytes`, whichever is less, then sends
 * datagrams back to back while the bucket is not empty (the last one may overdraw it by less than
 * its own length; the next burst repays that first). So a message of up to `burstBytes` (a 1 MiB
 * image with its headers, by default) goes out whole, and a larger one in bursts of about
 * `burstBytes`. Waits are timers of at least {@link PACING_TICK_MS} (1 ms), never a spin; the
 * slack absorbs a timer that fires late. `bytesPerSecond` is an average: over any t seconds at most
 * `burstBytes + one datagram + bytesPerSecond × t` bytes go out, so a run never exceeds it.
 */
export interface Pacing {
  /**
   * Bytes sent back to back: the burst before yielding, or with `bytesPerSecond` the burst the
   * bucket waits for and its size. Default {@link DEFAULT_BURST_BYTES} (2 MiB).
   */
  burstBytes?: number
  /** Average send rate cap for fragmented messages, bytes/s. Default: none. */
  bytesPerSecond?: number
}

/** What `send()` returns instead of a sequence when flow control holds the publisher back. */
export const BACK_PRESSURED = -1

export interface PublishOptions {
  /** Ask every receiver to acknowledge this frame. */
  ack?: boolean
}

/**
 * A whole message received by other means than this transport (a bridge: NATS, a recording) to
 * send again as it was first sent: its original session, sequence and hop count, so receivers
 * account for its stream's loss exactly as if it came from its publisher (`publisher.forwardMessage()`).
 */
export interface RelayedMessage {
  readonly topic: string
  readonly fingerprint: number
  /** The encoded message (plain protobuf), at most the receivers' message limit (64 MiB by default). */
  readonly payload: Uint8Array
  /** The original publisher's session id (u32). */
  readonly sessionId: number
  /** The message's sequence in its (session, topic) stream (u32). */
  readonly sequence: number
  /** Relays crossed so far, this one included (0-255). */
  readonly hops: number
}

export interface PublishResult {
  topic: string
  sequence: number
  datagrams: number
  bytes: number
}

export interface PublisherInfo {
  mode: Mode
  family: Family
  destination: string
  port: number
  interface: string | undefined
  interfaceAddress: string | undefined
  mtu: number | undefined
  budget: number
  ttl: number
  loopback: boolean
  sessionId: number
  local: { address: string; port: number }
}

/**
 * An ACK frame for another session, arriving on this publisher's socket: the receiver acked a frame
 * this publisher forwarded (`forward()`). Emitted as `'foreign-ack'` when someone listens (relays
 * pass it back towards that session's publisher); otherwise it is an `unexpected-frame` warning.
 */
export interface ForeignAck {
  header: FrameHeader
  /** The whole ACK datagram, as received. */
  data: Uint8Array
  from: { address: string; port: number }
}

/**
 * Flow control (WIRE.md “STATUS”): receivers say how far they consumed and how much more they can
 * take; the publisher never runs further ahead of them than that (its first sends wait:
 * `publish()` awaits, `send()` returns `BACK_PRESSURED`). Needs the sent log (repair on).
 */
export interface FlowOptions {
  /**
   * `min`: as fast as the slowest receiver heard in the last `receiverTimeoutMs` (nothing is lost
   * for lack of room); `max`: as fast as the fastest (the others repair, or lose what they cannot
   * repair, counted). Default `min`.
   */
  strategy?: FlowStrategy
  /** Receivers to wait for before anything goes out at all. Default 0. */
  groupSize?: number
  /** A receiver silent this long no longer holds the publisher back, ms. Default `FLOW_RECEIVER_TIMEOUT_MS` (2,000). */
  receiverTimeoutMs?: number
}

/** The options of the send engine itself (what `new Publisher(link, info, options)` takes). */
export type EngineOptions = Pick<
  PublisherOptions,
  'pacing' | 'batch' | 'repair' | 'heartbeat' | 'flow' | 'seal' | 'schemas'
>

/** Checks the options `createPublisher` cannot take from the endpoint; throws `SHOAL_BAD_OPTION`. */
export function checkPublisherOptions(options: EngineOptions): void {
  const linger = typeof options.batch === 'object' ? options.batch.lingerMs : undefined
  if (linger !== undefined && !(linger >= 0 && linger <= MAX_LINGER_MS))
    throw transportError('SHOAL_BAD_OPTION', `batch linger ${linger} ms is outside 0-${MAX_LINGER_MS}`)
  const { bytesPerSecond, burstBytes } = options.pacing ?? {}
  if (bytesPerSecond !== undefined && !(bytesPerSecond > 0 && Number.isFinite(bytesPerSecond)))
    throw transportError('SHOAL_BAD_OPTION', `pacing.bytesPerSecond ${bytesPerSecond} is not a rate above 0`)
  if (burstBytes !== undefined && !(burstBytes >= 0 && Number.isFinite(burstBytes)))
    throw transportError(
      'SHOAL_BAD_OPTION',
      `pacing.burstBytes ${burstBytes} is not a byte count of 0 or more`,
    )
  if (typeof options.repair === 'object') {
    const { windowBytes, windowMs } = options.repair
    if (windowBytes !== undefined && !(windowBytes >= 0 && Number.isFinite(windowBytes)))
      throw transportError(
        'SHOAL_BAD_OPTION',
        `repair.windowBytes ${windowBytes} is not a byte count of 0 or more`,
      )
    if (windowMs !== undefined && !(windowMs >= 0 && Number.isFinite(windowMs)))
      throw transportError('SHOAL_BAD_OPTION', `repair.windowMs ${windowMs} is not a time of 0 ms or more`)
    for (const name of ['bytesPerSecond', 'bytesPerSecondPerRequester'] as const) {
      const rate = options.repair[name]
      if (rate !== undefined && !(rate > 0 && Number.isFinite(rate)))
        throw transportError('SHOAL_BAD_OPTION', `repair.${name} ${rate} is not a rate above 0`)
    }
  }
  const mode = options.seal?.mode
  if (mode !== undefined && mode !== 'encrypt' && mode !== 'authenticate')
    throw transportError('SHOAL_BAD_OPTION', `seal.mode ${String(mode)} is not encrypt or authenticate`)
  if (options.seal !== undefined && !(options.seal.keyring instanceof Keyring))
    throw transportError('SHOAL_BAD_OPTION', 'seal.keyring is not a Keyring (Keyring.parse)')
  if (typeof options.heartbeat === 'object') {
    const { minMs = HEARTBEAT_MIN_MS, maxMs = HEARTBEAT_MAX_MS } = options.heartbeat
    if (!(minMs >= 1 && Number.isFinite(minMs)))
      throw transportError('SHOAL_BAD_OPTION', `heartbeat.minMs ${minMs} is not a time of 1 ms or more`)
    if (!(maxMs >= minMs && Number.isFinite(maxMs)))
      throw transportError(
        'SHOAL_BAD_OPTION',
        `heartbeat.maxMs ${maxMs} is not a time of heartbeat.minMs or more`,
      )
  }
}

const U32_MAX = 0xffff_ffff
const MAX_HOPS = 0xff

/** Checks a relayed message's numbers (`forwardMessage`): session and sequence u32, hops u8. */
export function checkRelayed({ sessionId, sequence, hops }: RelayedMessage): void {
  for (const [name, value, max] of [
    ['sessionId', sessionId, U32_MAX],
    ['sequence', sequence, U32_MAX],
    ['hops', hops, MAX_HOPS],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > max)
      throw transportError(
        'SHOAL_BAD_OPTION',
        `forwardMessage: ${name} ${value} is not a whole number 0-${max}`,
      )
  }
}

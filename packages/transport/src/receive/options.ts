/**
 * A subscriber's options, the frames and datagrams it hands out, and the checks `createSubscriber`
 * runs on its options (a bad value is a `SHOAL_BAD_OPTION` error naming it).
 */

import { transportError } from '../errors.js'
import type { CodecRegistry, MessageCodec, TopicTypes } from '../message-codec.js'
import type { EndpointOptions, ResolvedEndpoint } from '../net/endpoint.js'
import type { RecvBufferInfo } from '../net/socket.js'
import type { SealOptions } from '../send/options.js'
import type { Origin } from '../stream.js'
import type { DropReason } from '../wire/frame.js'
import type { FrameHeader } from '../wire/header.js'
import type { ReassemblerOptions, RepairTiming } from './reassembler.js'
import type { SchemaVerdict } from './schema-learner.js'
import type { StreamLimits } from './stream-table.js'

export interface SubscriberOptions extends EndpointOptions {
  /** Topic filters (see topic-filter.ts); default: every topic. */
  topics?: readonly string[]
  /** Types to decode, by fingerprint. Default: every @shoal/schema type. */
  registry?: CodecRegistry
  /**
   * In-band schemas (WIRE.md “Schemas”): a frame of a fingerprint the registry does not know makes
   * the subscriber ask its sender for the schema, and every verified SCHEMA announce teaches it the
   * type (decoded like a built-in from then on; a `'schema'` event; added to `registry` too when
   * that has an `add` method). Default on when decoding; `false`: unknown types stay unknown and
   * announces are ignored. With `decode: false` it is off unless set: then types are learned and
   * asked for all the same (a service that forwards frames undecoded and answers for their types
   * downstream), and frames are delivered at once, never held. `verify`: how an announce becomes
   * a type (default @shoal/schema's `verifySchema`).
   */
  schemas?: boolean | { verify?: SchemaVerifier }
  /** Expected type per topic; a frame of another type is dropped as `fingerprint-mismatch`. */
  topicTypes?: TopicTypes
  /** Decode payloads into messages. Default true; false delivers payload bytes only. */
  decode?: boolean
  /** Answer frames that ask for acknowledgement. Default false. */
  ack?: boolean
  /** This receiver's name in acks. Default `hostname:pid`. */
  name?: string
  /** Deliver every datagram as it came (`'raw'` events), with no Shoal framing. */
  raw?: boolean
  /** Deliver each checked DATA datagram (`'datagram'` events) without reassembly, for relays. */
  forward?: boolean
  /** Share the port with other sockets on this host. Default true. */
  reuseAddr?: boolean
  /** Receive buffer asked of the kernel, bytes. Default 8 MiB. */
  recvBufferBytes?: number
  /** TTL (IPv6 hop limit) of the unicast datagrams this subscriber sends (acks, replies). 1–255; default: the kernel's. */
  ttl?: number
  /** Reassembly limits: message size, partial messages, memory (in all and per sender address), timeout. */
  reassembly?: ReassemblerOptions
  /** How many streams (session × topic) are tracked, in all and per sender address, and for how long idle. */
  streams?: StreamLimits
  /**
   * Ask publishers for frames and fragments they hold (frames marked `REPAIRABLE`) that did not
   * arrive; `false` never asks. Default on, with {@link DEFAULT_REPAIR_TIMING} for fragments and
   * `FRAME_REPAIR_RETRY_MS` for whole frames.
   */
  repair?: Partial<RepairTiming> | boolean
  /** Frames buffered for a slow async iterator before new ones are dropped (`queue-overflow`). Default 65,536. */
  queueLimit?: number
  /**
   * Which sender addresses this subscriber takes datagrams from: checked first, before any other
   * work; a datagram from any other is dropped as `not-allowed`. Default: every address.
   */
  allow?: (address: string) => boolean
  /**
   * A publisher (session) not heard for this long, no frame and no heartbeat, is gone: a `'source'`
   * event says so (and another if it is heard again), ms. Default {@link SOURCE_GONE_MS}: three
   * heartbeats missed at their slowest.
   */
  sourceGoneMs?: number
  /**
   * Tell each publisher heard how far this subscriber consumed its streams and how much more it can
   * take (STATUS frames, unicast to the publisher), so that it never runs further ahead (flow
   * control). `false` sends none: publishers then do not wait for this subscriber. Default on.
   */
  status?: boolean
  /**
   * Deliver the frames of each stream this subscriber repairs in sequence order: a frame after a
   * gap waits (at most `ORDER_HOLD_MS`, about 0.9 s, while the gap is asked for) until the gap is
   * repaired or given up. Default false: frames go as they arrive, repaired ones late.
   */
  ordered?: boolean
  /**
   * The group's keyring (WIRE.md “Sealing”): sealed frames are opened, unsealed ones refused
   * (`unauthenticated`), and the control frames this subscriber sends (ACK, NACK, STATUS) are
   * sealed with `mode` (default `encrypt`). Without it sealed frames are refused (`no-key`), or,
   * in forward mode, passed on as they are.
   */
  seal?: SealOptions
}

/** Where a frame came from; shared (frozen) by the frames of a stream from the same place. */
export type FrameSource = Origin

export interface ReceivedFrame<T = unknown> {
  topic: string
  /** Full protobuf type name, when the fingerprint is known. */
  typeName: string | undefined
  /**
   * The type it was decoded with, when known: a registry's, or one learned in-band (WIRE.md
   * “Schemas”), which no static registry of the application has.
   */
  type?: MessageCodec | undefined
  fingerprint: number
  /** The decoded message; undefined when decoding is off. */
  message: T | undefined
  /** The encoded message. */
  payload: Uint8Array
  source: FrameSource
  sequence: number
  hops: number
  ackRequested: boolean
  /** Date.now() when the last datagram of the frame arrived. */
  receivedAt: number
}

export interface ForwardDatagram {
  header: FrameHeader
  /** The whole datagram, as received; the receiver may modify it. */
  data: Uint8Array
  from: { address: string; port: number }
  /**
   * From another sender than its stream's own (or marked `FOREIGN` by a relay before): a relay
   * forwards it marked, so that receivers let it move nothing (WIRE.md “Relays”).
   */
  foreign: boolean
}

export interface RawDatagram {
  data: Buffer
  from: { address: string; port: number }
  receivedAt: number
}

export interface TransportWarning {
  reason: DropReason | 'socket-error' | 'recv-buffer-clamped'
  address?: string
  port?: number
  topic?: string
  detail?: string
}

export interface SubscriberInfo {
  mode: ResolvedEndpoint['mode']
  family: ResolvedEndpoint['family']
  groups: string[]
  source: string | undefined
  port: number
  interface: string | undefined
  interfaceAddress: string | undefined
  bound: { address: string; port: number }
  recvBuffer: RecvBufferInfo
  name: string
  /** Largest datagram this subscriber sends (its NACKs): the interface's datagram budget. */
  budget: number
}

/** How often partial messages are checked for expiry, and idle streams let go, ms. */
export const SWEEP_INTERVAL_MS = 250
export const DEFAULT_QUEUE_LIMIT = 65_536
/** The kernel's drop count is read again at most this often, ms. */
export const KERNEL_DROPS_INTERVAL_MS = 250

/** Repair timings are times of 0 ms or more, and a whole number of retries. */
export function checkRepairTiming(timing: Partial<RepairTiming>): void {
  for (const [name, value] of Object.entries(timing)) {
    const valid =
      name === 'maxRetries' ? Number.isInteger(value) && value >= 0 : Number.isFinite(value) && value >= 0
    if (!valid)
      throw transportError(
        'SHOAL_BAD_OPTION',
        `repair.${name} ${value} is not ${name === 'maxRetries' ? 'a whole number' : 'a time'} of 0 or more`,
      )
  }
}

/** Table and reassembly limits are positive whole numbers (times: positive numbers). */
export function checkLimits(options: SubscriberOptions): void {
  const limits: Array<[string, unknown]> = [
    ...Object.entries(options.streams ?? {}).map(([k, v]): [string, unknown] => [`streams.${k}`, v]),
    ...Object.entries(options.reassembly ?? {})
      .filter(([k]) => k !== 'now')
      .map(([k, v]): [string, unknown] => [`reassembly.${k}`, v]),
    ...(options.sourceGoneMs === undefined
      ? []
      : [['sourceGoneMs', options.sourceGoneMs] as [string, unknown]]),
  ]
  for (const [name, value] of limits) {
    const time = name.endsWith('Ms')
    const valid =
      typeof value === 'number' && value > 0 && (time ? Number.isFinite(value) : Number.isInteger(value))
    if (!valid)
      throw transportError(
        'SHOAL_BAD_OPTION',
        `${name} ${String(value)} is not ${time ? 'a time above 0' : 'a whole number above 0'}`,
      )
  }
}

/** Builds and checks the type a SCHEMA announce defines: the fingerprint must be the descriptor's. */
export type SchemaVerifier = (
  typeName: string,
  fingerprint: number,
  descriptorSet: Uint8Array,
) => SchemaVerdict

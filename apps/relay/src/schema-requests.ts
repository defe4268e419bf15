/**
 * Receivers' SCHEMA_REQUESTs on their way upstream (WIRE.md “Schemas”). A receiver beyond the
 * relay asks the relay's output socket (where the frames of the unknown type came from); the relay
 * sends the request on, one hop further, from the input that hears the stream it names, to that
 * stream's sender: the publisher, or the relay before this one. A relay holds no schemas: the
 * publisher answers to its group, and the announce comes back down through the relay like any
 * frame. No table of its own: the inputs already know each stream's sender.
 */
import type { FrameHeader } from '@shoal/transport'
import { setHops, writeCrc } from '@shoal/transport/wire'
import type { ForwarderEvents, ForwarderInput } from './forwarder.js'
import type { LoopGuard, SocketAddress } from './loop-guard.js'

/**
 * Largest SCHEMA_REQUEST passed upstream, bytes: a receiver's is 36 + topic + 4 + 4 (with a seal,
 * 36 more), at most 335; anything larger is not one.
 */
export const MAX_SCHEMA_REQUEST_BYTES = 512

/** What became of each SCHEMA_REQUEST that arrived on an output socket; announces forwarded. */
export interface SchemaCounters {
  /** SCHEMA announce datagrams forwarded (they are frames too: in `received` and `forwarded`). */
  announces: number
  /** Requests sent on upstream. */
  forwarded: number
  /** Requests for a stream no input tracks (never heard, or let go). */
  unroutable: number
  /** Requests that had crossed `--max-hops` relays already. */
  'max-hops': number
  /** Requests that are not what a receiver writes (fragmented, or larger than one). */
  malformed: number
  /** Requests whose send failed (socket errors). */
  errors: number
}

export class SchemaRequests {
  readonly counters: SchemaCounters = {
    announces: 0,
    forwarded: 0,
    unroutable: 0,
    'max-hops': 0,
    malformed: 0,
    errors: 0,
  }
  readonly #inputs: readonly ForwarderInput[]
  readonly #guard: LoopGuard
  readonly #events: ForwarderEvents

  constructor(inputs: readonly ForwarderInput[], guard: LoopGuard, events: ForwarderEvents) {
    this.#inputs = inputs
    this.#guard = guard
    this.#events = events
  }

  /** One request (checked by the transport: well formed, another session's); each ends in one counter. */
  route(header: FrameHeader, data: Uint8Array): void {
    const counters = this.counters
    if (header.fragmentCount !== 1 || data.length > MAX_SCHEMA_REQUEST_BYTES) {
      counters.malformed++
      return
    }
    if (this.#guard.hopsExceeded(header.hops)) {
      counters['max-hops']++
      return
    }
    let input: ForwarderInput | undefined
    let to: SocketAddress | undefined
    for (const candidate of this.#inputs) {
      to = candidate.senderOf?.(header.sessionId, header.topic)
      if (to !== undefined) {
        input = candidate
        break
      }
    }
    if (input === undefined || to === undefined) {
      counters.unroutable++
      return
    }
    setHops(data, 0, header.hops + 1)
    writeCrc(data, 0, data.length)
    const spec = input.spec
    input.reply(data, to).then(
      () => {
        counters.forwarded++
      },
      (error: unknown) => {
        counters.errors++
        this.#events.onSendError?.(spec, error)
      },
    )
  }
}

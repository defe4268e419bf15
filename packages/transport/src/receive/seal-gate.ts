/**
 * A subscriber's side of sealing (WIRE.md “Sealing”): what every datagram read passes before its
 * payload is looked at, and what seals the control frames it sends (ACK, NACK, STATUS).
 *
 * - Keyed: a sealed frame is opened (key, tag, replay window); an unsealed one is refused
 *   (`unauthenticated`). A relay's input (forward mode) with a key passes on the frame as it was
 *   before sealing: its outputs seal it again, under their own keys.
 * - Keyless: an unsealed frame passes; a sealed one is refused (`no-key`), except at a relay's
 *   input, which passes it on as it is: its header is readable, so frames are still counted,
 *   deduplicated and repaired per datagram; what is inside an encrypted batch is not.
 */

import type { Keyring } from '../seal/keyring.js'
import { Opener, type OpenProblem } from '../seal/opener.js'
import { type SealStats, sealStats } from '../seal/seal-stats.js'
import { Sealer } from '../seal/sealer.js'
import { CRC_LENGTH, FrameKind } from '../wire/constants.js'
import { encodedFrameLength, encodeFrameInto } from '../wire/frame.js'
import { encodeTopic, type FrameHeader } from '../wire/header.js'
import { isSealed, SEAL_OVERHEAD, TAG_LENGTH } from '../wire/seal.js'
import type { SubscriberOptions } from './options.js'

/**
 * What became of a datagram at the gate: its payload (plaintext, or a sealed frame's readable part
 * at a keyless relay) and the frame to forward; `whole`: pass the datagram on as it is, unread
 * (a sealed control frame or batch at a keyless relay).
 */
export type Admitted =
  | { ok: true; payload: Uint8Array; data: Uint8Array; whole: boolean }
  | { ok: false; reason: OpenProblem }

export class SealGate {
  readonly #opener: Opener
  readonly #sealer: Sealer | undefined
  readonly #forward: boolean

  constructor(options: Pick<SubscriberOptions, 'seal' | 'forward'>) {
    this.#opener = new Opener(options.seal?.keyring)
    this.#sealer =
      options.seal === undefined
        ? undefined
        : new Sealer(options.seal.keyring, options.seal.mode ?? 'encrypt')
    this.#forward = options.forward === true
  }

  get keyed(): boolean {
    return this.#sealer !== undefined
  }

  /** What control frames may take of the budget (the seal needs the rest). */
  controlBudget(budget: number): number {
    return this.keyed ? budget - SEAL_OVERHEAD : budget
  }

  /** Admits the datagram `data` whose frame decoded as `header` and `payload` (see the module comment). */
  admit(data: Uint8Array, header: FrameHeader, payload: Uint8Array): Admitted {
    if (!this.keyed && !isSealed(header.flags)) return { ok: true, payload, data, whole: false }
    if (!this.keyed && this.#forward) {
      if (header.kind !== FrameKind.DATA) return { ok: true, payload, data, whole: true }
      // The tag is not the message's: counted and reassembled (for repair) without it.
      header.payloadLength -= TAG_LENGTH
      return { ok: true, payload: payload.subarray(0, payload.length - TAG_LENGTH), data, whole: false }
    }
    const headerLength = data.length - header.payloadLength - CRC_LENGTH
    const opened = this.#opener.open(data, header, headerLength, payload)
    if (!opened.ok) return opened
    if (!this.#forward) return { ok: true, payload: opened.payload, data, whole: false }
    // A relay with the key forwards the frame as it was before sealing; its outputs seal it again.
    const topic = encodeTopic(header.topic)
    const plain = new Uint8Array(encodedFrameLength(header, topic))
    encodeFrameInto(header, topic, opened.payload, plain, 0)
    return { ok: true, payload: opened.payload, data: plain, whole: false }
  }

  /** A control frame as it goes out: sealed when keyed. */
  seal(datagram: Uint8Array): Uint8Array {
    if (this.#sealer === undefined) return datagram
    const sealed = this.#sealer.seal(datagram)
    // Control frames are small: one buffer for the socket.
    return sealed instanceof Uint8Array ? sealed : Buffer.concat(sealed as readonly Uint8Array[])
  }

  setKeyring(keyring: Keyring): void {
    this.#sealer?.setKeyring(keyring)
    this.#opener.setKeyring(keyring)
  }

  sweep(now: number): void {
    this.#opener.sweep(now)
  }

  stats(): SealStats | undefined {
    return this.#sealer === undefined ? undefined : sealStats(this.#sealer, this.#opener)
  }
}

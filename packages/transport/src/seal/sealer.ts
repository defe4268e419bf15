/**
 * Seals datagrams with a group key (WIRE.md “Sealing”): the one stage every datagram of a keyed
 * publisher or subscriber passes on its way out (the outbox's `put`, a subscriber's control
 * frames). AES-256-GCM from node:crypto: hardware AES (AES-NI, ARMv8 crypto extensions) makes it
 * the fastest AEAD on the hosts Shoal runs on; ChaCha20-Poly1305 wins only without them.
 *
 * Each sealing side seals under its own key, derived from the group key and 64 random bits drawn
 * at start, its sender id (HKDF-SHA256), with the 64-bit counter as the nonce: the counter never
 * repeats within a run, and two runs share a derived key only if their 64 random bits collide. The counter follows the clock (microseconds since the epoch, or the last plus one),
 * which lets receivers refuse an old session replayed (see replay-window.ts).
 */
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { type Datagram, datagramLength } from '../net/link.js'
import { CRC_LENGTH, FIXED_HEADER_LENGTH, Flag, Offset } from '../wire/constants.js'
import { crc32Range } from '../wire/crc.js'
import {
  headerAad,
  isSealed,
  nonceOf,
  SEAL_EXTENSION_LENGTH,
  SENDER_LENGTH,
  TAG_LENGTH,
  writeSealFields,
} from '../wire/seal.js'
import type { GroupKey, Keyring } from './keyring.js'

/** What a sealed payload is: encrypted (the default with a key), or readable and authenticated. */
export type SealMode = 'encrypt' | 'authenticate'

export const AEAD = 'aes-256-gcm'
const HKDF_SALT = Buffer.from('shoal seal v1')

/** The key the sender `sender` (16 hex digits) seals with under `group`. */
export function senderKey(group: GroupKey, sender: string): Buffer {
  return Buffer.from(hkdfSync('sha256', group.secret, HKDF_SALT, Buffer.from(sender, 'hex'), 32))
}

/** This host's clock in microseconds since the epoch (the counter's unit). */
export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1_000)
}

export interface SealerStats {
  sealed: number
  /** Datagrams not sealed: every key of the ring is past its not-after. */
  noKey: number
}

export class Sealer {
  readonly mode: SealMode
  /** This side's sender id: 8 random bytes as hex. */
  readonly sender = randomBytes(SENDER_LENGTH).toString('hex')
  #keyring: Keyring
  #group: GroupKey | undefined
  #key: Buffer | undefined
  #counter = 0
  /** When the keyring's times may change which key seals (ms since the epoch). */
  #changeAt = Number.POSITIVE_INFINITY
  readonly stats: SealerStats = { sealed: 0, noKey: 0 }

  constructor(keyring: Keyring, mode: SealMode) {
    this.mode = mode
    this.#keyring = keyring
    this.#rekey()
  }

  /** The key id sealing now (undefined when every key is past its not-after). */
  get keyId(): number | undefined {
    return this.#group?.id
  }

  /** A new keyring (re-read key file): the highest id seals from the next datagram on. */
  setKeyring(keyring: Keyring): void {
    this.#keyring = keyring
    this.#rekey()
  }

  /**
   * The sealed form of `datagram`, an unsealed frame (header, payload, CRC): new parts to gather. A
   * datagram already sealed (a relay passing on what it cannot open) goes as it is; so does one
   * when no key may seal (counted `noKey`: receivers with the key refuse it).
   */
  seal(datagram: Datagram): Datagram {
    const whole = datagram instanceof Uint8Array ? datagram : undefined
    const head: Uint8Array = whole ?? (datagram as readonly Uint8Array[])[0]!
    const flags = (head[Offset.FLAGS]! << 8) | head[Offset.FLAGS + 1]!
    if (isSealed(flags)) return datagram
    this.#rekeyIfExpired()
    const key = this.#key
    if (key === undefined) {
      this.stats.noKey++
      return datagram
    }
    const headerLength = (head[Offset.HEADER_LENGTH]! << 8) | head[Offset.HEADER_LENGTH + 1]!
    const total = datagramLength(datagram)
    const payloadLength = total - headerLength - CRC_LENGTH
    const payload =
      whole !== undefined
        ? whole.subarray(headerLength, headerLength + payloadLength)
        : (datagram as readonly Uint8Array[])[1]!
    const topicEnd = FIXED_HEADER_LENGTH + head[Offset.TOPIC_LENGTH]!
    const sealedHeader = headerLength + SEAL_EXTENSION_LENGTH
    // Gathered from three parts (header, payload, tag and CRC), as fragments are: the payload,
    // up to 64 KiB, is never copied again after the cipher wrote it.
    const top = Buffer.allocUnsafe(sealedHeader)
    top.set(head.subarray(0, topicEnd), 0)
    top.set(head.subarray(topicEnd, headerLength), topicEnd + SEAL_EXTENSION_LENGTH)
    const sealFlags = this.mode === 'encrypt' ? Flag.AUTHENTICATED | Flag.ENCRYPTED : Flag.AUTHENTICATED
    top.writeUInt16BE(flags | sealFlags, Offset.FLAGS)
    top.writeUInt16BE(sealedHeader, Offset.HEADER_LENGTH)
    top.writeUInt16BE(payloadLength + TAG_LENGTH, Offset.PAYLOAD_LENGTH)
    const counter = this.#next()
    writeSealFields(top, topicEnd, { keyId: this.#group!.id, sender: this.sender, counter })
    const cipher = createCipheriv(AEAD, key, nonceOf(counter), { authTagLength: TAG_LENGTH })
    const aad = headerAad(top, 0, sealedHeader)
    let body: Uint8Array
    if (this.mode === 'encrypt') {
      cipher.setAAD(aad)
      body = cipher.update(payload)
      cipher.final() // GCM is a stream cipher: nothing is held back
    } else {
      // GCM takes its authenticated data in pieces: no copy of the payload to join them.
      cipher.setAAD(aad)
      cipher.setAAD(payload)
      cipher.final()
      body = payload
    }
    const tail = Buffer.allocUnsafe(TAG_LENGTH + CRC_LENGTH)
    tail.set(cipher.getAuthTag(), 0)
    let crc = crc32Range(top, 0, sealedHeader)
    crc = crc32Range(body, 0, body.length, crc)
    crc = crc32Range(tail, 0, TAG_LENGTH, crc)
    tail.writeUInt32BE(crc, TAG_LENGTH)
    this.stats.sealed++
    return [top, body, tail]
  }

  #next(): number {
    const now = nowMicros()
    this.#counter = now > this.#counter ? now : this.#counter + 1
    return this.#counter
  }

  #rekey(): void {
    this.#changeAt = this.#keyring.nextChange()
    this.#group = this.#keyring.sealing()
    this.#key = this.#group === undefined ? undefined : senderKey(this.#group, this.sender)
  }

  /** A key reaching its not-before seals from then on; one past its not-after no more. */
  #rekeyIfExpired(): void {
    if (Date.now() >= this.#changeAt) this.#rekey()
  }
}

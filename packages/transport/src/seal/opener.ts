/**
 * Opens sealed datagrams (WIRE.md “Sealing”): the first stage of a keyed subscriber's or
 * publisher's receive path, after the frame's layout and CRC are checked and before anything reads
 * its payload. A keyed side takes nothing unsealed; a keyless one recognises sealed frames and
 * says so (`no-key`) instead of showing them as data.
 *
 * Work per datagram is bounded: one key derivation and one AEAD check at most, whatever a stranger
 * sends; a derived key is kept only with the replay window of a session whose datagrams opened
 * (at most {@link MAX_SEAL_SESSIONS}, evicted and expired with it).
 */
import { createDecipheriv } from 'node:crypto'
import { FIXED_HEADER_LENGTH, Flag, Offset } from '../wire/constants.js'
import type { FrameHeader } from '../wire/header.js'
import {
  headerAad,
  isSealed,
  nonceOf,
  readSealFields,
  SEAL_EXTENSION_LENGTH,
  SEAL_FLAGS,
  TAG_LENGTH,
} from '../wire/seal.js'
import type { Keyring } from './keyring.js'
import { MAX_SEAL_SESSIONS, type ReplayStats, ReplayTable } from './replay-window.js'
import { AEAD, nowMicros, senderKey } from './sealer.js'

/** Why a datagram did not open. */
export type OpenProblem =
  /** A keyed side got a frame that is not sealed. */
  | 'unauthenticated'
  /** A keyless side got a sealed frame. */
  | 'no-key'
  /** Sealed under a key id the ring does not have (or one past its not-after). */
  | 'unknown-key'
  /** The tag does not match: forged, tampered with, or sealed under another key of that id. */
  | 'bad-tag'
  /** A counter seen already, or older than the window. */
  | 'replayed'
  /** A new sender's counter too far from this host's clock (an old session replayed, or a bad clock). */
  | 'clock-skew'

export const OPEN_PROBLEMS: readonly OpenProblem[] = [
  'unauthenticated',
  'no-key',
  'unknown-key',
  'bad-tag',
  'replayed',
  'clock-skew',
]

export type OpenResult = { ok: true; payload: Uint8Array } | { ok: false; reason: OpenProblem }

export interface OpenerStats extends ReplayStats {
  opened: number
}

export class Opener {
  #keyring: Keyring | undefined
  readonly #replay: ReplayTable
  opened = 0

  constructor(keyring: Keyring | undefined, maxSessions = MAX_SEAL_SESSIONS) {
    this.#keyring = keyring
    this.#replay = new ReplayTable(maxSessions)
  }

  get keyed(): boolean {
    return this.#keyring !== undefined
  }

  setKeyring(keyring: Keyring): void {
    this.#keyring = keyring
    this.#replay.forgetKeys()
  }

  /**
   * Opens the frame in `data` (its layout and CRC checked: `header`, `headerLength`, `payload` as
   * `decodeFrame` gave them). On success `header` describes the frame as it was before sealing
   * (seal flags off, extension and tag gone) and `payload` is the plaintext. An unsealed frame on
   * a keyless side passes as it is.
   */
  open(data: Uint8Array, header: FrameHeader, headerLength: number, payload: Uint8Array): OpenResult {
    const keyring = this.#keyring
    if (!isSealed(header.flags))
      return keyring === undefined ? { ok: true, payload } : { ok: false, reason: 'unauthenticated' }
    if (keyring === undefined) return { ok: false, reason: 'no-key' }
    const at = FIXED_HEADER_LENGTH + data[Offset.TOPIC_LENGTH]!
    const fields = readSealFields(data, at)
    const group = keyring.key(fields.keyId)
    if (group === undefined) return { ok: false, reason: 'unknown-key' }
    const session = `${fields.keyId}:${fields.sender}`
    const verdict = this.#replay.check(session, fields.counter, nowMicros())
    if (verdict !== 'ok') return { ok: false, reason: verdict }
    const key = this.#replay.derivedKey(session) ?? senderKey(group, fields.sender)
    const body = payload.subarray(0, payload.length - TAG_LENGTH)
    const tag = payload.subarray(payload.length - TAG_LENGTH)
    const decipher = createDecipheriv(AEAD, key, nonceOf(fields.counter), { authTagLength: TAG_LENGTH })
    const aad = headerAad(data, 0, headerLength)
    decipher.setAuthTag(tag)
    let plain: Uint8Array
    try {
      if (header.flags & Flag.ENCRYPTED) {
        decipher.setAAD(aad)
        const opened = decipher.update(body)
        const rest = decipher.final()
        plain = rest.length === 0 ? opened : Buffer.concat([opened, rest])
      } else {
        // GCM takes its authenticated data in pieces: no copy of the body to join them.
        decipher.setAAD(aad)
        decipher.setAAD(body)
        decipher.final()
        plain = body
      }
    } catch {
      return { ok: false, reason: 'bad-tag' }
    }
    const now = performance.now()
    this.#replay.commit(session, fields.counter, now, key)
    this.opened++
    header.flags &= ~SEAL_FLAGS
    header.extensionLength -= SEAL_EXTENSION_LENGTH
    header.payloadLength = plain.length
    return { ok: true, payload: plain }
  }

  /** Forgets idle sealing sessions (call about once a second). */
  sweep(now = performance.now()): void {
    this.#replay.sweep(now)
  }

  stats(): OpenerStats {
    return { ...this.#replay.stats(), opened: this.opened }
  }
}

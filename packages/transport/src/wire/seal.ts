/**
 * The sealed frame layout (WIRE.md “Sealing”): pure codecs, no keys. A sealed frame is a frame
 * with the `AUTHENTICATED` flag (and `ENCRYPTED` when its payload is encrypted), a seal extension
 * at the start of its header extension, and a 16-byte AEAD tag after its payload, counted in the
 * payload length:
 *
 *     fixed header | topic | key id u32 | sender u64 | counter u64 | [rest of extension] | payload | tag | CRC32
 *
 * The sender is 64 random bits each sealing side draws at start (a publisher, a receiver for its
 * control frames, a relay re-sealing): it names the key the side seals with (derived from the group
 * key and it) and, with the key id, the counter's replay window at receivers.
 *
 * The authenticated data is the header with the fields a relay may rewrite zeroed: the hop count
 * and the informational flag byte (bits 8–15: REPAIRABLE, FOREIGN). In `authenticate` mode the
 * payload is authenticated too, in the clear.
 */
import { Flag, LITTLE_ENDIAN, Offset } from './constants.js'

/** Bytes the seal adds to the header extension: key id, sender, counter. */
export const SEAL_EXTENSION_LENGTH = 20
/** Bytes of the AEAD tag after the payload. */
export const TAG_LENGTH = 16
/** Bytes sealing adds to a datagram: publishers keep this much of their budget free for it. */
export const SEAL_OVERHEAD = SEAL_EXTENSION_LENGTH + TAG_LENGTH
/** Both seal flags. */
export const SEAL_FLAGS = Flag.AUTHENTICATED | Flag.ENCRYPTED
/** Byte of the FLAGS field holding the informational bits 8–15 (big-endian u16). */
export const INFORMATIONAL_FLAGS_BYTE = Offset.FLAGS

/** Offsets within the seal extension (from its start, right after the topic). */
export const SealOffset = {
  KEY_ID: 0, // u32
  SENDER: 4, // u64: 8 random bytes
  COUNTER: 12, // u64: high u32, then low u32
} as const
/** Bytes of the sender id. */
export const SENDER_LENGTH = 8

export interface SealFields {
  keyId: number
  /** The sealing side's 8 random bytes, as 16 hex digits. */
  sender: string
  /** A u64 held in a double: exact below 2^53 (counters are microseconds since the epoch). */
  counter: number
}

/** Whether a frame's flags say it is sealed. */
export function isSealed(flags: number): boolean {
  return (flags & Flag.AUTHENTICATED) !== 0
}

/** Reads the seal fields at `at` (the first byte after the topic). Lengths are the caller's to check. */
export function readSealFields(buf: Uint8Array, at: number): SealFields {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  return {
    keyId: view.getUint32(at + SealOffset.KEY_ID, LITTLE_ENDIAN),
    sender: Buffer.from(buf.buffer, buf.byteOffset + at + SealOffset.SENDER, SENDER_LENGTH).toString('hex'),
    counter:
      view.getUint32(at + SealOffset.COUNTER, LITTLE_ENDIAN) * 2 ** 32 +
      view.getUint32(at + SealOffset.COUNTER + 4, LITTLE_ENDIAN),
  }
}

/** Writes the seal fields at `at`. */
export function writeSealFields(buf: Uint8Array, at: number, fields: SealFields): void {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  view.setUint32(at + SealOffset.KEY_ID, fields.keyId, LITTLE_ENDIAN)
  buf.set(Buffer.from(fields.sender, 'hex'), at + SealOffset.SENDER)
  view.setUint32(at + SealOffset.COUNTER, Math.floor(fields.counter / 2 ** 32), LITTLE_ENDIAN)
  view.setUint32(at + SealOffset.COUNTER + 4, fields.counter >>> 0, LITTLE_ENDIAN)
}

/**
 * The 12-byte AEAD nonce of a sealed datagram: four zero bytes, then the counter. Unique because the
 * key it is used with is the sender's own (derived from the group key and its random sender id)
 * and the counter never repeats under it.
 */
export function nonceOf(counter: number): Buffer {
  const nonce = Buffer.alloc(12)
  nonce.writeUInt32BE(Math.floor(counter / 2 ** 32), 4)
  nonce.writeUInt32BE(counter >>> 0, 8)
  return nonce
}

/**
 * The authenticated data of the header in `buf[start, start + length)`: a copy with the hop count
 * and the informational flag byte zeroed (what relays rewrite).
 */
export function headerAad(buf: Uint8Array, start: number, length: number): Buffer {
  const aad = Buffer.from(buf.subarray(start, start + length))
  aad[Offset.HOPS] = 0
  aad[INFORMATIONAL_FLAGS_BYTE] = 0
  return aad
}

/**
 * Scenario 4's per-datagram crypto rows, no sockets: what sealing costs a datagram, and what
 * per-sender signatures would.
 *
 * - seal / open: AES-256-GCM (mode `encrypt`) step by step as the transport's `Sealer.seal` and
 *   `Opener.open` do it (packages/transport/src/seal/), which @shoal/transport does not export: the
 *   same wire helpers from `@shoal/transport/wire` (`writeSealFields`, `nonceOf`, `headerAad`,
 *   `readSealFields`) and the same node:crypto calls. Seal: a new header buffer, the header copied
 *   around the 20-byte seal extension, a cipher per datagram, the tag and a new CRC-32 over header,
 *   ciphertext and tag; three parts for the socket to gather (the ciphertext is not copied). Open: the seal fields read, the sender's derived key looked up, a
 *   decipher per datagram, the tag checked. Left out: the frame's own decode and CRC check (an
 *   unsealed datagram pays them too) and the replay window's bookkeeping (a bitmap update).
 * - sign / verify: Ed25519 (`crypto.sign(null, …)`, `crypto.verify(null, …)`) over the whole
 *   datagram, with KeyObjects made once; not in the transport.
 *
 * Each row is warmed up for a fifth of its time, then timed for `ms` milliseconds.
 */
import { createCipheriv, createDecipheriv, generateKeyPairSync, hkdfSync, sign, verify } from 'node:crypto'
import { Temperature } from '@shoal/schema'
import {
  CRC_LENGTH,
  crc32,
  encodeTopic,
  encodeWholeFrame,
  FIXED_HEADER_LENGTH,
  Flag,
  headerAad,
  nonceOf,
  Offset,
  readSealFields,
  SEAL_EXTENSION_LENGTH,
  SEAL_OVERHEAD,
  TAG_LENGTH,
  writeSealFields,
} from '@shoal/transport/wire'
import type { CryptoMeasurement, CryptoOp } from '../protocol.js'
import {
  BENCH_KEY_HEX,
  BENCH_KEY_ID,
  IMAGE_TOPIC,
  MAX_UDP_PAYLOAD,
  SMALL_TOPIC,
  temperatureSample,
} from '../samples.js'

/** Ethernet's UDP payload (1,500-byte MTU less IPv4 and UDP headers): a datagram off loopback. */
export const ETHERNET_DATAGRAM = 1_472
/** Sealed datagram sizes: the small frame's unbatched datagram (plus the seal), Ethernet's, loopback's. */
const SEAL_SIZES = ['small', ETHERNET_DATAGRAM, MAX_UDP_PAYLOAD] as const
/** Signed datagram sizes (the issue's: 1,472 B and 64 KiB). */
const SIGN_SIZES = [ETHERNET_DATAGRAM, MAX_UDP_PAYLOAD] as const
/** Iterations between two looks at the clock. */
const STRIDE = 16
const AEAD = 'aes-256-gcm'
const SESSION = 0x12345678
/** The transport's key derivation (sealer.ts): HKDF-SHA256 of the group key, salt, sender id. */
const HKDF_SALT = Buffer.from('shoal seal v1')
const SENDER = '0123456789abcdef'

const groupKey = Buffer.from(BENCH_KEY_HEX, 'hex')
const senderKey = Buffer.from(hkdfSync('sha256', groupKey, HKDF_SALT, Buffer.from(SENDER, 'hex'), 32))
/** The opener's derived keys by `keyId:sender`, as it keeps them. */
const openerKeys = new Map([[`${BENCH_KEY_ID}:${SENDER}`, senderKey]])
let counter = 0
let sink = 0

/** An unsealed whole DATA frame: the small Temperature one, or one of `bytes` once sealed. */
function plainFrame(size: (typeof SEAL_SIZES)[number]): Uint8Array {
  if (size === 'small') {
    const message = Temperature.encode(temperatureSample()).slice()
    return encodeWholeFrame(0, 0, SESSION, 0, Temperature.fingerprint, encodeTopic(SMALL_TOPIC), message)
  }
  const topic = encodeTopic(IMAGE_TOPIC)
  const payload = new Uint8Array(size - SEAL_OVERHEAD - FIXED_HEADER_LENGTH - topic.length - CRC_LENGTH)
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + (i >>> 11)) & 0xff
  return encodeWholeFrame(0, 0, SESSION, 0, 0, topic, payload)
}

const u16 = (buf: Uint8Array, at: number) => (buf[at]! << 8) | buf[at + 1]!

/** `Sealer.seal` for a whole datagram, mode `encrypt` (see the module comment): the parts to gather. */
function seal(frame: Uint8Array): [Buffer, Buffer, Buffer] {
  const flags = u16(frame, Offset.FLAGS)
  const headerLength = u16(frame, Offset.HEADER_LENGTH)
  const payloadLength = frame.length - headerLength - CRC_LENGTH
  const payload = frame.subarray(headerLength, headerLength + payloadLength)
  const topicEnd = FIXED_HEADER_LENGTH + frame[Offset.TOPIC_LENGTH]!
  const sealedHeader = headerLength + SEAL_EXTENSION_LENGTH
  const top = Buffer.allocUnsafe(sealedHeader)
  top.set(frame.subarray(0, topicEnd), 0)
  top.set(frame.subarray(topicEnd, headerLength), topicEnd + SEAL_EXTENSION_LENGTH)
  top.writeUInt16BE(flags | Flag.AUTHENTICATED | Flag.ENCRYPTED, Offset.FLAGS)
  top.writeUInt16BE(sealedHeader, Offset.HEADER_LENGTH)
  top.writeUInt16BE(payloadLength + TAG_LENGTH, Offset.PAYLOAD_LENGTH)
  // The sealer's counter: the clock in µs, or one more than the last.
  const now = Math.floor((performance.timeOrigin + performance.now()) * 1_000)
  counter = now > counter ? now : counter + 1
  writeSealFields(top, topicEnd, { keyId: BENCH_KEY_ID, sender: SENDER, counter })
  const cipher = createCipheriv(AEAD, senderKey, nonceOf(counter), { authTagLength: TAG_LENGTH })
  cipher.setAAD(headerAad(top, 0, sealedHeader))
  const body = cipher.update(payload)
  cipher.final() // GCM holds nothing back
  const tail = Buffer.allocUnsafe(TAG_LENGTH + CRC_LENGTH)
  tail.set(cipher.getAuthTag(), 0)
  const crc = crc32(tail.subarray(0, TAG_LENGTH), crc32(body, crc32(top)))
  tail.writeUInt32BE(crc, TAG_LENGTH)
  return [top, body, tail]
}

/** `Opener.open` for a sealed datagram, encrypted (see the module comment); the plaintext. */
function open(data: Uint8Array, headerLength: number, payload: Uint8Array): Uint8Array {
  const fields = readSealFields(data, FIXED_HEADER_LENGTH + data[Offset.TOPIC_LENGTH]!)
  const key = openerKeys.get(`${fields.keyId}:${fields.sender}`)
  if (key === undefined) throw new Error('the bench key did not open its own datagram')
  const body = payload.subarray(0, payload.length - TAG_LENGTH)
  const decipher = createDecipheriv(AEAD, key, nonceOf(fields.counter), { authTagLength: TAG_LENGTH })
  decipher.setAuthTag(payload.subarray(payload.length - TAG_LENGTH))
  decipher.setAAD(headerAad(data, 0, headerLength))
  const opened = decipher.update(body)
  const rest = decipher.final()
  return rest.length === 0 ? opened : Buffer.concat([opened, rest])
}

/** Runs `step` for `ms` (after a fifth of that as warm-up); steps per second. */
function timed(ms: number, step: () => void): number {
  const run = (forMs: number) => {
    const started = performance.now()
    let n = 0
    let elapsed = 0
    do {
      for (let i = 0; i < STRIDE; i++) step()
      n += STRIDE
      elapsed = performance.now() - started
    } while (elapsed < forMs)
    return n / (elapsed / 1_000)
  }
  run(ms / 5)
  return run(ms)
}

export function measureCrypto(ms: number): CryptoMeasurement[] {
  const out: CryptoMeasurement[] = []
  const add = (op: CryptoOp, datagramBytes: number, frameBytes: number, step: () => void) =>
    out.push({ op, datagramBytes, frameBytes, perSecond: timed(ms, step) })
  const sealed = new Map<number, Buffer>()
  for (const size of SEAL_SIZES) {
    const frame = plainFrame(size)
    // The receiver gets the parts as one datagram, its CRC over all of it.
    const datagram = Buffer.concat(seal(frame))
    const end = datagram.length - CRC_LENGTH
    if (crc32(datagram.subarray(0, end)) !== datagram.readUInt32BE(end))
      throw new Error(`the sealed ${datagram.length}-byte datagram's CRC-32 is wrong`)
    sealed.set(datagram.length, datagram)
    const headerLength = u16(datagram, Offset.HEADER_LENGTH)
    const payload = datagram.subarray(headerLength, datagram.length - CRC_LENGTH)
    // The round trip must give the frame's payload back, or the rows measure something else.
    const plain = open(datagram, headerLength, payload)
    if (
      Buffer.compare(plain, frame.subarray(u16(frame, Offset.HEADER_LENGTH), frame.length - CRC_LENGTH)) !== 0
    )
      throw new Error(`seal then open did not give the ${frame.length}-byte frame's payload back`)
    add('seal', datagram.length, frame.length, () => {
      sink += seal(frame)[1].length
    })
    add('open', datagram.length, frame.length, () => {
      sink += open(datagram, headerLength, payload).length
    })
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  for (const size of SIGN_SIZES) {
    const datagram = sealed.get(size)
    if (datagram === undefined) throw new Error(`no sealed datagram of ${size} bytes to sign`)
    const signature = sign(null, datagram, privateKey)
    if (!verify(null, datagram, publicKey, signature)) throw new Error('an Ed25519 signature did not verify')
    add('sign', size, size, () => {
      sink += sign(null, datagram, privateKey).length
    })
    add('verify', size, size, () => {
      if (verify(null, datagram, publicKey, signature)) sink++
    })
  }
  return out
}

/** Feeds the rows' results somewhere, so no work can be optimised away. */
export function cryptoSink(): number {
  return sink
}

/**
 * Scenario 4's per-datagram crypto rows, no sockets: what sealing costs a datagram, and what
 * per-sender signatures would.
 *
 * - seal / open: the transport's own `Sealer.seal` and `Opener.open` (AES-256-GCM, mode
 *   `encrypt`). Seal: a new header buffer, the header copied around the 20-byte seal extension, a
 *   cipher per datagram, the tag and a new CRC-32 over header, ciphertext and tag; three parts for
 *   the socket to gather (the ciphertext is not copied). Open: the seal fields read, the replay
 *   window checked and updated, the sender's derived key looked up, a decipher per datagram, the
 *   tag checked. Left out: the frame's own decode and CRC check (an unsealed datagram pays them too).
 * - sign / verify: Ed25519 (`crypto.sign(null, …)`, `crypto.verify(null, …)`) over the whole
 *   datagram, with KeyObjects made once; not in the transport.
 *
 * Each row is warmed up for a fifth of its time, then timed for `ms` milliseconds.
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto'
import { Temperature } from '@shoal/schema'
import { type Datagram, Keyring, Opener, Sealer } from '@shoal/transport'
import {
  CRC_LENGTH,
  decodeFrame,
  encodeTopic,
  encodeWholeFrame,
  FIXED_HEADER_LENGTH,
  Offset,
  SEAL_OVERHEAD,
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
const SESSION = 0x12345678
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

/** Sealed copies of one frame opened in turn: each opens once (the replay window refuses a copy). */
const OPEN_RING = 4_096

/** One datagram as the receiver gets it: the sealer's parts gathered, decoded as the gate does. */
function received(parts: Datagram) {
  const datagram =
    parts instanceof Uint8Array ? Buffer.from(parts) : Buffer.concat(parts as readonly Uint8Array[])
  const decoded = decodeFrame(datagram)
  if (!decoded.ok)
    throw new Error(`a sealed ${datagram.length}-byte datagram did not decode: ${decoded.reason}`)
  const headerLength = datagram.length - decoded.header.payloadLength - CRC_LENGTH
  return { datagram, header: decoded.header, headerLength, payload: decoded.payload }
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
  const keyring = Keyring.parse(`${BENCH_KEY_ID} ${BENCH_KEY_HEX}`)
  const sealer = new Sealer(keyring, 'encrypt')
  for (const size of SEAL_SIZES) {
    const frame = plainFrame(size)
    const ring = Array.from({ length: OPEN_RING }, () => received(sealer.seal(frame)))
    const first = ring[0]!
    sealed.set(first.datagram.length, first.datagram)
    // The round trip must give the frame's payload back, or the rows measure something else.
    const check = new Opener(keyring).open(
      first.datagram,
      { ...first.header },
      first.headerLength,
      first.payload,
    )
    const plain = frame.subarray(u16(frame, Offset.HEADER_LENGTH), frame.length - CRC_LENGTH)
    if (!check.ok || Buffer.compare(check.payload, plain) !== 0)
      throw new Error(`seal then open did not give the ${frame.length}-byte frame's payload back`)
    add('seal', first.datagram.length, frame.length, () => {
      const parts = sealer.seal(frame)
      sink += parts.length
    })
    // A fresh opener per pass over the ring: one key derivation per 4,096 datagrams, as a
    // receiver pays it once per sender.
    let opener = new Opener(keyring)
    let next = 0
    add('open', first.datagram.length, frame.length, () => {
      if (next === OPEN_RING) {
        opener = new Opener(keyring)
        next = 0
      }
      const d = ring[next++]!
      const opened = opener.open(d.datagram, { ...d.header }, d.headerLength, d.payload)
      if (!opened.ok) throw new Error(`a sealed datagram did not open: ${opened.reason}`)
      sink += opened.payload.length
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

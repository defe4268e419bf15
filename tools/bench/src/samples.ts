/**
 * The messages every scenario sends, and where they go. One definition, so the raw baseline and
 * Shoal always carry the same bytes.
 */
import { Image, Temperature, toUint64 } from '@shoal/schema'
import { Keyring, type SealOptions } from '@shoal/transport'

/** The multicast group of every socket scenario; it exists only inside the bench's namespace. */
export const GROUP = '239.255.77.1'
/** Every socket is pinned to loopback of the private namespace. */
export const LOOPBACK = '127.0.0.1'
/** First port handed out; each sender/receiver pair gets the next one. */
export const FIRST_PORT = 17_400

export const SMALL_TOPIC = 'temperature'
export const IMAGE_TOPIC = 'camera'
export const PING_TOPIC = 'ping'
export const PONG_TOPIC = 'pong'

/**
 * The sealed variants' group key: a fixed, public test key (the bytes 0x00, 0x01, … 0x1f), the
 * same in every worker so sender and receiver share it. Never a secret: it is in this file.
 */
export const BENCH_KEY_ID = 1
export const BENCH_KEY_HEX = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0')).join('')
/** What the sealed variants measure: `encrypt`, the transport's default with a key. */
export const BENCH_SEAL_MODE = 'encrypt'

/** The `seal` option of every sealed publisher and subscriber. */
export function benchSeal(): SealOptions {
  return { keyring: Keyring.parse(`${BENCH_KEY_ID} ${BENCH_KEY_HEX}`, 'bench key'), mode: BENCH_SEAL_MODE }
}

/** A one-byte datagram: the raw senders' "that was all" marker (no real frame is this short). */
export const RAW_SENTINEL = Buffer.from([0x45])

/** A temperature reading whose encoding is 45 bytes: the small sensor frame. */
export function temperatureSample(): ReturnType<typeof Temperature.create> {
  return Temperature.create({
    header: { sourceId: 'temp0@rover-3', stampNs: toUint64(1_700_000_000_123_456_789n) },
    celsius: 21.5,
    variance: 0.01,
  })
}

export const IMAGE_WIDTH = 512
export const IMAGE_HEIGHT = 512
/** rgba8: 4 bytes per pixel, 512 × 512 × 4 = 1 MiB of pixel data. */
export const IMAGE_STEP = IMAGE_WIDTH * 4
export const IMAGE_DATA_BYTES = IMAGE_STEP * IMAGE_HEIGHT

/** A 1 MiB rgba8 image with a non-constant pattern. */
export function imageSample(): ReturnType<typeof Image.create> {
  const data = new Uint8Array(IMAGE_DATA_BYTES)
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >>> 11)) & 0xff
  return Image.create({
    header: {
      sourceId: 'cam0@rover-3',
      frameId: 'camera_optical',
      stampNs: toUint64(1_700_000_000_123_456_789n),
    },
    height: IMAGE_HEIGHT,
    width: IMAGE_WIDTH,
    encoding: 'rgba8',
    step: IMAGE_STEP,
    data,
  })
}

/** Raw image datagrams: [u32 frame][u16 index][u16 count] then a slice of the pixel data. */
export const RAW_IMAGE_HEADER_BYTES = 8
/** Largest IPv4 UDP payload; loopback's MTU (65,536) lets a datagram this big through unfragmented. */
export const MAX_UDP_PAYLOAD = 65_507
export const RAW_IMAGE_CHUNK = MAX_UDP_PAYLOAD - RAW_IMAGE_HEADER_BYTES

import { type shoal, uint64ToBigInt } from '@shoal/schema'
import { rawImageSchema } from './raw-image-schema.js'

const NS_PER_SECOND = 1_000_000_000n

/**
 * Bytes per channel value of the image encodings whose values span several bytes. Foxglove reads
 * them little-endian only; every other encoding it draws has 8-bit values, where byte order means
 * nothing. The names are the ROS ones Shoal's `Image.encoding` uses.
 */
const MULTI_BYTE_ENCODINGS: Readonly<Record<string, number>> = {
  mono16: 2,
  '16UC1': 2,
  '16UC3': 2,
  '16UC4': 2,
  '16SC1': 2,
  '32FC1': 4,
  '32SC1': 4,
  '64FC1': 8,
}

/** A `foxglove.RawImage` as its reflection type takes it (proto field names). */
export interface RawImageFields {
  timestamp: { seconds: number; nanos: number }
  frame_id: string
  width: number
  height: number
  encoding: string
  step: number
  data: Uint8Array
}

/** Header stamp (ns since the epoch) → google.protobuf.Timestamp. */
export function stampToTimestamp(stampNs: bigint): { seconds: number; nanos: number } {
  // A uint64 of nanoseconds is at most ~1.8e10 s: the seconds fit a double exactly.
  return { seconds: Number(stampNs / NS_PER_SECOND), nanos: Number(stampNs % NS_PER_SECOND) }
}

/**
 * The image's pixels in little-endian order: `data` itself when that is what they are, else a copy
 * with each value's bytes reversed, row by row (a row's padding past its last whole value is kept).
 */
export function littleEndianData(image: shoal.v1.Image.$Properties): Uint8Array {
  const data = image.data ?? new Uint8Array(0)
  const size = MULTI_BYTE_ENCODINGS[image.encoding ?? '']
  if (!image.isBigendian || size === undefined) return data
  const out = new Uint8Array(data)
  const step = image.step && image.step > 0 ? image.step : out.length
  for (let row = 0; row < out.length; row += step) {
    const end = Math.min(row + step, out.length)
    for (let at = row; at + size <= end; at += size) out.subarray(at, at + size).reverse()
  }
  return out
}

/** Shoal's `shoal.v1.Image` as Foxglove's `foxglove.RawImage`: header stamp → timestamp, frame id, pixels. */
export function toRawImageFields(image: shoal.v1.Image.$Properties): RawImageFields {
  return {
    timestamp: stampToTimestamp(uint64ToBigInt(image.header?.stampNs)),
    frame_id: image.header?.frameId ?? '',
    width: image.width ?? 0,
    height: image.height ?? 0,
    encoding: image.encoding ?? '',
    step: image.step ?? 0,
    data: littleEndianData(image),
  }
}

/** Encodes {@link toRawImageFields} of the image as a `foxglove.RawImage` (the pixels are copied once). */
export function encodeRawImage(image: shoal.v1.Image.$Properties): Uint8Array {
  const { type } = rawImageSchema()
  return type.encode(type.fromObject(toRawImageFields(image))).finish()
}

import * as zlib from 'node:zlib'

/**
 * CRC-32 (IEEE 802.3: the polynomial zlib, Ethernet and PNG use) of `bytes`, continuing from
 * `previous` (the CRC of the bytes before them) when given. Node >= 20.15 has it natively in
 * zlib; older Node 20 releases use the table version below.
 */
export const crc32: (bytes: Uint8Array, previous?: number) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? (bytes, previous = 0) =>
        // zlib answers 0 for some empty views whatever `previous` is: the CRC of nothing more is `previous`.
        bytes.length === 0
          ? previous >>> 0
          : (zlib as unknown as { crc32(b: Uint8Array, v: number): number }).crc32(bytes, previous) >>> 0
    : tableCrc32

const TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/** Table-driven CRC-32, the same function as zlib's; the fallback for Node < 20.15. */
export function tableCrc32(bytes: Uint8Array, previous = 0): number {
  let crc = (previous ^ 0xffffffff) >>> 0
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

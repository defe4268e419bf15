import { crc32 as zlibCrc32 } from 'node:zlib'

/** CRC-32 (IEEE 802.3, the one zlib and Ethernet use) of `bytes`. Node >= 20.15. */
export function crc32(bytes: Uint8Array): number {
  return zlibCrc32(bytes) >>> 0
}

/**
 * Writes UDP datagrams to a classic pcap file (LINKTYPE_RAW: IPv4 packets, no link header), so the
 * dissector can be fed datagrams encoded by the transport's own codecs, malformed ones included.
 */
import { writeFileSync } from 'node:fs'

const PCAP_MAGIC = 0xa1b2c3d4
const LINKTYPE_RAW = 101
/** Larger than any UDP datagram, so nothing is cut. */
const SNAPLEN = 262_144
const IPV4_HEADER = 20
const UDP_HEADER = 8

export interface Datagram {
  readonly payload: Uint8Array
  readonly src?: string
  readonly dst?: string
  readonly srcPort?: number
  readonly dstPort?: number
}

function ipv4(address: string): number[] {
  return address.split('.').map(Number)
}

function checksum(header: Uint8Array): number {
  let sum = 0
  for (let i = 0; i < header.length; i += 2) sum += (header[i]! << 8) | header[i + 1]!
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return ~sum & 0xffff
}

function packet(d: Datagram): Uint8Array {
  const total = IPV4_HEADER + UDP_HEADER + d.payload.length
  const out = new Uint8Array(total)
  const view = new DataView(out.buffer)
  out[0] = 0x45 // IPv4, 5 words of header
  view.setUint16(2, total)
  out[8] = 1 // TTL
  out[9] = 17 // UDP
  out.set(ipv4(d.src ?? '10.77.1.1'), 12)
  out.set(ipv4(d.dst ?? '239.255.0.1'), 16)
  view.setUint16(10, checksum(out.subarray(0, IPV4_HEADER)))
  view.setUint16(IPV4_HEADER, d.srcPort ?? 40_000)
  view.setUint16(IPV4_HEADER + 2, d.dstPort ?? 7400)
  view.setUint16(IPV4_HEADER + 4, UDP_HEADER + d.payload.length)
  // UDP checksum 0: none (allowed over IPv4)
  out.set(d.payload, IPV4_HEADER + UDP_HEADER)
  return out
}

/** Writes `datagrams` to `path`, one millisecond apart. */
export function writePcap(path: string, datagrams: readonly Datagram[]): void {
  const parts: Uint8Array[] = []
  const global = new DataView(new ArrayBuffer(24))
  global.setUint32(0, PCAP_MAGIC)
  global.setUint16(4, 2)
  global.setUint16(6, 4)
  global.setUint32(16, SNAPLEN)
  global.setUint32(20, LINKTYPE_RAW)
  parts.push(new Uint8Array(global.buffer))
  datagrams.forEach((d, i) => {
    const bytes = packet(d)
    const record = new DataView(new ArrayBuffer(16))
    record.setUint32(0, 1_800_000_000 + Math.floor(i / 1000))
    record.setUint32(4, (i % 1000) * 1000)
    record.setUint32(8, bytes.length)
    record.setUint32(12, bytes.length)
    parts.push(new Uint8Array(record.buffer), bytes)
  })
  writeFileSync(path, Buffer.concat(parts))
}

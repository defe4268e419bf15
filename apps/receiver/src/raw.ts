import type { RawDatagram } from '@shoal/transport'

/** One JSON line of `--raw --output json`: a datagram as received. */
export interface RawObject {
  receivedAt: string
  from: { address: string; port: number }
  bytes: number
  /** The datagram as text, when it is printable UTF-8. */
  text?: string
  /** Otherwise its bytes in hex. */
  hex?: string
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
/**
 * C0 controls but tab, newline and carriage return; DEL; C1 controls; the bidirectional formatting
 * characters and the line and paragraph separators (see `escapeControls` of @shoal/service).
 */
const UNPRINTABLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/

/** The datagram as text when it is valid UTF-8 with nothing unprintable in it, else undefined. */
export function printableText(data: Uint8Array): string | undefined {
  let text: string
  try {
    text = utf8.decode(data)
  } catch {
    return undefined
  }
  return UNPRINTABLE.test(text) ? undefined : text
}

export function rawToObject(datagram: RawDatagram): RawObject {
  const text = printableText(datagram.data)
  const base = {
    receivedAt: new Date(datagram.receivedAt).toISOString(),
    from: { address: datagram.from.address, port: datagram.from.port },
    bytes: datagram.data.length,
  }
  return text === undefined ? { ...base, hex: datagram.data.toString('hex') } : { ...base, text }
}

/**
 * The datagram for a person: its text (quoted with escapes when it holds line breaks other than
 * one at the end), or its hex.
 */
export function describeRaw(data: Uint8Array): string {
  const text = printableText(data)
  if (text === undefined)
    return `hex ${Buffer.from(data.buffer, data.byteOffset, data.length).toString('hex')}`
  const line = text.replace(/\r?\n$/, '')
  return /[\r\n\t]/.test(line) || line === '' ? JSON.stringify(text) : line
}

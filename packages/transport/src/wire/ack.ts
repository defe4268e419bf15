/**
 * ACK frames: a receiver's answer to a DATA frame that carried the ACK_REQUEST flag.
 * The header repeats the acknowledged frame's session, sequence and topic; the payload names the
 * receiver. See WIRE.md (“ACK”).
 */
import { CRC_LENGTH, FIXED_HEADER_LENGTH, FrameKind, LITTLE_ENDIAN, MAX_HEADER_LENGTH } from './constants.js'
import { encodedFrameLength, encodeFrameInto } from './frame.js'
import { encodeTopic, type FrameHeader } from './header.js'

/** u32 receiver session id, then the receiver's name in UTF-8 (at most this many bytes). */
export const ACK_RECEIVER_OFFSET = 0
export const ACK_NAME_OFFSET = 4
export const MAX_RECEIVER_NAME_BYTES = 200

export interface AckBody {
  receiverSession: number
  receiver: string
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeAck(
  acked: Pick<FrameHeader, 'sessionId' | 'sequence' | 'topic'>,
  body: AckBody,
): Uint8Array {
  const name = encoder.encode(body.receiver).subarray(0, MAX_RECEIVER_NAME_BYTES)
  const payload = new Uint8Array(ACK_NAME_OFFSET + name.length)
  new DataView(payload.buffer).setUint32(ACK_RECEIVER_OFFSET, body.receiverSession, LITTLE_ENDIAN)
  payload.set(name, ACK_NAME_OFFSET)
  return encodeControlFrame(FrameKind.ACK, acked, payload)
}

/**
 * A control frame (ACK, NACK) about one DATA frame: its session, sequence and topic in the header,
 * fingerprint 0, one fragment, `payload` as given. `length`: pad the frame with a zero header
 * extension to at least this many bytes (as far as the u16 header length allows).
 */
export function encodeControlFrame(
  kind: FrameKind,
  about: Pick<FrameHeader, 'sessionId' | 'sequence' | 'topic'>,
  payload: Uint8Array,
  length = 0,
): Uint8Array {
  const topicBytes = encodeTopic(about.topic)
  const unpadded = FIXED_HEADER_LENGTH + topicBytes.length + payload.length + CRC_LENGTH
  const extensionLength = Math.max(
    0,
    Math.min(length - unpadded, MAX_HEADER_LENGTH - FIXED_HEADER_LENGTH - topicBytes.length),
  )
  const header: FrameHeader = {
    kind,
    flags: 0,
    hops: 0,
    topic: about.topic,
    sessionId: about.sessionId,
    sequence: about.sequence,
    fingerprint: 0,
    messageLength: payload.length,
    fragmentOffset: 0,
    fragmentIndex: 0,
    fragmentCount: 1,
    payloadLength: payload.length,
    extensionLength,
  }
  const out = new Uint8Array(encodedFrameLength(header, topicBytes))
  encodeFrameInto(header, topicBytes, payload, out, 0)
  return out
}

/** Reads an ACK payload; undefined when it is too short or the name is not UTF-8. */
export function decodeAckBody(payload: Uint8Array): AckBody | undefined {
  if (payload.length < ACK_NAME_OFFSET || payload.length > ACK_NAME_OFFSET + MAX_RECEIVER_NAME_BYTES)
    return undefined
  const receiverSession = new DataView(payload.buffer, payload.byteOffset, payload.length).getUint32(
    ACK_RECEIVER_OFFSET,
    LITTLE_ENDIAN,
  )
  try {
    return { receiverSession, receiver: decoder.decode(payload.subarray(ACK_NAME_OFFSET)) }
  } catch {
    return undefined // not UTF-8
  }
}

/**
 * Splitting a message into datagrams that each fit the datagram budget (so IP never fragments),
 * and putting it back together on the receiving side. See WIRE.md (“Fragmentation”).
 */
import { transportError } from '../errors.js'
import { CRC_LENGTH, MAX_FRAGMENTS, MIN_DATAGRAM_BUDGET } from './constants.js'
import { crc32 } from './crc.js'
import { encodeHeaderInto, type FrameHeader, headerLength } from './header.js'

/** Header fields a publisher chooses; the fragment fields are filled in by {@link fragmentMessage}. */
export type MessageHeader = Omit<
  FrameHeader,
  'messageLength' | 'fragmentOffset' | 'fragmentIndex' | 'fragmentCount' | 'payloadLength'
>

/** Payload bytes one datagram of this budget carries for a header of this size. */
export function fragmentCapacity(budget: number, topicBytes: number, extensionLength = 0): number {
  return budget - headerLength(topicBytes, extensionLength) - CRC_LENGTH
}

/** How many datagrams a message of `length` bytes needs. */
export function fragmentCountFor(length: number, capacity: number): number {
  return Math.max(1, Math.ceil(length / capacity))
}

/**
 * Encodes `message` as one or more frames of at most `budget` bytes each. The frames are views
 * into one allocation, in order.
 */
export function fragmentMessage(
  header: MessageHeader,
  topicBytes: Uint8Array,
  message: Uint8Array,
  budget: number,
): Uint8Array[] {
  return fragmentParts(header, topicBytes, message, budget).map(([head, body, crc]) => {
    const frame = new Uint8Array(head.length + body.length + crc.length)
    frame.set(head)
    frame.set(body, head.length)
    frame.set(crc, head.length + body.length)
    return frame
  })
}

/** One fragment as the three pieces a datagram is gathered from: header, payload view, CRC. */
export type FragmentParts = [head: Uint8Array, body: Uint8Array, crc: Uint8Array]

/**
 * Like {@link fragmentMessage}, without copying the message: each fragment is its own header, a
 * view into `message`, and its CRC, for a scatter-gather send. `message` must stay unchanged
 * until the datagrams are sent.
 */
export function fragmentParts(
  header: MessageHeader,
  topicBytes: Uint8Array,
  message: Uint8Array,
  budget: number,
): FragmentParts[] {
  if (budget < MIN_DATAGRAM_BUDGET)
    throw transportError(
      'SHOAL_BUDGET_OUT_OF_RANGE',
      `datagram budget ${budget} is below ${MIN_DATAGRAM_BUDGET}`,
    )
  const capacity = Math.min(fragmentCapacity(budget, topicBytes.length, header.extensionLength), 0xffff)
  const count = fragmentCountFor(message.length, capacity)
  if (count > MAX_FRAGMENTS)
    throw transportError(
      'SHOAL_FRAME_TOO_LARGE',
      `message of ${message.length} bytes needs ${count} fragments of ${capacity} bytes; the wire allows ${MAX_FRAGMENTS}`,
    )
  const headLength = headerLength(topicBytes.length, header.extensionLength)
  // Every header and CRC in one allocation; the payloads stay where they are.
  const small = new Uint8Array(count * (headLength + CRC_LENGTH))
  const parts: FragmentParts[] = []
  // One header object, its fragment fields set per fragment: an object spread with extra
  // properties costs microseconds per call on V8 11 (measured in tools/bench).
  const fragment: FrameHeader = {
    kind: header.kind,
    flags: header.flags,
    hops: header.hops,
    topic: header.topic,
    sessionId: header.sessionId,
    sequence: header.sequence,
    fingerprint: header.fingerprint,
    extensionLength: header.extensionLength,
    messageLength: message.length,
    fragmentOffset: 0,
    fragmentIndex: 0,
    fragmentCount: count,
    payloadLength: 0,
  }
  for (let index = 0; index < count; index++) {
    const start = index * capacity
    const body = message.subarray(start, Math.min(start + capacity, message.length))
    fragment.fragmentOffset = start
    fragment.fragmentIndex = index
    fragment.payloadLength = body.length
    const at = index * (headLength + CRC_LENGTH)
    const head = small.subarray(at, at + headLength)
    encodeHeaderInto(fragment, topicBytes, head, 0)
    const crc = small.subarray(at + headLength, at + headLength + CRC_LENGTH)
    const value = crc32(body, crc32(head))
    crc[0] = value >>> 24
    crc[1] = value >>> 16
    crc[2] = value >>> 8
    crc[3] = value
    parts.push([head, body, crc])
  }
  return parts
}

/** Smallest payload of a fragment that is not its message's last. */
export const MIN_FRAGMENT_BYTES = 128

/**
 * The fragment size a fragment implies, or 0 when its geometry is impossible. Fragment i sits at
 * i × size; every fragment but the last carries exactly `size` bytes; the last ends the message;
 * and `count` fragments of `size` bytes hold the message length with less than one to spare.
 * Holding every fragment to this makes them tile the message exactly, with no gap or overlap, so a
 * completed buffer has every byte written. Pure header arithmetic: receivers check it before they
 * keep anything of a fragment, relays before they forward one.
 */
export function impliedFragmentSize(
  header: Pick<
    FrameHeader,
    'fragmentIndex' | 'fragmentCount' | 'fragmentOffset' | 'payloadLength' | 'messageLength'
  >,
): number {
  const { fragmentIndex: i, fragmentCount: n, fragmentOffset: offset, payloadLength: length } = header
  const size = i === 0 ? length : offset / i
  if (!Number.isInteger(size) || size <= 0 || offset !== i * size) return 0
  if (i < n - 1 ? length !== size : offset + length !== header.messageLength || length > size) return 0
  if (!((n - 1) * size < header.messageLength && header.messageLength <= n * size)) return 0
  // No publisher cuts fragments this small (its smallest budget leaves 217 bytes of payload): a
  // stranger's thousands of tiny fragments would cost a piece each to hold.
  if (n > 1 && size < MIN_FRAGMENT_BYTES) return 0
  return size
}

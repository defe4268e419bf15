/**
 * What the transport needs of a message type. @shoal/schema's `MessageType` satisfies it; any
 * other protobuf runtime can too.
 */
export interface MessageCodec<T = unknown> {
  readonly typeName: string
  /** u32 type fingerprint carried in every frame. */
  readonly fingerprint: number
  /**
   * The encoding. Its memory belongs to the caller: a publisher reuses the memory of a large
   * message's encoding for later messages once it no longer holds that message for repair.
   */
  encode(message: T): Uint8Array
  /**
   * Optional fast path: encodes straight into `buf` (a Node `Buffer`) from `offset`. Returns the end
   * offset when the encoding fits before `buf.length`, otherwise the encoding in a new buffer (which,
   * like `encode`'s, belongs to the caller). With it, a small frame is written header and message in
   * one buffer with no copy.
   */
  encodeInto?(message: T, buf: Uint8Array, offset: number): number | Uint8Array
  decode(bytes: Uint8Array): T
}

/** Looks message types up by fingerprint (receive side). */
export interface CodecRegistry {
  byFingerprint(fingerprint: number): MessageCodec | undefined
}

/** Which type a topic must carry; a frame with another fingerprint is dropped. */
export interface TopicTypes {
  typeFor(topic: string): MessageCodec | undefined
}

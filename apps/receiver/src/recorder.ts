import { type ReceivedFrame, RecordWriter } from '@shoal/transport'

/**
 * `--record`: every frame received, appended to a recording (the format of `@shoal/transport`'s
 * recording.ts: one length-prefixed, CRC-checked record per frame, written with one write(2)), so a
 * kill loses at most the record being written. Rotates at `maxBytes`, keeping the transport's
 * default number of older files (FILE.1 … FILE.5).
 */
export class Recorder {
  readonly path: string
  readonly #writer: RecordWriter
  readonly #clockNs: () => bigint

  constructor(path: string, options: { readonly maxBytes: number; readonly clockNs: () => bigint }) {
    this.path = path
    this.#writer = new RecordWriter(path, { rotateBytes: options.maxBytes })
    this.#clockNs = options.clockNs
  }

  get records(): number {
    return this.#writer.records
  }

  get rotations(): number {
    return this.#writer.rotations
  }

  write(frame: ReceivedFrame): void {
    const { address, port } = frame.source
    this.#writer.write({
      receivedAtNs: this.#clockNs(),
      sessionId: frame.source.sessionId,
      sequence: frame.sequence,
      fingerprint: frame.fingerprint,
      hops: frame.hops,
      topic: frame.topic,
      source: address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`,
      payload: frame.payload,
    })
  }

  close(): void {
    this.#writer.close()
  }
}

import type { RecordedFrame, RecordingSkip } from '@shoal/transport'

/** One recorded frame, from either format: what replay and `--from` need. */
export interface RecordingFrame extends RecordedFrame {
  /** Full protobuf type name when known (MCAP: the channel's schema name; SHOALREC: by fingerprint). */
  typeName: string | undefined
  /** When the message was stamped (its header's `stamp_ns`), ns; MCAP only, undefined otherwise. */
  publishedAtNs: bigint | undefined
  /**
   * The type's protobuf schema as the file holds it (MCAP: the channel's schema; SHOALREC version 2:
   * the type's schema record) (a binary `FileDescriptorSet`, shared by every frame of
   * the channel: do not change it), so a reader can decode types it does not know. Check it against
   * the fingerprint before use (`verifySchema`).
   */
  schemaData?: Uint8Array | undefined
}

/** What reading a recording found, besides its frames: the same account for both formats. */
export interface RecordingReport {
  /** Frames read. */
  frames: number
  /** True when the file ended inside a record (a kill mid-write): that record was skipped. */
  truncatedTail: boolean
  /** True when damaged stretches were skipped (anything but a truncated tail). */
  corrupt: boolean
  /** Stretches skipped for damage (a truncated tail is not counted). */
  damagedStretches: number
  /** Bytes skipped in all: damaged stretches and a truncated tail. */
  skippedBytes: number
  /** The first few stretches skipped, in file order. */
  skips: RecordingSkip[]
  /**
   * MCAP: the file ends with its summary and footer, written when the recorder stopped cleanly
   * (a killed recorder leaves none: still readable, up to its last whole chunk). SHOALREC has no
   * end marker: always true.
   */
  complete: boolean
}

export function emptyReport(): RecordingReport {
  return {
    frames: 0,
    truncatedTail: false,
    corrupt: false,
    damagedStretches: 0,
    skippedBytes: 0,
    skips: [],
    complete: false,
  }
}

/**
 * Loss, duplicate and reorder accounting for one (session, topic) stream, from sequence numbers.
 * Sequence numbers are u32 and compared with serial-number arithmetic, so wrap-around is fine.
 */

/** How far back a late frame is still recognised as reordered rather than duplicate/stale. */
export const SEQUENCE_WINDOW = 1024

export type SequenceVerdict = 'first' | 'next' | 'gap' | 'reordered' | 'duplicate'

export class SequenceTracker {
  /** Sequence expected next. */
  #next = 0
  #started = false
  /** The first sequence that counts: frames before it were never counted as gaps. */
  #first = 0
  // One bit per sequence in [next - WINDOW, next): seen or not.
  readonly #seen = new Uint8Array(SEQUENCE_WINDOW)
  frames = 0
  /** Frames missing right now: skipped over and not (yet) arrived late. */
  gaps = 0
  duplicates = 0
  reordered = 0

  /**
   * Starts the stream at `sequence` before any frame of it is complete (the first fragment of a
   * large frame): from then on that frame, and every later one, is a gap if it never arrives.
   * Does nothing once the stream has started.
   */
  prime(sequence: number): void {
    if (this.#started) return
    this.#started = true
    this.#first = sequence
    this.#next = sequence
  }

  observe(sequence: number): SequenceVerdict {
    if (!this.#started) {
      this.#started = true
      this.#first = sequence
      this.#next = (sequence + 1) >>> 0
      this.#seen[sequence % SEQUENCE_WINDOW] = 1
      this.frames++
      return 'first'
    }
    const ahead = (sequence - this.#next) | 0
    if (ahead >= 0) {
      this.#advance(ahead)
      this.#seen[sequence % SEQUENCE_WINDOW] = 1
      this.#next = (sequence + 1) >>> 0
      this.frames++
      if (ahead === 0) return 'next'
      this.gaps += ahead
      return 'gap'
    }
    if (-ahead > SEQUENCE_WINDOW || this.#seen[sequence % SEQUENCE_WINDOW] === 1) {
      this.duplicates++
      return 'duplicate'
    }
    this.#seen[sequence % SEQUENCE_WINDOW] = 1
    this.frames++
    this.reordered++
    // A frame from before the stream's start (a message repaired, or late, after its successor
    // started the stream) was never counted as a gap.
    if (((sequence - this.#first) | 0) >= 0) this.gaps--
    return 'reordered'
  }

  /**
   * Whether `sequence` has arrived. A sequence older than the window counts as arrived (it can no
   * longer be told apart, and nothing should be asked for it).
   */
  has(sequence: number): boolean {
    if (!this.#started) return false
    const ahead = (sequence - this.#next) | 0
    if (ahead >= 0) return false
    return -ahead > SEQUENCE_WINDOW || this.#seen[sequence % SEQUENCE_WINDOW] === 1
  }

  /** Skips `count` sequences starting at `next`, forgetting what their window slots held. */
  #advance(count: number): void {
    if (count >= SEQUENCE_WINDOW) {
      this.#seen.fill(0)
      return
    }
    for (let i = 0; i < count; i++) this.#seen[(this.#next + i) % SEQUENCE_WINDOW] = 0
  }
}

/**
 * Loss, duplicate and reorder accounting for one (session, topic) stream, from sequence numbers.
 * Sequence numbers are u32 and compared with serial-number arithmetic, so wrap-around is fine.
 *
 * A sequence number from the network is a claim, not a fact: anyone on the segment can send a frame
 * with a stream's session and any sequence. So:
 *
 * - Only frames from the stream's own sender (the caller says which: its address and port) move
 *   the stream or count in its gaps. A *foreign* frame (from anywhere else) is delivered unless it
 *   repeats a frame the stream has, and changes nothing.
 * - Even the stream's own frame, when far from the stream's position (see {@link MAX_SEQUENCE_JUMP}),
 *   starts a *candidate* position, and the stream moves there only once it is confirmed:
 *   {@link JUMP_CONFIRM_FRAMES} frames of it (ahead: its sender went on after a long loss), and
 *   for a position behind, no frame at the old position for {@link JUMP_CONFIRM_MS} either.
 *
 * One forged datagram therefore never silences a stream or hides its loss. See WIRE.md (“Loss
 * accounting”, “Security”).
 */

/**
 * How far back a late frame is still recognised as reordered rather than duplicate/stale, for a new
 * stream. A stream that has shown it is real (see {@link GROWN_AT_FRAMES}) grows its window to
 * {@link RELIABLE_SEQUENCE_WINDOW}.
 */
export const SEQUENCE_WINDOW = 1024
/**
 * The window of an established stream: repairs of whole frames arrive a round trip and a holdoff
 * after the frames that overtook them, and retries later still; at 2 M frames/s (batched 45-byte
 * frames) 65,536 frames are 33 ms. 8 KiB per stream (a Uint32Array), so 32 MiB for a full stream
 * table (4,096).
 */
export const RELIABLE_SEQUENCE_WINDOW = 65_536
/** Frames a stream takes before its window grows to {@link RELIABLE_SEQUENCE_WINDOW}. */
export const GROWN_AT_FRAMES = 64
/** Foreign frames remembered (see `ForeignCopies`): one slot per sequence modulo this. */
export const FOREIGN_COPIES = 1024
/**
 * Furthest ahead of the expected sequence a frame may be and still move a new stream at once (an
 * established one: half its grown window). Half the window: after a forged frame this far ahead, the real frames that follow are still inside the
 * window (late, not lost), so counts heal by themselves. A frame further ahead (a forgery, or a
 * publisher heard again after losing this many frames in a row) is delivered but held as a
 * candidate position until confirmed.
 */
export const MAX_SEQUENCE_JUMP = SEQUENCE_WINDOW / 2
/** Frames at a candidate position needed before the stream moves there. */
export const JUMP_CONFIRM_FRAMES = 3
/**
 * The old position must have been quiet this long (no frame there) before a candidate behind it
 * replaces it, ms: a stream still heard is not sent back by stale frames.
 */
export const JUMP_CONFIRM_MS = 200

/**
 * `first`, `next`, `gap`: in order or ahead (delivered). `reordered`: late, inside the window
 * (delivered). `duplicate`: seen before, or too far behind to tell (not delivered). `jump`: far
 * ahead of the stream, at a candidate position not yet confirmed (delivered; the stream does not
 * move). `resync`: the frame that confirmed a candidate position; the stream moved there
 * (delivered). `foreign`: from another sender than the stream's, not a repeat of a frame the stream
 * has (delivered; nothing moves).
 */
export type SequenceVerdict =
  | 'first'
  | 'next'
  | 'gap'
  | 'reordered'
  | 'duplicate'
  | 'jump'
  | 'resync'
  | 'foreign'

const FOREIGN_MASK = FOREIGN_COPIES - 1

/**
 * The next expected sequence and one bit per sequence of [next − WINDOW, next): seen or not, in 32
 * words of 32 bits. A plain array, not a Uint32Array: a typed array costs about 1.7 µs to make
 * (an array literal 13 ns), and a flood of new streams makes one per datagram.
 */
class Window {
  next = 0
  /** Sequences covered, a power of two. */
  size = SEQUENCE_WINDOW
  mask = SEQUENCE_WINDOW - 1
  // biome-ignore format: 32 words, one per line would be 32 lines
  seen: number[] | Uint32Array = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]

  isSeen(sequence: number): boolean {
    const i = sequence & this.mask
    return ((this.seen[i >>> 5]! >>> (i & 31)) & 1) === 1
  }

  mark(sequence: number): void {
    const i = sequence & this.mask
    this.seen[i >>> 5]! |= 1 << (i & 31)
  }

  /** Moves `next` on by `count`, forgetting what the skipped slots held. */
  skip(count: number): void {
    if (count >= this.size) this.seen.fill(0)
    else
      for (let k = 0; k < count; k++) {
        const i = (this.next + k) & this.mask
        this.seen[i >>> 5]! &= ~(1 << (i & 31))
      }
    this.next = (this.next + count) >>> 0
  }

  /** Covers `size` sequences from now on, keeping what it saw. */
  grow(size: number): void {
    const old = { next: this.next, size: this.size, mask: this.mask, seen: this.seen }
    this.size = size
    this.mask = size - 1
    this.seen = new Uint32Array(size >>> 5)
    this.copy(old as Window)
  }

  /** Takes `from`'s position and what it saw, as far as this window reaches. */
  copy(from: Window): void {
    this.seen.fill(0)
    this.next = from.next
    const reach = Math.min(from.size, this.size)
    for (let back = 1; back <= reach; back++) {
      const sequence = (from.next - back) >>> 0
      const i = sequence & from.mask
      if (((from.seen[i >>> 5]! >>> (i & 31)) & 1) === 1) this.mark(sequence)
    }
  }
}

/**
 * The foreign frames a stream delivered lately: one slot per sequence modulo the window, holding
 * its number and message digest. Typed arrays (made once per stream that meets a foreign frame).
 */
class ForeignCopies {
  readonly #sequence = new Uint32Array(FOREIGN_COPIES)
  readonly #digest = new Int32Array(FOREIGN_COPIES)
  readonly #used = new Uint8Array(FOREIGN_COPIES)

  /** Remembers a foreign frame; false when the same one is there already. */
  add(sequence: number, digest: number): boolean {
    const slot = sequence & FOREIGN_MASK
    if (this.#used[slot] === 1 && this.#sequence[slot] === sequence && this.#digest[slot] === (digest | 0))
      return false
    this.#used[slot] = 1
    this.#sequence[slot] = sequence
    this.#digest[slot] = digest
    return true
  }

  /** Whether a foreign copy of this frame came already (forgetting it: it is needed once). */
  take(sequence: number, digest: number): boolean {
    const slot = sequence & FOREIGN_MASK
    if (this.#used[slot] !== 1 || this.#sequence[slot] !== sequence || this.#digest[slot] !== (digest | 0))
      return false
    this.#used[slot] = 0
    return true
  }
}

/** A position far from the stream's, not confirmed yet. */
interface Candidate {
  readonly window: Window
  /** Its first sequence. */
  readonly first: number
  /** Ahead of the stream (its frames are delivered) or behind it (they are not). */
  readonly ahead: boolean
  /** Distinct frames seen at it. */
  frames: number
}

export class SequenceTracker {
  readonly #window = new Window()
  #started = false
  /** The first sequence that counts: frames before it were never counted as gaps. */
  #first = 0
  /** When a frame last arrived at the stream's own position (the caller's clock, ms). */
  #heardAt = 0
  #candidate: Candidate | undefined
  /** Foreign frames delivered lately, by number and message digest; made on the first. */
  #copies: ForeignCopies | undefined
  frames = 0
  /** Frames missing right now: skipped over and not (yet) arrived late. */
  gaps = 0
  duplicates = 0
  reordered = 0
  /**
   * Frames that did not count in the stream's sequence: from another sender than the stream's
   * (foreign), or further than {@link MAX_SEQUENCE_JUMP} from its position.
   */
  jumps = 0
  /** Times the stream moved to a confirmed candidate position. */
  resyncs = 0

  /**
   * Starts the stream at `sequence` before any frame of it is complete (the first fragment of a
   * large frame): from then on that frame, and every later one, is a gap if it never arrives.
   * Does nothing once the stream has started.
   */
  prime(sequence: number, now = 0): void {
    if (this.#started) return
    this.#start(sequence, now)
    this.#window.next = sequence
  }

  /**
   * Accounts for one frame that arrived at `now` (ms, a monotonic clock). `foreign`: it came from
   * another sender than the stream's own. `digest`: a checksum of its message, needed for a foreign
   * frame, and for the stream's own once {@link hasForeign} (see {@link #foreign}).
   */
  observe(sequence: number, now = 0, foreign = false, digest = 0): SequenceVerdict {
    if (foreign && this.#started) return this.#foreign(sequence, digest)
    const copied = this.#copies?.take(sequence, digest) === true
    const verdict = this.#observe(sequence, now)
    if (!copied || verdict === 'duplicate' || verdict === 'jump' || verdict === 'resync') return verdict
    // The stream's own frame, already delivered as a foreign copy by a second path: counted where it
    // belongs, not delivered again.
    this.frames--
    this.duplicates++
    return 'duplicate'
  }

  /** The next sequence the stream expects (every one before it arrived or was skipped over). */
  get position(): number {
    return this.#window.next
  }

  /** The first sequence that counts (undefined before the stream started). */
  get start(): number | undefined {
    return this.#started ? this.#first : undefined
  }

  /** Sequences the window covers behind {@link position}. */
  get reach(): number {
    return this.#window.size
  }

  /** Whether foreign copies were delivered lately: the stream's own frames then need a digest. */
  get hasForeign(): boolean {
    return this.#copies !== undefined
  }

  #observe(sequence: number, now: number): SequenceVerdict {
    const window = this.#window
    if (!this.#started) {
      this.#start(sequence, now)
      window.next = (sequence + 1) >>> 0
      window.mark(sequence)
      this.frames++
      return 'first'
    }
    const ahead = (sequence - window.next) | 0
    if (ahead >= 0 && ahead <= window.size >>> 1) {
      window.skip(ahead + 1)
      window.mark(sequence)
      this.#heardAt = now
      if (++this.frames >= GROWN_AT_FRAMES && window.size === SEQUENCE_WINDOW)
        window.grow(RELIABLE_SEQUENCE_WINDOW)
      if (ahead === 0) return 'next'
      this.gaps += ahead
      return 'gap'
    }
    if (ahead < 0 && -ahead <= window.size) {
      if (window.isSeen(sequence)) {
        this.duplicates++
        return 'duplicate'
      }
      window.mark(sequence)
      this.#heardAt = now
      this.frames++
      this.reordered++
      // A frame from before the stream's start (a message repaired, or late, after its successor
      // started the stream) was never counted as a gap.
      if (((sequence - this.#first) | 0) >= 0) this.gaps--
      return 'reordered'
    }
    return this.#far(sequence, ahead > 0, now)
  }

  /**
   * The stream's sender says its last frame was `last` (a HEARTBEAT): frames up to it that have
   * not arrived are gaps from now (one that arrives late still takes its gap back). Returns how many
   * were missing; 0 when `last` is not ahead of the stream, or further ahead than
   * {@link MAX_SEQUENCE_JUMP} (a claim the stream does not follow).
   */
  tail(last: number, now: number): number {
    if (!this.#started) return 0
    const ahead = (((last + 1) >>> 0) - this.#window.next) | 0
    if (ahead <= 0 || ahead > this.#window.size >>> 1) return 0
    this.#window.skip(ahead)
    this.gaps += ahead
    this.#heardAt = now
    return ahead
  }

  /**
   * Whether `sequence` has arrived. A sequence older than the window counts as arrived (it can no
   * longer be told apart, and nothing should be asked for it).
   */
  has(sequence: number): boolean {
    if (!this.#started) return false
    const ahead = (sequence - this.#window.next) | 0
    if (ahead >= 0) return false
    return -ahead > this.#window.size || this.#window.isSeen(sequence)
  }

  /** Whether `sequence` is too far from the stream's position to move it at once. */
  isFar(sequence: number): boolean {
    if (!this.#started) return false
    const ahead = (sequence - this.#window.next) | 0
    return ahead > this.#window.size >>> 1 || ahead < -this.#window.size
  }

  /** A frame from another sender: delivered unless the stream has it; it moves and counts nothing. */
  /**
   * A frame from another sender: a duplicate when the stream has its number, or the same message
   * came already; else delivered, and its message remembered, so that the stream's own frame with
   * the same number and message (a second path, as through two relays) is not delivered again. A
   * forged frame's message differs: the real one is still delivered.
   */
  #foreign(sequence: number, digest: number): SequenceVerdict {
    const behind = (this.#window.next - sequence) | 0
    if (behind > 0 && behind <= this.#window.size && this.#window.isSeen(sequence)) {
      this.duplicates++
      return 'duplicate'
    }
    this.#copies ??= new ForeignCopies()
    if (!this.#copies.add(sequence, digest)) {
      this.duplicates++
      return 'duplicate'
    }
    this.jumps++
    this.frames++
    return 'foreign'
  }

  #start(sequence: number, now: number): void {
    this.#started = true
    this.#first = sequence
    this.#heardAt = now
  }

  /** A frame far from the stream's position: a candidate position's, confirmed or not yet. */
  #far(sequence: number, ahead: boolean, now: number): SequenceVerdict {
    this.jumps++
    let candidate = this.#candidate
    let fresh = candidate === undefined || candidate.ahead !== ahead
    if (!fresh) {
      const window = candidate!.window
      const from = (sequence - window.next) | 0
      // A candidate follows its own frames forward however far (a fast stream losing burst after
      // burst while it waits for confirmation): replacing it would count its frames as lost.
      if (from >= 0 && (candidate!.ahead || from <= MAX_SEQUENCE_JUMP)) {
        window.skip(from + 1)
        window.mark(sequence)
        candidate!.frames++
      } else if (from < 0 && -from <= SEQUENCE_WINDOW && ((sequence - candidate!.first) | 0) >= 0) {
        if (window.isSeen(sequence)) {
          this.duplicates++
          return 'duplicate'
        }
        window.mark(sequence)
        candidate!.frames++
      } else fresh = true
    }
    if (fresh) {
      const window = new Window()
      window.next = (sequence + 1) >>> 0
      window.mark(sequence)
      candidate = { window, first: sequence, ahead, frames: 1 }
      this.#candidate = candidate
    }
    const c = candidate!
    // Ahead: its own sender went on after a loss. Behind: only once the position it holds is quiet.
    if (c.frames >= JUMP_CONFIRM_FRAMES && (c.ahead || now - this.#heardAt >= JUMP_CONFIRM_MS)) {
      this.#resync(c, now)
      this.frames++
      return 'resync'
    }
    if (!ahead) {
      this.duplicates++
      return 'duplicate'
    }
    this.frames++
    return 'jump'
  }

  /** Moves the stream to a confirmed candidate position. */
  #resync(candidate: Candidate, now: number): void {
    const window = this.#window
    if (candidate.ahead) {
      // Frames between the old position and the candidate's, and those missing inside it, are lost.
      const skipped = (candidate.first - window.next) >>> 0
      const inside = ((candidate.window.next - candidate.first) >>> 0) - candidate.frames
      this.gaps += skipped + inside
    } else {
      // The stream went back (its position had been moved by frames that then stopped): what was
      // counted past the candidate's position is not known to be lost.
      this.#first = candidate.first
    }
    // Frames the old position had seen that the new window still covers stay seen.
    const old = new Window()
    old.grow(window.size)
    old.copy(window)
    window.copy(candidate.window)
    for (let back = 1; back <= old.size; back++) {
      const sequence = (old.next - back) >>> 0
      const behind = (window.next - sequence) | 0
      if (behind > window.size) break
      if (behind > 0 && old.isSeen(sequence)) window.mark(sequence)
    }
    this.#candidate = undefined
    this.#heardAt = now
    this.resyncs++
  }
}

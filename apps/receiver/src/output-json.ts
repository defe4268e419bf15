import { escapeJsonControls } from '@shoal/service'
import type { RawDatagram, ReceivedFrame } from '@shoal/transport'
import { type FrameObjectOptions, frameToObject } from './frame-object.js'
import type { LineWriter } from './line-writer.js'
import type { Output } from './output.js'
import { rawToObject } from './raw.js'

/**
 * `--output json`: one JSON object per line on stdout for every frame (see `FrameObject`) or, with
 * `--raw`, every datagram (see `RawObject`). Nothing else is written to stdout. No control character
 * is written raw: JSON escapes C0, and DEL, C1 and the bidirectional formatting characters are
 * written as `\u` escapes.
 */
export class JsonOutput implements Output {
  readonly statsIntervalMs = undefined
  readonly #writer: LineWriter
  readonly #options: FrameObjectOptions

  constructor(writer: LineWriter, options: FrameObjectOptions) {
    this.#writer = writer
    this.#options = { full: options.full, types: options.types }
  }

  get dropped(): number {
    return this.#writer.dropped
  }

  // JSON.stringify escapes C0 controls only: DEL, C1 and bidi characters in topics and string fields
  // would reach a terminal raw, so they become \u escapes too (the line parses to the same value).
  frame(frame: ReceivedFrame): void {
    this.#writer.line(frameLine(frame, this.#options))
  }

  raw(datagram: RawDatagram): void {
    this.#writer.line(escapeJsonControls(JSON.stringify(rawToObject(datagram))))
  }

  tick(): void {}

  close(): Promise<void> {
    return this.#writer.drain()
  }
}

/** One `--output json` line for a frame (without its newline): also what `--from` prints. */
export function frameLine(frame: ReceivedFrame, options: FrameObjectOptions): string {
  return escapeJsonControls(JSON.stringify(frameToObject(frame, options)))
}

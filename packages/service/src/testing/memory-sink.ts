import { Writable } from 'node:stream'

/** A writable that keeps what is written, for tests standing in for stdout or stderr. */
export class MemorySink extends Writable {
  text = ''
  constructor(readonly isTTY = false) {
    super()
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void) {
    this.text += chunk.toString()
    callback()
  }
  /** Writes land at once, as on a pipe to a terminal, so a test can read them right after. */
  override write(chunk: unknown, ...rest: unknown[]): boolean {
    this.text += String(chunk)
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined
    callback?.()
    return true
  }
  lines(): string[] {
    return this.text.split('\n').filter((line) => line !== '')
  }
  json(): Record<string, unknown>[] {
    return this.lines()
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  }
}

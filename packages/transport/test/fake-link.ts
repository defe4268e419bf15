/**
 * A datagram link with no socket: what a publisher sends is kept in `sent` (parts gathered into one
 * datagram, as the kernel would), and a test hands it datagrams with `deliver()`. `refuse` makes
 * the next sends fail like a kernel refusal.
 */
import type { Datagram, DatagramLink, SendDone } from '../src/net/link.js'

export class FakeLink implements DatagramLink {
  readonly destination = { address: '239.0.0.1', port: 5000 }
  readonly local = { address: '127.0.0.1', port: 40000 }
  readonly inode = undefined
  readonly sent: Uint8Array[] = []
  /** Sends to fail from now on, with this error. */
  refuse: Error | undefined
  #handler: ((data: Buffer, address: string, port: number) => void) | undefined
  closed = false

  send(datagram: Datagram, done: SendDone): void {
    const error = this.refuse
    if (error === undefined)
      this.sent.push(
        datagram instanceof Uint8Array ? Uint8Array.from(datagram) : Buffer.concat([...datagram]),
      )
    queueMicrotask(() => done(error ?? null))
  }

  onDatagram(handler: (data: Buffer, address: string, port: number) => void): void {
    this.#handler = handler
  }

  onError(): void {}

  /** A datagram arriving from `address:port`. */
  deliver(data: Uint8Array, address = '127.0.0.2', port = 40001): void {
    this.#handler?.(Buffer.from(data), address, port)
  }

  /** Takes what was sent so far. */
  take(): Uint8Array[] {
    return this.sent.splice(0)
  }

  async close(): Promise<void> {
    this.closed = true
  }
}

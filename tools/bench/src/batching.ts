/**
 * Batching is being added to @shoal/transport: `createPublisher({ batch: { lingerMs } })`, a
 * synchronous `publisher.send()` and `publisher.flush()`. The bench finds out at run time whether
 * the build it runs against has them, so it works before and after they land.
 */
import { Publisher } from '@shoal/transport'

export interface BatchOptions {
  lingerMs?: number
}

/** The batching half of the publisher API, as the bench uses it. */
export interface BatchingPublisher {
  send<T>(
    topic: string,
    type: { typeName: string; fingerprint: number; encode(message: T): Uint8Array },
    message: T,
  ): number
  flush(): Promise<void>
}

/** The publisher as a batching one, or undefined when this build has no `send`/`flush`. */
export function asBatching(publisher: object): BatchingPublisher | undefined {
  const candidate = publisher as Partial<BatchingPublisher>
  return typeof candidate.send === 'function' && typeof candidate.flush === 'function'
    ? (publisher as BatchingPublisher)
    : undefined
}

/** Whether the installed @shoal/transport can batch (checked without opening a socket). */
export function batchingAvailable(): boolean {
  const proto = Publisher.prototype as unknown as Partial<BatchingPublisher>
  return typeof proto.send === 'function' && typeof proto.flush === 'function'
}

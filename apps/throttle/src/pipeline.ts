import { mergeTransportStats, type TransportStatsLike } from '@shoal/service'
import { createPublisher, createSubscriber, type ReceivedFrame } from '@shoal/transport'
import type { ThrottleConfig } from './config.js'
import { DROP_REASONS, type DropReason, handleFrame } from './handler.js'

/**
 * Publications handed to the transport and not yet done: past this, frames are dropped as `busy`
 * rather than queued, so a slow output costs bounded memory.
 */
export const MAX_IN_FLIGHT = 1_024

export interface ThrottleCounters {
  /** Frames received on the input. */
  received: number
  /** Frames published on the output. */
  published: number
  dropped: Record<DropReason, number>
}

export interface Pipeline {
  counters(): ThrottleCounters
  transportStats(): TransportStatsLike
  describe(): Record<string, unknown>
  close(): Promise<void>
}

/** Opens the input subscriber and the output publisher and passes every frame through the handler. */
export async function openThrottle(config: ThrottleConfig): Promise<Pipeline> {
  const publisher = await createPublisher({
    group: config.outGroup,
    port: config.outPort,
    interface: config.outInterface.spec,
    ttl: config.ttl,
  })
  const subscriber = await createSubscriber({
    group: [...config.group],
    port: config.port,
    interface: config.interface.spec,
    topics: config.topic,
    // Frames go out as they came in: no need to decode them (and types this build does not know pass too).
    decode: false,
  }).catch(async (error: unknown) => {
    await publisher.close()
    throw error
  })
  const counters: ThrottleCounters = {
    received: 0,
    published: 0,
    dropped: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>,
  }
  let inFlight = 0
  subscriber.on('frame', (frame: ReceivedFrame) => {
    counters.received++
    for (const out of handleFrame(frame, { outTopic: config.outTopic })) {
      if (inFlight >= MAX_IN_FLIGHT) {
        counters.dropped.busy++
        continue
      }
      inFlight++
      publisher.publishEncoded(out.topic, out.fingerprint, out.payload).then(
        () => {
          inFlight--
          counters.published++
        },
        () => {
          inFlight--
          counters.dropped['send-failed']++
        },
      )
    }
  })
  return {
    counters: () => structuredClone(counters),
    transportStats: () => mergeTransportStats([subscriber.stats(), publisher.stats()]),
    describe: () => ({
      input: `${subscriber.info.groups.join(',')}:${subscriber.info.port} on ${subscriber.info.interface}`,
      output: `${publisher.info.destination}:${publisher.info.port} on ${publisher.info.interface}`,
      topics: config.topic,
    }),
    async close() {
      await subscriber.close()
      await publisher.flush()
      await publisher.close()
    },
  }
}

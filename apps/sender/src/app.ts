import type { ServiceContext, ServiceHandle } from '@shoal/service'
import type { SenderConfig } from './config.js'

/**
 * Phase 1: logs the resolved configuration and waits for a signal. Phase 2 opens an
 * `@shoal/transport` publisher here, feeds it from `config.source`, registers its stats with
 * `registerTransportMetrics`, and calls `ctx.ready()` once the socket is bound.
 */
export function startSender(ctx: ServiceContext<SenderConfig>): ServiceHandle {
  const { config, logger } = ctx
  logger.info(
    {
      destination: config.destination,
      port: config.port,
      interface: config.interface.name,
      ttl: config.ttl,
      source: config.source,
      ack: config.ack,
      budget: config.budget,
    },
    'configured; publishing arrives with @shoal/transport',
  )
  return {
    async stop() {},
    summary: () => ({ frames: 0, bytes: 0 }),
  }
}

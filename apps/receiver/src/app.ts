import type { ServiceContext, ServiceHandle } from '@shoal/service'
import type { ReceiverConfig } from './config.js'

/**
 * Phase 1: logs the resolved configuration and waits for a signal. Phase 2 opens an
 * `@shoal/transport` subscriber here, joins `config.listen`, writes frames to `ctx.stdout` as
 * `config.output` says (and to `config.record`), registers its stats with
 * `registerTransportMetrics`, and calls `ctx.ready()` once bound and joined.
 */
export function startReceiver(ctx: ServiceContext<ReceiverConfig>): ServiceHandle {
  const { config, logger } = ctx
  logger.info(
    {
      listen: config.listen,
      port: config.port,
      interface: config.interface.name,
      topics: config.topic,
      output: config.output,
      record: config.record,
      ack: config.ack ? config.name : false,
    },
    'configured; receiving arrives with @shoal/transport',
  )
  return {
    async stop() {},
    summary: () => ({ frames: 0, bytes: 0, gaps: 0 }),
  }
}

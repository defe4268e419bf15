import type { ServiceContext, ServiceHandle } from '@shoal/service'
import type { RelayConfig } from './config.js'

/**
 * Phase 1: logs the resolved routes and waits for a signal. Phase 2 opens an `@shoal/transport`
 * subscriber per input and publisher per output, forwards frames that pass the topic filters and
 * the hop limit, registers `mergeTransportStats` of them all with `registerTransportMetrics`, and
 * calls `ctx.ready()` once every route is bound and joined.
 */
export function startRelay(ctx: ServiceContext<RelayConfig>): ServiceHandle {
  const { config, logger } = ctx
  const describe = (route: RelayConfig['inputs'][number]) => ({
    scheme: route.scheme,
    host: route.host,
    port: route.port,
    interface: route.interface.name,
    ...(route.ttl === undefined ? {} : { ttl: route.ttl }),
    ...(route.source === undefined ? {} : { source: route.source }),
    ...(route.topics.length === 0 ? {} : { topics: route.topics }),
  })
  logger.info(
    {
      inputs: config.inputs.map(describe),
      outputs: config.outputs.map(describe),
      topics: config.topic,
      relayId: config.relayId,
      maxHops: config.maxHops,
    },
    'configured; forwarding arrives with @shoal/transport',
  )
  return {
    async stop() {},
    summary: () => ({ forwarded: 0, dropped: 0 }),
  }
}

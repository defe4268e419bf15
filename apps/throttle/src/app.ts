import {
  addedTypeNames,
  registerTransportMetrics,
  type ServiceContext,
  type ServiceHandle,
} from '@shoal/service'
import type { ThrottleConfig } from './config.js'
import { registerThrottleMetrics } from './metrics.js'
import { openThrottle, type ThrottleCounters } from './pipeline.js'

/**
 * Opens the input and the output, reports on /metrics and /healthz, and on SIGTERM leaves the
 * group, flushes and prints the summary (runService does the rest).
 */
export async function startThrottle(ctx: ServiceContext<ThrottleConfig>): Promise<ServiceHandle> {
  const pipeline = await openThrottle(ctx.config)
  registerTransportMetrics(ctx.registry, () => pipeline.transportStats())
  registerThrottleMetrics(ctx.registry, () => pipeline.counters())
  const { config } = ctx
  const detail = {
    ...pipeline.describe(),
    ...(config.proto.length === 0 ? {} : { protoTypes: addedTypeNames(config.types) }),
  }
  ctx.logger.info(detail, 'started')
  ctx.ready(detail)
  return { stop: () => pipeline.close(), summary: () => summary(pipeline.counters()) }
}

/**
 * The summary line: `received=… published=… dropped=…` then each drop reason (`rate`,
 * `superseded`, `unmatched`, `evicted`, `memory`, `stopped`, `send-failed`, `busy`); received is
 * published plus dropped once the throttle has stopped.
 */
export function summary(counters: ThrottleCounters): Record<string, number> {
  const dropped = Object.values(counters.dropped).reduce((n, d) => n + d, 0)
  return { received: counters.received, published: counters.published, dropped, ...counters.dropped }
}

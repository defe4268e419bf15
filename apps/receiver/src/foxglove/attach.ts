import { isIP } from 'node:net'
import type { ServiceContext } from '@shoal/service'
import type { ReceiverConfig } from '../config.js'
import { registerFoxgloveMetrics } from './metrics.js'
import { type FoxgloveBridge, startFoxgloveBridge } from './server.js'

/**
 * `--foxglove PORT`: the receiver's Foxglove WebSocket server, its metrics registered; undefined
 * without the flag. Started before the subscriber, so that a port in use fails the start at once.
 */
export async function startReceiverFoxglove(
  ctx: ServiceContext<ReceiverConfig>,
): Promise<FoxgloveBridge | undefined> {
  const { config, logger } = ctx
  if (config.foxglove === undefined) return undefined
  const bridge = await startFoxgloveBridge({
    host: config.foxgloveHost,
    port: config.foxglove,
    maxClients: config.foxgloveMaxClients,
    sendBufferBytes: config.foxgloveSendBuffer,
    ...(config.foxgloveOrigin.length > 0 ? { allowedOrigins: config.foxgloveOrigin } : {}),
    schemaData: (typeName) => config.types.descriptorSet(typeName),
    logger,
  })
  registerFoxgloveMetrics(ctx.registry, () => bridge.stats())
  if (!isLoopback(config.foxgloveHost)) {
    logger.warn(
      { host: config.foxgloveHost },
      'Foxglove server reachable from other hosts: it has no authentication, anyone who reaches it sees every frame',
    )
  }
  logger.info({ url: bridge.url }, `Foxglove: Open connection → Foxglove WebSocket → ${bridge.url}`)
  return bridge
}

/** 127.0.0.0/8 or ::1 (also written as an IPv4-mapped address). */
export function isLoopback(address: string): boolean {
  const v4 = address.replace(/^::ffff:/i, '')
  if (isIP(v4) === 4) return v4.startsWith('127.')
  return address === '::1'
}

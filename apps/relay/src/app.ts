import {
  addedTypeNames,
  registerTransportMetrics,
  reloadKeysOnHangup,
  type ServiceContext,
  type ServiceHandle,
  type TransportStatsLike,
} from '@shoal/service'
import type { RelayConfig } from './config.js'
import { type RelayCounters, totalDropped } from './counters.js'
import { RELAY_DROP_REASONS } from './loop-guard.js'
import { registerRelayMetrics } from './metrics.js'
import { natsSummary, registerNatsMetrics } from './nats/metrics.js'
import { openRelay } from './relay.js'

/**
 * Opens every route (a forward-mode subscriber per `--in`, a batching publisher per `--out`),
 * forwards until told to stop, and reports forwarded and dropped datagrams on `/metrics` and in the
 * summary line.
 */
export async function startRelay(ctx: ServiceContext<RelayConfig>): Promise<ServiceHandle> {
  const { config, logger } = ctx
  const relay = await openRelay(config, { logger })
  registerTransportMetrics(ctx.registry, () => relay.transportStats())
  registerRelayMetrics(ctx.registry, relay, config.relayId)
  if (relay.nats.active) registerNatsMetrics(ctx.registry, () => relay.nats.counters())
  const detail = {
    relayId: config.relayId,
    maxHops: config.maxHops,
    ...(config.topic.length === 0 ? {} : { topics: config.topic }),
    ...relay.describe(),
    ...(config.proto.length === 0 ? {} : { protoTypes: addedTypeNames(config.types) }),
  }
  logger.info(detail, 'forwarding')
  const { seal } = config
  if (seal !== undefined) {
    const ins = seal.in.keyring.sealing()?.id
    const outs = seal.out.keyring.sealing()?.id
    logger.info(
      { seal: seal.in.mode, keyId: ins, ...(seal.out === seal.in ? {} : { outKeyId: outs }) },
      seal.out === seal.in
        ? `sealed: ${seal.in.mode}, key id ${ins ?? 'none'}`
        : `sealed: ${seal.in.mode}, key id ${ins ?? 'none'} in, key id ${outs ?? 'none'} out`,
    )
    const files = [{ flag: '--key-file', path: seal.in.keyFile }]
    if (seal.out !== seal.in) files.push({ flag: '--out-key-file', path: seal.out.keyFile })
    reloadKeysOnHangup(ctx, files, ([inRing, outRing]) => relay.setKeyrings(inRing!, outRing ?? inRing!))
  }
  // Routes as configured: a nats:// route, or an input that feeds only NATS, has no entry in relay.inputs.
  ctx.ready({ relayId: config.relayId, inputs: config.inputs.length, outputs: config.outputs.length })
  return {
    stop: () => relay.close(),
    summary: () => ({
      ...relaySummary(relay.counters(), relay.transportStats(), relay.outputs.length > 0),
      ...(relay.nats.active ? natsSummary(relay.nats.counters()) : {}),
    }),
  }
}

/**
 * `received=… forwarded=… dropped=…` then each drop reason (`not-allowed` first), then `invalid=…`:
 * datagrams the inputs could not read as Shoal frames at all (by reason on /metrics as
 * shoal_drops_total), then acks forwarded and frames that would have moved a session's pinned way
 * back for acks (`ack-route-conflicts=`: someone else sending with its session id, or a second path),
 * and what the kernel dropped before the inputs could read it (`kernel-drops=`, Linux).
 *
 * `forwarding` false (no UDP outputs: frames go only to NATS, whose `nats-…` counts say what became
 * of them): only `invalid=` and `kernel-drops=`, the rest would count nothing.
 */
export function relaySummary(
  counters: RelayCounters,
  transport: TransportStatsLike,
  forwarding = true,
): Record<string, number> {
  // not-allowed is counted below, where the inputs' subscribers dropped it
  const invalid = Object.entries(transport.drops).reduce<number>(
    (n, [reason, d]) => (reason === 'not-allowed' ? n : n + (d ?? 0)),
    0,
  )
  const kernel = transport.kernelDrops === undefined ? {} : { 'kernel-drops': transport.kernelDrops }
  if (!forwarding) return { invalid, ...kernel }
  return {
    received: counters.received,
    forwarded: counters.forwarded,
    dropped: totalDropped(counters),
    ...Object.fromEntries(RELAY_DROP_REASONS.map((reason) => [reason, counters.dropped[reason]])),
    invalid,
    acks: counters.acks.forwarded,
    'ack-route-conflicts': counters.ackRoutes.conflicts,
    ...kernel,
  }
}

import {
  addedTypeNames,
  formatDuration,
  mergeTransportStats,
  registerTransportMetrics,
  reloadKeysOnHangup,
  type ServiceContext,
  type ServiceHandle,
  sealedLine,
} from '@shoal/service'
import {
  createSubscriber,
  type RawDatagram,
  type ReceivedFrame,
  SOURCE_GONE_MS,
  type SourceEvent,
  type Subscriber,
} from '@shoal/transport'
import { createReceiveClock } from './clock.js'
import type { NetworkReceiverConfig, ReceiverConfig } from './config.js'
import { startReceiverFoxglove } from './foxglove/attach.js'
import { startFromFile } from './from-file.js'
import { createOutput } from './output.js'
import { openRecorder, type Recorder } from './recorder.js'
import { registerSourceIdMetric, SourceIds } from './source-ids.js'
import {
  describeSubscription,
  reachHint,
  receivingLine,
  recvBufferHint,
  subscriberOptions,
} from './subscription.js'
import { summarize } from './summary.js'
import { WarningLog } from './warnings.js'

/**
 * shoal-recv: opens a subscriber as the config says (groups, SSM source, broadcast or unicast,
 * interface, topic filters, acks), then for every frame writes a record (`--record`) and a line on
 * stdout (`--output`), until `--count` frames, `--duration`, or a signal. Its stats are `/metrics`
 * and the final summary; `/healthz` is ready once the socket is bound and the groups joined.
 */
export async function startReceiver(ctx: ServiceContext<ReceiverConfig>): Promise<ServiceHandle> {
  const { listen } = ctx.config
  if (listen.mode === 'file') return startFromFile(ctx, listen.path)
  return startNetworkReceiver(ctx, { ...ctx.config, listen })
}

async function startNetworkReceiver(
  ctx: ServiceContext<ReceiverConfig>,
  config: NetworkReceiverConfig,
): Promise<ServiceHandle> {
  const { logger } = ctx
  const foxglove = await startReceiverFoxglove(ctx)
  const recorder: Recorder | undefined =
    config.record === undefined
      ? undefined
      : await openRecorder(config.record, {
          maxBytes: config.recordMaxSize,
          compression: config.recordCompression,
          receiveTimeNs: createReceiveClock(),
          library: `${ctx.name} ${ctx.version}`,
          onError: (error) => ctx.fail(error),
          types: config.types,
        }).catch(async (error: unknown) => {
          await foxglove?.close()
          throw error
        })

  let subscriber: Subscriber
  try {
    subscriber = await createSubscriber(subscriberOptions(config))
  } catch (error) {
    recorder?.close()
    await foxglove?.close()
    throw error
  }
  const info = subscriber.info

  const sourceIds = new SourceIds()
  const sourceId = (session: string) => sourceIds.get(session)
  const output = createOutput(config.output, ctx.stdout, {
    full: config.full,
    types: config.types,
    logs: process.stderr,
    stats: () => subscriber.stats(),
    sourceId,
    onFirstDrop: () =>
      logger.warn('stdout is not keeping up: dropping output lines (counted in the summary)'),
  })
  const warnings = new WarningLog(logger)
  subscriber.on('warning', (warning) => warnings.warn(warning))
  // A publisher not heard (no frame, no heartbeat) for SOURCE_GONE_MS: its process stopped, or the
  // network between is down; and heard again. One line per source and change (sources are bounded).
  subscriber.on('source', (event: SourceEvent) => {
    const fields = { source: event.session, address: event.address, port: event.port }
    if (event.state === 'gone')
      logger.info(fields, `source ${event.session} gone: not heard for ${SOURCE_GONE_MS / 1000} s`)
    else logger.debug(fields, `source ${event.session} alive`)
  })
  registerTransportMetrics(ctx.registry, () => mergeTransportStats([subscriber.stats()]))
  registerSourceIdMetric(ctx.registry, () => subscriber.stats(), sourceId)
  // Types learnt while running (schemas from the network): decoded, printed, recorded from now on.
  const stopTypeLog = config.types.onAdd((type) =>
    logger.info({ type: type.typeName, fingerprint: type.fingerprint }, `new message type ${type.typeName}`),
  )

  // --count: frames past the count are neither shown nor recorded.
  let delivered = 0
  const limit = config.count ?? Number.POSITIVE_INFINITY
  const counted = (): boolean => {
    if (delivered >= limit) return false
    if (++delivered === limit) ctx.shutdown(`--count ${limit}`)
    return true
  }
  let recordFailed = false
  if (config.raw) {
    subscriber.on('raw', (datagram: RawDatagram) => {
      if (counted()) output.raw(datagram)
    })
  } else {
    subscriber.on('frame', (frame: ReceivedFrame) => {
      sourceIds.note(frame.source.session, frame.message)
      if (!counted() || recordFailed) return
      try {
        recorder?.write(frame)
      } catch (error) {
        recordFailed = true
        ctx.fail(error)
        return
      }
      // Before the output, which may empty the message's bytes fields (json without --full).
      foxglove?.publish(frame)
      output.frame(frame)
    })
  }

  const timers: NodeJS.Timeout[] = []
  if (output.statsIntervalMs !== undefined) {
    const interval = output.statsIntervalMs
    timers.push(setInterval(() => output.tick(), interval))
    output.tick()
  }
  if (config.duration !== undefined) {
    const duration = config.duration
    timers.push(setTimeout(() => ctx.shutdown(`--duration ${formatDuration(duration)}`), duration))
  }

  const listening = describeSubscription(info)
  logger.info(
    {
      ...listening,
      topics: config.topic.length > 0 ? config.topic : 'all',
      output: config.output,
      ...(config.raw ? { raw: true } : {}),
      ...(recorder === undefined
        ? {}
        : { record: recorder.path, recordFormat: recorder.format, recordMaxSize: config.recordMaxSize }),
      ...(config.ack ? { ack: info.name } : {}),
      ...(foxglove === undefined ? {} : { foxglove: foxglove.url }),
      ...protoTypesField(config.types),
    },
    receivingLine(info, {
      topics: config.topic,
      ...(recorder === undefined ? {} : { record: recorder.path }),
      ...(config.ack ? { ack: info.name } : {}),
    }),
  )
  const { seal } = config
  if (seal !== undefined) {
    logger.info(
      { seal: seal.mode, keyId: seal.keyring.sealing()?.id, keyIds: seal.keyring.ids() },
      sealedLine(seal.mode, seal.keyring),
    )
    reloadKeysOnHangup(ctx, [{ flag: '--key-file', path: seal.keyFile }], ([keyring]) =>
      subscriber.setKeyring(keyring!),
    )
  }
  const bufferHint = recvBufferHint(info)
  if (bufferHint !== undefined) logger.warn({ recvBuffer: info.recvBuffer }, bufferHint)
  const hint = reachHint(info)
  if (hint !== undefined) logger.info(hint)
  ctx.ready(listening)

  let stopped = false
  return {
    async stop() {
      if (stopped) return
      stopped = true
      for (const timer of timers) clearTimeout(timer)
      stopTypeLog()
      await subscriber.close()
      await foxglove?.close()
      warnings.flush()
      await output.close()
      recorder?.close()
    },
    summary: () =>
      summarize(subscriber.stats(), {
        raw: config.raw,
        outputDropped: output.dropped,
        sourceId,
        ...(recorder === undefined
          ? {}
          : { recorded: { file: recorder.path, records: recorder.records, rotations: recorder.rotations } }),
      }),
  }
}

/** The start-up log's field for `--proto`: the types it added, when it added any. */
function protoTypesField(types: NetworkReceiverConfig['types']): { protoTypes?: string[] } {
  const added = addedTypeNames(types)
  return added.length === 0 ? {} : { protoTypes: added }
}

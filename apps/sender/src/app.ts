import { open, readFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  addedTypeNames,
  registerTransportMetrics,
  reloadKeysOnHangup,
  type ServiceContext,
  type ServiceHandle,
  sealedLine,
} from '@shoal/service'
import {
  createPublisher,
  MAX_DATAGRAM_BYTES,
  MAX_DATAGRAM_BYTES_IPV6,
  type StatsSnapshot,
} from '@shoal/transport'
import { AckTracker, formatCounts, othersFields } from './acks.js'
import type { SenderConfig } from './config.js'
import { FrameSink } from './frame-sink.js'
import { jsonLinesSource } from './json-lines.js'
import { describeNetwork, publisherOptions } from './network.js'
import { ProblemLog } from './problem-log.js'
import { rawSource } from './raw.js'
import { replaySource } from './replay.js'
import { sensorSource } from './sensor-source.js'
import type { Source } from './source.js'
import { senderVerdict } from './verdict.js'

/** On shutdown, how long the source may take to notice, ms. */
export const STOP_SOURCE_WAIT_MS = 300
/**
 * On shutdown, how long outstanding sends and ack waits may still run, ms. With the source wait and
 * the close this stays inside the 2 s every service has to stop.
 */
export const STOP_SETTLE_WAIT_MS = 1000

/**
 * Publishes frames from one source (simulated sensors, JSON lines, a replay, raw datagrams) until
 * the input ends, `--count` frames were sent or `--duration` passed (then shuts down, exit 0), or
 * the process is told to stop.
 */
export async function startSender(ctx: ServiceContext<SenderConfig>): Promise<ServiceHandle> {
  const { config, logger } = ctx
  const sourceId = config.sourceId ?? defaultSourceId()
  const source = await openSource(config, ctx.stdin, sourceId)
  const batched = source.batched && config.batchLinger > 0
  const publisher = await createPublisher(publisherOptions(config, source.batched))

  const network = describeNetwork(publisher.info, batched ? config.batchLinger : undefined)
  logger.info(
    {
      ...network.fields,
      source: source.kind,
      ...source.describe,
      sourceId,
      ...(config.ack ? { ack: true, ackTimeoutMs: config.ackTimeout, expect: config.expect } : {}),
      ...(config.count === undefined ? {} : { count: config.count }),
      ...(config.duration === undefined ? {} : { durationMs: config.duration }),
      ...(config.proto.length === 0 ? {} : { protoTypes: addedTypeNames(config.types) }),
    },
    network.message,
  )
  if (network.hint !== undefined) logger.info(network.hint)
  const { seal } = config
  if (seal !== undefined) {
    logger.info(
      { seal: seal.mode, keyId: seal.keyring.sealing()?.id, keyIds: seal.keyring.ids() },
      sealedLine(seal.mode, seal.keyring),
    )
    reloadKeysOnHangup(ctx, [{ flag: '--key-file', path: seal.keyFile }], ([keyring]) =>
      publisher.setKeyring(keyring!),
    )
  }

  const problems = new ProblemLog(logger)
  let firstSendError: string | undefined
  const onSendError = (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error)
    firstSendError ??= message
    problems.report('send-failed', {}, `send failed: ${message}`)
  }
  publisher.on('warning', (warning: { reason: string; error?: Error; address?: string; port?: number }) => {
    if (warning.error !== undefined) onSendError(warning.error)
    else
      problems.report(
        warning.reason,
        { address: warning.address, port: warning.port },
        `ignored a datagram from ${warning.address}:${warning.port}: ${warning.reason}`,
      )
  })
  registerTransportMetrics(ctx.registry, () => publisher.stats())

  // The source stops on shutdown, at --count and at --duration; `ended` says which of the last two.
  const end = new AbortController()
  let ended: string | undefined
  const finish = (reason: string) => {
    if (end.signal.aborted) return
    ended = reason
    end.abort()
  }
  ctx.signal.addEventListener('abort', () => end.abort(), { once: true })

  const acks = config.ack
    ? new AckTracker(publisher, { timeoutMs: config.ackTimeout, expected: config.expect, logger })
    : undefined
  const sink = new FrameSink(publisher, {
    limit: source.kind === 'raw' ? undefined : config.count,
    acks,
    onLimit: () => finish('count reached'),
    onError: onSendError,
  })

  ctx.ready({
    session: network.fields.session,
    destination: `${publisher.info.destination}:${publisher.info.port}`,
  })
  const durationTimer =
    config.duration === undefined ? undefined : setTimeout(() => finish('duration elapsed'), config.duration)

  const running = (async () => {
    const reason = await source.run({
      publisher,
      sink,
      signal: end.signal,
      logger,
      stdout: ctx.stdout,
      onSendError,
    })
    if (ctx.signal.aborted) return // stop() settles and closes
    const why = reason ?? ended ?? 'source ended'
    const waiting = acks?.totals().pending ?? 0
    if (waiting > 0)
      logger.info(
        { frames: sink.accepted, pending: waiting, ackTimeoutMs: config.ackTimeout },
        `${why} after ${sink.accepted} frames; waiting up to ${config.ackTimeout} ms for acknowledgements`,
      )
    await sink.settle()
    await publisher.flush().catch(onSendError)
    const failure = source.failure?.()
    if (failure === undefined) ctx.shutdown(why)
    else ctx.fail(new Error(failure))
  })().catch((error: unknown) => ctx.fail(error))

  return {
    async stop() {
      end.abort()
      clearTimeout(durationTimer)
      await within(running, STOP_SOURCE_WAIT_MS)
      await within(sink.settle(), STOP_SETTLE_WAIT_MS)
      await publisher.close()
      if (acks !== undefined) {
        const totals = acks.totals()
        logger.info(
          {
            acks: totals.acks,
            acked: Object.fromEntries(totals.acked),
            missing: Object.fromEntries(totals.missing),
            ...othersFields(totals),
            unacked: totals.unacked,
          },
          `acknowledgements: acked ${formatCounts(totals.acked)}; missing ${formatCounts(totals.missing)}`,
        )
      }
    },
    summary() {
      const stats = publisher.stats()
      const summary: Record<string, unknown> =
        source.kind === 'raw'
          ? {}
          : {
              frames: stats.sent.reduce((sum, s) => sum + s.frames, 0),
              bytes: stats.sent.reduce((sum, s) => sum + s.bytes, 0),
              // datagrams of frames (and their resends); heartbeats are counted on their own
              datagrams: stats.datagramsOut - (stats.heartbeats?.sent ?? 0),
              ...((stats.heartbeats?.sent ?? 0) > 0 ? { heartbeats: stats.heartbeats?.sent } : {}),
              ...(stats.repair.nacksReceived > 0
                ? {
                    nacks: stats.repair.nacksReceived,
                    resentFragments: stats.repair.fragmentsResent,
                    resentDatagrams: stats.repair.datagramsResent,
                    repairUnavailable: stats.repair.unavailable,
                    ...(stats.repair.creditLimited + stats.repair.rateLimited > 0
                      ? { repairLimited: stats.repair.creditLimited + stats.repair.rateLimited }
                      : {}),
                  }
                : {}),
              ...refusedFields(stats.drops),
              ...flowFields(stats.flow),
              // Keyed: the key id sealing at the end (after a rotation, the new one).
              ...(stats.seal === undefined ? {} : { keyId: stats.seal.keyId ?? null }),
            }
      Object.assign(summary, source.summary())
      if (acks !== undefined) {
        const totals = acks.totals()
        Object.assign(summary, {
          acks: totals.acks,
          acked: formatCounts(totals.acked),
          missing: formatCounts(totals.missing),
          ...othersFields(totals),
          unacked: totals.unacked,
          ...(totals.pending > 0 ? { ackPending: totals.pending } : {}),
        })
      }
      const sendErrors = problems.count('send-failed')
      if (sendErrors > 0) summary.sendErrors = sendErrors
      return summary
    },
    verdict: () =>
      senderVerdict({
        expected: config.expect,
        acks: acks?.totals(),
        sendErrors: problems.count('send-failed'),
        firstSendError,
      }),
  }
}

/**
 * Flow control in the summary: the receivers that reported during the run (not those still there
 * at its end: they may not have reported yet, or have said they were leaving), and the time the
 * receivers held the sender back.
 */
function flowFields(flow: StatsSnapshot['flow']): Record<string, unknown> {
  if (flow === undefined) return {}
  return {
    receivers: flow.added,
    ...(flow.backPressure.episodes > 0
      ? {
          backPressuredMs: Math.round(flow.backPressure.totalMs),
          backPressureWaits: flow.backPressure.episodes,
        }
      : {}),
    ...(flow.timedOut > 0 ? { receiversTimedOut: flow.timedOut } : {}),
  }
}

async function openSource(
  config: SenderConfig,
  stdin: NodeJS.ReadableStream,
  sourceId: string,
): Promise<Source> {
  const { source } = config
  switch (source.kind) {
    case 'sensors':
      return sensorSource({ ...source, sourceId })
    case 'input':
      return jsonLinesSource({
        name: source.path,
        input: await openInput(source.path, stdin),
        sourceId,
        types: config.types,
      })
    case 'replay':
      try {
        return await replaySource({ ...source, types: config.types })
      } catch (error) {
        throw new Error(`--replay ${source.path}: ${(error as Error).message}`)
      }
    case 'raw': {
      const maxDatagramBytes = config.ipv6 ? MAX_DATAGRAM_BYTES_IPV6 : MAX_DATAGRAM_BYTES
      let input: { lines: NodeJS.ReadableStream } | { bytes: Uint8Array }
      if (source.path === '-') input = { lines: stdin }
      else {
        const bytes = await readFile(source.path).catch((error: Error) => {
          throw new Error(`--input ${source.path}: ${error.message}`)
        })
        if (bytes.length > maxDatagramBytes)
          throw new Error(
            `--input ${source.path} is ${bytes.length} bytes; one UDP datagram holds at most ${maxDatagramBytes}`,
          )
        input = { bytes }
      }
      return rawSource({
        name: source.path,
        input,
        maxDatagramBytes,
        replyWaitMs: config.ackTimeout,
        limit: config.count,
      })
    }
  }
}

/** stdin for `-`, otherwise the file, opened now so that a missing one fails at startup. */
async function openInput(path: string, stdin: NodeJS.ReadableStream): Promise<NodeJS.ReadableStream> {
  if (path === '-') return stdin
  try {
    const handle = await open(path, 'r')
    return handle.createReadStream()
  } catch (error) {
    throw new Error(`--input ${path}: ${(error as Error).message}`)
  }
}

/** `send-<host>-<pid>`, within the 64 characters of an identifier. */
function defaultSourceId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .slice(0, 40) || 'host'
  return `send-${host}-${process.pid}`
}

/** Waits for `promise`, but no longer than `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  const timeout = new AbortController()
  await Promise.race([
    promise.catch(() => {}),
    sleep(ms, undefined, { signal: timeout.signal }).catch(() => {}),
  ])
  timeout.abort()
}

/**
 * Datagrams the sender's socket refused (forged or stray acks and NACKs, garbage), by reason, for
 * the summary: `refused=ack-impostor:40,bad-nack:2`.
 */
function refusedFields(drops: Readonly<Partial<Record<string, number>>>): Record<string, string> {
  const refused = Object.entries(drops).filter(([reason, n]) => reason !== 'send-failed' && (n ?? 0) > 0)
  return refused.length === 0 ? {} : { refused: refused.map(([reason, n]) => `${reason}:${n}`).join(',') }
}

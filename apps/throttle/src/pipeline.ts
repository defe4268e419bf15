import { mergeTransportStats, type TransportStatsLike } from '@shoal/service'
import { createPublisher, createSubscriber, type ReceivedFrame } from '@shoal/transport'
import type { ThrottleConfig } from './config.js'
import { type InFrame, POLICY_DROP_REASONS, type PolicyStats, ThrottlePolicy } from './policy.js'

/**
 * Publications handed to the transport and not yet done: past this, frames are dropped as `busy`
 * rather than queued, so a slow output costs bounded memory.
 */
export const MAX_IN_FLIGHT = 1_024
/** How often idle topics are forgotten, ms. */
export const SWEEP_MS = 1_000

/** Every reason a frame received is not published: the policy's, then the output's. */
export const DROP_REASONS = [...POLICY_DROP_REASONS, 'send-failed', 'busy'] as const
export type DropReason = (typeof DROP_REASONS)[number]

export interface ThrottleCounters {
  /** Frames received on the input. */
  received: number
  /** Frames published on the output. */
  published: number
  dropped: Record<DropReason, number>
  /** Frames held for a `--latest` tick now, and their bytes. */
  heldFrames: number
  heldBytes: number
  /** Topics tracked now, and how many were let go for room (`MAX_TOPICS`). */
  topics: number
  evictions: number
}

export interface Pipeline {
  counters(): ThrottleCounters
  transportStats(): TransportStatsLike
  describe(): Record<string, unknown>
  close(): Promise<void>
}

export interface PipelineOptions {
  /** The clock the policy reads, ms. Default `performance.now()`. */
  readonly now?: () => number
  /** Calls `run` every `ms` until the returned function is called. Default `setInterval` (unref'd). */
  readonly every?: (ms: number, run: () => void) => () => void
}

function every(ms: number, run: () => void): () => void {
  const timer = setInterval(run, ms)
  timer.unref()
  return () => clearInterval(timer)
}

/**
 * Opens the input subscriber and the output publisher and passes every frame through the policy:
 * `--rate` frames go out (or not) as they arrive, `--latest` frames at their rule's ticks.
 */
export async function openThrottle(config: ThrottleConfig, options: PipelineOptions = {}): Promise<Pipeline> {
  const now = options.now ?? (() => performance.now())
  const repeat = options.every ?? every
  const publisher = await createPublisher({
    group: config.outGroup,
    port: config.outPort,
    interface: config.outInterface.spec,
    ttl: config.ttl,
    // Receivers beyond ask this session for the schemas of the types it republishes.
    schemas: config.types,
  })
  const subscriber = await createSubscriber({
    group: [...config.group],
    port: config.port,
    interface: config.interface.spec,
    topics: config.topic,
    // Frames go out as they came in: no need to decode them (and types this build does not know pass too).
    decode: false,
    // Types announced in-band upstream are learned into the registry the output answers from, so
    // receivers beyond the throttle (a new session to them) get the schemas of what it forwards.
    registry: config.types,
    schemas: true,
  }).catch(async (error: unknown) => {
    await publisher.close()
    throw error
  })
  const policy = new ThrottlePolicy(config.rules, config.unmatched)
  let received = 0
  let published = 0
  const output = { 'send-failed': 0, busy: 0 }
  let inFlight = 0
  const publish = (frame: InFrame) => {
    if (inFlight >= MAX_IN_FLIGHT) {
      output.busy++
      return
    }
    inFlight++
    publisher.publishEncoded(frame.topic, frame.fingerprint, frame.payload).then(
      () => {
        inFlight--
        published++
      },
      () => {
        inFlight--
        output['send-failed']++
      },
    )
  }
  subscriber.on('frame', (frame: ReceivedFrame) => {
    received++
    const out = policy.offer(frame, now())
    if (out !== undefined) publish(out)
  })
  const timers = config.rules
    .filter((rule) => rule.kind === 'latest')
    .map((rule) => repeat(rule.periodMs, () => policy.tick(rule).forEach(publish)))
  timers.push(repeat(SWEEP_MS, () => policy.sweep(now())))

  const counters = (stats: PolicyStats = policy.stats()): ThrottleCounters => ({
    received,
    published,
    dropped: { ...stats.dropped, ...output },
    heldFrames: stats.heldFrames,
    heldBytes: stats.heldBytes,
    topics: stats.topics,
    evictions: stats.evictions,
  })
  return {
    counters: () => counters(),
    transportStats: () => mergeTransportStats([subscriber.stats(), publisher.stats()]),
    describe: () => ({
      input: `${subscriber.info.groups.join(',')}:${subscriber.info.port} on ${subscriber.info.interface}`,
      output: `${publisher.info.destination}:${publisher.info.port} on ${publisher.info.interface}`,
      topics: config.topic,
      rules: config.rules.map((r) => `${r.kind} ${r.topic}=${r.hz}`),
      unmatched: config.unmatched,
    }),
    async close() {
      for (const cancel of timers) cancel()
      await subscriber.close()
      policy.stop()
      await publisher.flush()
      await publisher.close()
    },
  }
}

/**
 * Scenario 1 (and half of 5): small frames. Per run, raw dgram, Shoal unbatched (`send`, and
 * `publish` for information), Shoal batched and Shoal batched sealed (a keyed publisher and
 * subscriber, mode `encrypt`) each send a fixed count as fast as they can, and Shoal batched once
 * more at a fixed offered rate (`--batched-rate`); the receiver's delivered rate, the loss and its
 * peak RSS are compared, each Shoal rate is divided by raw's of the same run, and the sealed rate
 * by the unsealed batched one's.
 */
import { Temperature } from '@shoal/schema'
import { encodedFrameLength, encodeTopic } from '@shoal/transport/wire'
import { batchingAvailable } from '../batching.js'
import type { BenchContext } from '../context.js'
import type { SmallVariant } from '../protocol.js'
import { GROUP, LOOPBACK, SMALL_TOPIC, temperatureSample } from '../samples.js'
import { UNSEALED } from '../sealed.js'
import { ratios, type Spread, spread } from '../stats.js'
import { runPair } from './pair.js'

export const SMALL_VARIANTS: readonly SmallVariant[] = [
  'raw',
  'unbatched',
  'publish',
  'batched',
  'sealed',
  'paced',
]
const BATCHED: ReadonlySet<SmallVariant> = new Set(['batched', 'paced', 'sealed'])

export interface SmallRun {
  run: number
  sent: number
  delivered: number
  /** sent − delivered. */
  loss: number
  /** Shoal: the subscriber's sequence gaps (equal to `loss` when its accounting is right). */
  gaps: number | undefined
  /** Delivered frames per second at the receiver, first to last arrival. */
  rate: number
  /** Frames per second the sender got out. */
  sendRate: number
  datagrams: number
  /** Datagrams the kernel dropped because the receive buffer was full. */
  rcvbufErrors: number
  receiverPeakRss: number
  receiverReadyRss: number
  senderPeakRss: number
  endedBy: string
  /** Cores other processes used during this measurement. */
  othersCores: number | undefined
}

export interface SmallVariantResult {
  variant: SmallVariant
  available: boolean
  /** Why not, when not available. */
  reason?: string
  frames: number
  runs: SmallRun[]
  rate: Spread
  /** Per-run rate ÷ raw's rate in the same run. */
  ratio: Spread
  /** Sealed only: per-run rate ÷ the unsealed batched rate in the same run. */
  vsUnsealed?: Spread
  loss: Spread
  gaps: Spread | undefined
  receiverPeakRss: Spread
}

export interface SmallResult {
  messageBytes: number
  /** An unbatched Shoal datagram carrying the message. */
  datagramBytes: number
  recvBufferBytes: number
  lingerMs: number | undefined
  /** Frames/s the paced batched sender offers. */
  batchedRate: number
  /** `sealed` is absent from results saved before it was measured. */
  variants: Record<Exclude<SmallVariant, 'sealed'>, SmallVariantResult> & { sealed?: SmallVariantResult }
}

const PAUSE_MS = 300
const CHUNK = 8192
/** Slowest rate a run is allowed before its deadline, frames/s (far below anything measured). */
const FLOOR_RATE = 10_000

export function smallMessage(): { messageBytes: number; datagramBytes: number } {
  const messageBytes = Temperature.encode(temperatureSample()).length
  const datagramBytes = encodedFrameLength(
    { payloadLength: messageBytes, extensionLength: 0 },
    encodeTopic(SMALL_TOPIC),
  )
  return { messageBytes, datagramBytes }
}

export async function measureSmall(
  ctx: BenchContext,
  variant: SmallVariant,
  run: number,
  profile?: string,
): Promise<SmallRun & { recvBufferBytes: number }> {
  const frames = BATCHED.has(variant) ? ctx.options.batchedFrames : ctx.options.frames
  const port = ctx.nextPort()
  const where = { group: GROUP, port, iface: LOOPBACK }
  const { sent, received, othersCores } = await runPair(ctx, {
    receiver: 'small-receiver',
    sender: 'small-sender',
    receiverConfig: {
      ...where,
      impl: variant === 'raw' ? 'raw' : 'shoal',
      sealed: variant === 'sealed',
      frames,
    },
    senderConfig: {
      ...where,
      variant,
      frames,
      chunk: CHUNK,
      pauseMs: PAUSE_MS,
      lingerMs: ctx.options.lingerMs,
      rate: variant === 'paced' ? ctx.options.batchedRate : undefined,
    },
    sendMs: Math.max(30_000, (frames / FLOOR_RATE) * 1000),
    ...(profile === undefined ? {} : { profile }),
  })
  if (sent.unavailable !== undefined) throw new Error(`small ${variant}: ${sent.unavailable}`)
  return {
    run,
    sent: sent.sent,
    delivered: received.delivered,
    loss: sent.sent - received.delivered,
    gaps: received.gaps,
    rate: received.elapsedNs > 0 ? received.timedFrames / (received.elapsedNs / 1e9) : 0,
    sendRate: sent.elapsedNs > 0 ? sent.sent / (sent.elapsedNs / 1e9) : 0,
    datagrams: sent.datagrams,
    rcvbufErrors: received.udp.rcvbufErrors,
    receiverPeakRss: received.peakRssBytes,
    receiverReadyRss: received.readyRssBytes,
    senderPeakRss: sent.peakRssBytes,
    endedBy: received.endedBy,
    othersCores,
    recvBufferBytes: received.recvBufferBytes,
  }
}

export async function runSmall(ctx: BenchContext): Promise<SmallResult> {
  const batching = batchingAvailable()
  // Without send()/flush() only raw and publish can run.
  const available = (v: SmallVariant) => batching || v === 'raw' || v === 'publish'
  const variants = SMALL_VARIANTS.filter(available)
  const runs: Record<SmallVariant, SmallRun[]> = {
    raw: [],
    unbatched: [],
    publish: [],
    batched: [],
    paced: [],
    sealed: [],
  }
  let recvBufferBytes = 0
  for (let run = 0; run < ctx.options.runs; run++) {
    // Rotate the order so that no variant always goes first (or last) in a run.
    const order = variants.map((_, i) => variants[(i + run) % variants.length]!)
    for (const variant of order) {
      const result = await measureSmall(ctx, variant, run)
      recvBufferBytes = result.recvBufferBytes
      const { recvBufferBytes: _, ...measured } = result
      runs[variant].push(measured)
      ctx.log(
        `small  run ${run + 1}/${ctx.options.runs}  ${variant.padEnd(9)} ${fmt(measured.rate)} frames/s delivered ` +
          `(offered ${fmt(measured.sendRate)}, ${fmt(measured.datagrams)} datagrams), loss ${measured.loss}${measured.gaps === undefined ? '' : `, gaps ${measured.gaps}`}`,
      )
    }
  }
  const summarise = (variant: SmallVariant): SmallVariantResult => {
    const list = runs[variant]
    const rates = list.map((r) => r.rate)
    const result: SmallVariantResult = {
      variant,
      available: available(variant),
      frames: BATCHED.has(variant) ? ctx.options.batchedFrames : ctx.options.frames,
      runs: list,
      rate: spread(rates),
      ratio: spread(
        ratios(
          rates,
          runs.raw.map((r) => r.rate),
        ),
      ),
      loss: spread(list.map((r) => r.loss)),
      gaps: variant === 'raw' ? undefined : spread(list.map((r) => r.gaps ?? Number.NaN)),
      receiverPeakRss: spread(list.map((r) => r.receiverPeakRss)),
    }
    if (variant === 'sealed')
      result.vsUnsealed = spread(
        ratios(
          rates,
          runs[UNSEALED.small].map((r) => r.rate),
        ),
      )
    if (!result.available) result.reason = 'not available yet (no publisher.send/flush in @shoal/transport)'
    return result
  }
  return {
    ...smallMessage(),
    recvBufferBytes,
    lingerMs: ctx.options.lingerMs,
    batchedRate: ctx.options.batchedRate,
    variants: Object.fromEntries(SMALL_VARIANTS.map((v) => [v, summarise(v)])) as SmallResult['variants'],
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

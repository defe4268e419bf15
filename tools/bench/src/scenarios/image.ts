/**
 * Scenario 2 (and half of 5): 1 MiB images. Per run, raw dgram, Shoal unpaced, Shoal unpaced and
 * sealed (a keyed publisher and subscriber, mode `encrypt`) and Shoal paced
 * (`pacing.bytesPerSecond` = `--image-rate`) each send a fixed count of images one after the other;
 * goodput (whole images delivered × 1 MiB over the time from the first to the last completed one),
 * frames lost and the receiver's peak RSS are compared, and the sealed goodput is divided by the
 * unsealed unpaced one's of the same run.
 */
import { Image } from '@shoal/schema'
import type { BenchContext } from '../context.js'
import { EARLY_IMAGES, type ImageVariant } from '../protocol.js'
import {
  GROUP,
  IMAGE_DATA_BYTES,
  imageSample,
  LOOPBACK,
  MAX_UDP_PAYLOAD,
  RAW_IMAGE_CHUNK,
} from '../samples.js'
import { UNSEALED } from '../sealed.js'
import { ratios, type Spread, spread } from '../stats.js'
import { runPair } from './pair.js'

export const IMAGE_VARIANTS: readonly ImageVariant[] = ['raw', 'shoal', 'sealed', 'paced']

export interface ImageRun {
  run: number
  sent: number
  delivered: number
  lost: number
  /** Lost among the first EARLY_IMAGES images (while the receiver is cold). */
  lostEarly: number | undefined
  gaps: number | undefined
  /** Goodput, MB/s (10^6 bytes of pixel data per second). */
  goodput: number
  /** What the sender offered, MB/s. */
  sendRate: number
  datagrams: number
  rcvbufErrors: number
  drops: Record<string, number> | undefined
  /** Shoal: NACKs the receiver sent, fragments the sender resent, fragments that arrived so. */
  nacks: number | undefined
  resent: number | undefined
  repaired: number | undefined
  receiverPeakRss: number
  receiverReadyRss: number
  senderPeakRss: number
  endedBy: string
  /** Cores other processes used during this measurement. */
  othersCores: number | undefined
}

export interface ImageVariantResult {
  variant: ImageVariant
  runs: ImageRun[]
  goodput: Spread
  ratio: Spread
  /** Sealed only: per-run goodput ÷ the unsealed unpaced goodput in the same run. */
  vsUnsealed?: Spread
  lost: Spread
  lostEarly: Spread
  gaps: Spread | undefined
  receiverPeakRss: Spread
}

export interface ImageResult {
  dataBytes: number
  encodedBytes: number
  datagramsPerImage: Record<Exclude<ImageVariant, 'sealed'>, number> & { sealed?: number }
  frames: number
  /** The paced publisher's `pacing.bytesPerSecond`. */
  pacedBytesPerSecond: number
  /** `sealed` is absent from results saved before it was measured. */
  variants: Record<Exclude<ImageVariant, 'sealed'>, ImageVariantResult> & { sealed?: ImageVariantResult }
}

const PAUSE_MS = 300
/** Slowest rate a run is allowed before its deadline, images/s. */
const FLOOR_RATE = 20

export async function measureImage(
  ctx: BenchContext,
  variant: ImageVariant,
  run: number,
  profile?: string,
): Promise<ImageRun> {
  const frames = ctx.options.images
  const where = { group: GROUP, port: ctx.nextPort(), iface: LOOPBACK, frames }
  const { sent, received, othersCores } = await runPair(ctx, {
    receiver: 'image-receiver',
    sender: 'image-sender',
    receiverConfig: { ...where, impl: variant === 'raw' ? 'raw' : 'shoal', sealed: variant === 'sealed' },
    senderConfig: {
      ...where,
      variant,
      pauseMs: PAUSE_MS,
      bytesPerSecond: variant === 'paced' ? pacedBytesPerSecond(ctx) : undefined,
    },
    sendMs: Math.max(30_000, (frames / FLOOR_RATE) * 1000),
    ...(profile === undefined ? {} : { profile }),
  })
  const seconds = (ns: number) => ns / 1e9
  return {
    run,
    sent: sent.sent,
    delivered: received.delivered,
    lost: sent.sent - received.delivered,
    lostEarly: received.lostEarly,
    gaps: received.gaps,
    goodput:
      received.elapsedNs > 0
        ? (received.timedFrames * IMAGE_DATA_BYTES) / 1e6 / seconds(received.elapsedNs)
        : 0,
    sendRate: sent.elapsedNs > 0 ? (sent.sent * IMAGE_DATA_BYTES) / 1e6 / seconds(sent.elapsedNs) : 0,
    datagrams: sent.datagrams,
    rcvbufErrors: received.udp.rcvbufErrors,
    drops: received.drops,
    nacks: received.repair?.nacksSent,
    resent: sent.repair?.fragmentsResent,
    repaired: received.repair?.fragmentsRepaired,
    receiverPeakRss: received.peakRssBytes,
    receiverReadyRss: received.readyRssBytes,
    senderPeakRss: sent.peakRssBytes,
    endedBy: received.endedBy,
    othersCores,
  }
}

/** `--image-rate` (MB/s) as the publisher's `pacing.bytesPerSecond`. */
function pacedBytesPerSecond(ctx: BenchContext): number {
  return ctx.options.imageRate * 1e6
}

export async function runImage(ctx: BenchContext): Promise<ImageResult> {
  const runs: Record<ImageVariant, ImageRun[]> = { raw: [], shoal: [], paced: [], sealed: [] }
  for (let run = 0; run < ctx.options.runs; run++) {
    // Rotate the order so that no variant always goes first (or last) in a run.
    const order = IMAGE_VARIANTS.map((_, i) => IMAGE_VARIANTS[(i + run) % IMAGE_VARIANTS.length]!)
    for (const variant of order) {
      const measured = await measureImage(ctx, variant, run)
      runs[variant].push(measured)
      ctx.log(
        `image  run ${run + 1}/${ctx.options.runs}  ${variant.padEnd(9)} ${measured.goodput.toFixed(0)} MB/s ` +
          `(offered ${measured.sendRate.toFixed(0)}), ${measured.lost} of ${measured.sent} lost ` +
          `(${measured.lostEarly ?? '?'} of the first ${EARLY_IMAGES})` +
          `${measured.gaps === undefined ? '' : `, gaps ${measured.gaps}`}` +
          `${measured.nacks === undefined ? '' : `, ${measured.nacks} NACKs, ${measured.resent} fragments resent, ${measured.repaired} repaired`}`,
      )
    }
  }
  const encodedBytes = Image.encode(imageSample()).length
  const summarise = (variant: ImageVariant): ImageVariantResult => {
    const list = runs[variant]
    const goodputs = list.map((r) => r.goodput)
    const result: ImageVariantResult = {
      variant,
      runs: list,
      goodput: spread(goodputs),
      ratio: spread(
        ratios(
          goodputs,
          runs.raw.map((r) => r.goodput),
        ),
      ),
      lost: spread(list.map((r) => r.lost)),
      lostEarly: spread(list.map((r) => r.lostEarly ?? Number.NaN)),
      gaps: variant === 'raw' ? undefined : spread(list.map((r) => r.gaps ?? Number.NaN)),
      receiverPeakRss: spread(list.map((r) => r.receiverPeakRss)),
    }
    if (variant === 'sealed')
      result.vsUnsealed = spread(
        ratios(
          goodputs,
          runs[UNSEALED.image].map((r) => r.goodput),
        ),
      )
    return result
  }
  const shoalDatagrams = (list: ImageRun[]) =>
    list[0] ? Math.round(list[0].datagrams / list[0].sent) : Math.ceil(encodedBytes / MAX_UDP_PAYLOAD)
  return {
    dataBytes: IMAGE_DATA_BYTES,
    encodedBytes,
    datagramsPerImage: {
      raw: Math.ceil(IMAGE_DATA_BYTES / RAW_IMAGE_CHUNK),
      shoal: shoalDatagrams(runs.shoal),
      paced: shoalDatagrams(runs.paced),
      sealed: shoalDatagrams(runs.sealed),
    },
    frames: ctx.options.images,
    pacedBytesPerSecond: pacedBytesPerSecond(ctx),
    variants: Object.fromEntries(IMAGE_VARIANTS.map((v) => [v, summarise(v)])) as ImageResult['variants'],
  }
}

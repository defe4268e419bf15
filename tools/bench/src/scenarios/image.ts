/**
 * Scenario 2 (and half of 5): 1 MiB images. Per run, raw dgram and Shoal each send a fixed count of
 * images one after the other; goodput (whole images delivered × 1 MiB over the time from the first
 * to the last completed one), frames lost and the receiver's peak RSS are compared.
 */
import { Image } from '@shoal/schema'
import type { BenchContext } from '../context.js'
import type { Impl } from '../protocol.js'
import {
  GROUP,
  IMAGE_DATA_BYTES,
  imageSample,
  LOOPBACK,
  MAX_UDP_PAYLOAD,
  RAW_IMAGE_CHUNK,
} from '../samples.js'
import { ratios, type Spread, spread } from '../stats.js'
import { runPair } from './pair.js'

export const IMAGE_IMPLS: readonly Impl[] = ['raw', 'shoal']

export interface ImageRun {
  run: number
  sent: number
  delivered: number
  lost: number
  gaps: number | undefined
  /** Goodput, MB/s (10^6 bytes of pixel data per second). */
  goodput: number
  /** What the sender offered, MB/s. */
  sendRate: number
  datagrams: number
  rcvbufErrors: number
  drops: Record<string, number> | undefined
  receiverPeakRss: number
  receiverReadyRss: number
  senderPeakRss: number
  endedBy: string
  /** Cores other processes used during this measurement. */
  othersCores: number | undefined
}

export interface ImageImplResult {
  impl: Impl
  runs: ImageRun[]
  goodput: Spread
  ratio: Spread
  lost: Spread
  gaps: Spread | undefined
  receiverPeakRss: Spread
}

export interface ImageResult {
  dataBytes: number
  encodedBytes: number
  datagramsPerImage: Record<Impl, number>
  frames: number
  impls: Record<Impl, ImageImplResult>
}

const PAUSE_MS = 300
/** Slowest rate a run is allowed before its deadline, images/s. */
const FLOOR_RATE = 20

export async function measureImage(
  ctx: BenchContext,
  impl: Impl,
  run: number,
  profile?: string,
): Promise<ImageRun> {
  const frames = ctx.options.images
  const where = { group: GROUP, port: ctx.nextPort(), iface: LOOPBACK, impl, frames }
  const { sent, received, othersCores } = await runPair(ctx, {
    receiver: 'image-receiver',
    sender: 'image-sender',
    receiverConfig: where,
    senderConfig: { ...where, pauseMs: PAUSE_MS },
    sendMs: Math.max(30_000, (frames / FLOOR_RATE) * 1000),
    ...(profile === undefined ? {} : { profile }),
  })
  const seconds = (ns: number) => ns / 1e9
  return {
    run,
    sent: sent.sent,
    delivered: received.delivered,
    lost: sent.sent - received.delivered,
    gaps: received.gaps,
    goodput:
      received.elapsedNs > 0
        ? (received.timedFrames * IMAGE_DATA_BYTES) / 1e6 / seconds(received.elapsedNs)
        : 0,
    sendRate: sent.elapsedNs > 0 ? (sent.sent * IMAGE_DATA_BYTES) / 1e6 / seconds(sent.elapsedNs) : 0,
    datagrams: sent.datagrams,
    rcvbufErrors: received.udp.rcvbufErrors,
    drops: received.drops,
    receiverPeakRss: received.peakRssBytes,
    receiverReadyRss: received.readyRssBytes,
    senderPeakRss: sent.peakRssBytes,
    endedBy: received.endedBy,
    othersCores,
  }
}

export async function runImage(ctx: BenchContext): Promise<ImageResult> {
  const runs: Record<Impl, ImageRun[]> = { raw: [], shoal: [] }
  for (let run = 0; run < ctx.options.runs; run++) {
    const order = run % 2 === 0 ? IMAGE_IMPLS : [...IMAGE_IMPLS].reverse()
    for (const impl of order) {
      const measured = await measureImage(ctx, impl, run)
      runs[impl].push(measured)
      ctx.log(
        `image  run ${run + 1}/${ctx.options.runs}  ${impl.padEnd(9)} ${measured.goodput.toFixed(0)} MB/s, ` +
          `${measured.lost} of ${measured.sent} lost${measured.gaps === undefined ? '' : `, gaps ${measured.gaps}`}`,
      )
    }
  }
  const encodedBytes = Image.encode(imageSample()).length
  const summarise = (impl: Impl): ImageImplResult => {
    const list = runs[impl]
    const goodputs = list.map((r) => r.goodput)
    return {
      impl,
      runs: list,
      goodput: spread(goodputs),
      ratio: spread(
        ratios(
          goodputs,
          runs.raw.map((r) => r.goodput),
        ),
      ),
      lost: spread(list.map((r) => r.lost)),
      gaps: impl === 'raw' ? undefined : spread(list.map((r) => r.gaps ?? Number.NaN)),
      receiverPeakRss: spread(list.map((r) => r.receiverPeakRss)),
    }
  }
  return {
    dataBytes: IMAGE_DATA_BYTES,
    encodedBytes,
    datagramsPerImage: {
      raw: Math.ceil(IMAGE_DATA_BYTES / RAW_IMAGE_CHUNK),
      shoal: runs.shoal[0]
        ? Math.round(runs.shoal[0].datagrams / runs.shoal[0].sent)
        : Math.ceil(encodedBytes / MAX_UDP_PAYLOAD),
    },
    frames: ctx.options.images,
    impls: { raw: summarise('raw'), shoal: summarise('shoal') },
  }
}

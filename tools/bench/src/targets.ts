/**
 * The performance targets from the issue, checked against a run's medians. A target is never
 * adjusted to the result: a miss is reported as a miss, with the profile that explains it.
 */
import type { BenchResults } from './results.js'

/** Which Shoal measurement to profile when a target is missed. */
export type ProfileTarget = 'small-unbatched' | 'small-batched' | 'image' | 'latency' | 'codec'

export interface TargetResult {
  id: string
  scenario: 'small' | 'image' | 'latency' | 'codec'
  target: string
  measured: string
  /** undefined: not measured in this run (scenario skipped or variant not available). */
  met: boolean | undefined
  profile: ProfileTarget
}

const M = (n: number) => `${(n / 1e6).toFixed(2)} M`
const x = (n: number) => `${n.toFixed(2)}×`
const int = (n: number) => Math.round(n).toLocaleString('en-US')

export function evaluateTargets(results: Omit<BenchResults, 'targets' | 'profiles'>): TargetResult[] {
  const out: TargetResult[] = []
  const { small, image, latency, codec } = results
  if (small !== undefined) {
    const b = small.variants.batched
    out.push({
      id: 'small-batched',
      scenario: 'small',
      target: 'batched ≥ 1 M frames/s delivered, 0 loss, ≥ 7× raw',
      measured: b.available
        ? `${M(b.rate.median)} frames/s, loss ${int(b.loss.median)} (max ${int(b.loss.max)}), ${x(b.ratio.median)} raw`
        : 'not available yet',
      met: b.available ? b.rate.median >= 1_000_000 && b.loss.max === 0 && b.ratio.median >= 7 : undefined,
      profile: 'small-batched',
    })
    const u = small.variants.unbatched
    out.push({
      id: 'small-unbatched',
      scenario: 'small',
      target: 'unbatched ≥ 0.85× raw',
      measured: `${x(u.ratio.median)} raw (${int(u.rate.median)} vs ${int(small.variants.raw.rate.median)} frames/s)`,
      met: u.ratio.median >= 0.85,
      profile: 'small-unbatched',
    })
  }
  if (image !== undefined) {
    const s = image.impls.shoal
    out.push({
      id: 'image',
      scenario: 'image',
      target: '1 MiB images ≥ 1,000 MB/s goodput, 0 lost',
      measured: `${int(s.goodput.median)} MB/s, ${int(s.lost.median)} lost (max ${int(s.lost.max)}) of ${int(image.frames)}`,
      met: s.goodput.median >= 1_000 && s.lost.max === 0,
      profile: 'image',
    })
  }
  if (latency !== undefined) {
    const s = latency.impls.shoal
    const r = latency.impls.raw
    out.push({
      id: 'latency-p50',
      scenario: 'latency',
      target: 'latency p50 within 10 µs of raw',
      measured: `${s.p50.median.toFixed(1)} vs ${r.p50.median.toFixed(1)} µs (+${s.p50Delta.median.toFixed(1)} µs)`,
      met: s.p50Delta.median <= 10,
      profile: 'latency',
    })
    out.push({
      id: 'latency-p99',
      scenario: 'latency',
      target: 'latency p99 ≤ 1.2× raw',
      measured: `${s.p99.median.toFixed(1)} vs ${r.p99.median.toFixed(1)} µs (${x(s.p99Ratio.median)})`,
      met: s.p99Ratio.median <= 1.2,
      profile: 'latency',
    })
  }
  if (codec !== undefined) {
    out.push({
      id: 'codec-encode',
      scenario: 'codec',
      target: 'encode + frame ≥ 2.5 M msgs/s',
      measured: `${M(codec.rates.shoalEncode.median)}/s with fragmentMessage (publish); ${M(codec.rates.shoalEncodeInto.median)}/s into a reused buffer`,
      met: codec.rates.shoalEncode.median >= 2_500_000,
      profile: 'codec',
    })
    out.push({
      id: 'codec-decode',
      scenario: 'codec',
      target: 'deframe + decode ≥ 2.5 M msgs/s',
      measured: `${M(codec.rates.shoalDecode.median)}/s`,
      met: codec.rates.shoalDecode.median >= 2_500_000,
      profile: 'codec',
    })
  }
  return out
}

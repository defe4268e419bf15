/**
 * The sealed variants (issue 11): which unsealed row each is compared with, and the targets the
 * comparison is judged by. Each sealed row is measured in the same runs as its unsealed row, so
 * the comparison is made run by run (then the median).
 */
import type { ImageVariant, LatencyVariant, SmallVariant } from './protocol.js'

/** Each sealed variant is judged against this unsealed one, measured in the same run. */
export const UNSEALED = { small: 'batched', image: 'shoal', latency: 'shoal' } as const satisfies {
  small: SmallVariant
  image: ImageVariant
  latency: LatencyVariant
}

/**
 * Sealing (encrypt) costs at most 10 % of the throughput (sealed ÷ unsealed ≥ 0.90, small frames
 * and images) and adds at most 3 µs to the latency p50 (sealed − unsealed).
 */
export const SEAL_TARGETS = { minRatio: 0.9, maxAddedP50Us: 3 } as const

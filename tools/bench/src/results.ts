/** The shape of a whole bench run, as written to results/latest.json. */

import type { BenchOptions } from './options.js'
import type { ProfileSummary } from './profile.js'
import type { CodecResult } from './scenarios/codec.js'
import type { DdsResult } from './scenarios/dds.js'
import type { ImageResult } from './scenarios/image.js'
import type { LatencyResult } from './scenarios/latency.js'
import type { NatsResult } from './scenarios/nats.js'
import type { SmallResult } from './scenarios/small.js'
import type { TargetResult } from './targets.js'

export interface Environment {
  node: string
  platform: string
  kernel: string
  cpuModel: string
  cpus: number
  memoryBytes: number
  /** net.core.rmem_max: the largest receive buffer a socket gets without CAP_NET_ADMIN tricks. */
  rmemMax: number | undefined
  namespace: string | undefined
  /** `git describe`-like: the commit and whether schema/transport had uncommitted changes. */
  commit: string | undefined
  dirty: boolean | undefined
  /** 1, 5 and 15 minute load averages before and after (they include the bench's own build and workers). */
  loadAverage: { start: number[]; end: number[] }
  /**
   * Other processes' CPU use, in cores, over 2 s before the first measurement and after the last,
   * while the bench ran nothing (see interference.ts; each run also records its own).
   */
  othersCores: { start: number | undefined; end: number | undefined }
}

export interface BenchResults {
  schema: 1
  startedAt: string
  finishedAt: string
  durationS: number
  argv: string[]
  environment: Environment
  options: BenchOptions
  small?: SmallResult
  image?: ImageResult
  latency?: LatencyResult
  codec?: CodecResult
  /** The Cyclone DDS peer (ddsperf). */
  dds?: DdsResult
  /** Frames through relay → nats-server → relay. */
  nats?: NatsResult
  targets: TargetResult[]
  profiles: ProfileSummary[]
}

/** Which runs other processes competed with, per scenario (from each run's `othersCores`). */
import { NOISY_CORES } from './interference.js'
import type { BenchResults } from './results.js'

export interface Noise {
  scenario: 'small' | 'image' | 'latency' | 'codec' | 'dds'
  /** 1-based numbers of the runs where another process used ≥ NOISY_CORES. */
  runs: number[]
  /** Most cores other processes used during any measurement of the scenario. */
  maxCores: number
}

type Sample = { run: number; othersCores: number | undefined }

function summarise(scenario: Noise['scenario'], samples: Sample[]): Noise {
  const runs = new Set<number>()
  let maxCores = 0
  for (const s of samples) {
    if (s.othersCores === undefined || s.run < 0) continue
    maxCores = Math.max(maxCores, s.othersCores)
    if (s.othersCores >= NOISY_CORES) runs.add(s.run + 1)
  }
  return { scenario, runs: [...runs].sort((a, b) => a - b), maxCores }
}

export function noiseOf(
  results: Pick<BenchResults, 'small' | 'image' | 'latency' | 'codec' | 'dds'>,
): Noise[] {
  const out: Noise[] = []
  const { small, image, latency, codec, dds } = results
  if (small)
    out.push(
      summarise(
        'small',
        Object.values(small.variants).flatMap((v) => v.runs),
      ),
    )
  if (image)
    out.push(
      summarise(
        'image',
        Object.values(image.variants).flatMap((i) => i.runs),
      ),
    )
  if (latency)
    out.push(
      summarise(
        'latency',
        Object.values(latency.impls).flatMap((i) => i.runs),
      ),
    )
  if (codec)
    out.push(
      summarise(
        'codec',
        codec.othersCores.map((othersCores, run) => ({ run, othersCores })),
      ),
    )
  if (dds) out.push(summarise('dds', [...dds.small.runs, ...dds.image.runs, ...dds.latency.runs]))
  return out
}

/** "up to 0.62 cores during runs 2, 3 and 5", or '' when no run was touched. */
export function describeNoise(noise: Noise | undefined): string {
  if (noise === undefined || noise.runs.length === 0) return ''
  const list = noise.runs.length === 1 ? `run ${noise.runs[0]}` : `runs ${noise.runs.join(', ')}`
  return `other processes used up to ${noise.maxCores.toFixed(2)} cores during ${list}`
}

/**
 * Profiling runs: one extra measurement of a Shoal variant with `node --cpu-prof` on each of its
 * processes, summarised by ./profile.ts. Which ones: those whose target was missed (`auto`), all
 * (`always`) or none (`never`).
 */
import { mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { BenchContext } from './context.js'
import { type ProfileSummary, summariseProfile } from './profile.js'
import { measureCodec } from './scenarios/codec.js'
import { measureImage } from './scenarios/image.js'
import { measureLatency } from './scenarios/latency.js'
import { measureSmall } from './scenarios/small.js'
import type { ProfileTarget, TargetResult } from './targets.js'

export function profileTargets(ctx: BenchContext, targets: readonly TargetResult[]): ProfileTarget[] {
  const mode = ctx.options.profile
  if (mode === 'never') return []
  const picked = targets.filter((t) => (mode === 'always' ? t.met !== undefined : t.met === false))
  // A sealed row is profiled with its unsealed row, so the report shows what sealing added.
  return [
    ...new Set(
      picked.flatMap((t) => (t.compareWith === undefined ? [t.profile] : [t.profile, t.compareWith])),
    ),
  ]
}

async function measureProfiled(ctx: BenchContext, target: ProfileTarget): Promise<void> {
  switch (target) {
    case 'small-unbatched':
      await measureSmall(ctx, 'unbatched', -1, target)
      return
    case 'small-batched':
      await measureSmall(ctx, 'batched', -1, target)
      return
    case 'small-paced':
      await measureSmall(ctx, 'paced', -1, target)
      return
    case 'image-unpaced':
      await measureImage(ctx, 'shoal', -1, target)
      return
    case 'image-paced':
      await measureImage(ctx, 'paced', -1, target)
      return
    case 'latency':
      await measureLatency(ctx, 'shoal', -1, target)
      return
    case 'small-sealed':
      await measureSmall(ctx, 'sealed', -1, target)
      return
    case 'image-sealed':
      await measureImage(ctx, 'sealed', -1, target)
      return
    case 'latency-sealed':
      await measureLatency(ctx, 'sealed', -1, target)
      return
    case 'codec':
      await measureCodec(ctx, target)
      return
  }
}

export async function runProfiles(
  ctx: BenchContext,
  targets: readonly ProfileTarget[],
): Promise<ProfileSummary[]> {
  const summaries: ProfileSummary[] = []
  if (targets.length === 0) return summaries
  mkdirSync(ctx.profileDir, { recursive: true })
  for (const target of targets) {
    ctx.log(`profile ${target}: one more run under node --cpu-prof`)
    await measureProfiled(ctx, target)
    const files = readdirSync(ctx.profileDir).filter(
      (f) => f.startsWith(`${target}-`) && f.endsWith('.cpuprofile'),
    )
    if (files.length === 0) ctx.log(`profile ${target}: no profile was written`)
    const rank = (f: string) => (/-(receiver|pong)\.cpuprofile$/.test(f) ? 1 : 0)
    for (const file of files.sort((a, b) => rank(a) - rank(b))) {
      const name = file.slice(0, -'.cpuprofile'.length)
      const ready = ctx.profiled.get(name)?.events<{ atUs: number }>('ready')[0]
      summaries.push(
        summariseProfile(join(ctx.profileDir, file), target, name.slice(target.length + 1), ready?.atUs),
      )
    }
  }
  return summaries
}

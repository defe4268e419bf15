/**
 * Reads V8 CPU profiles (`node --cpu-prof`) and says where the time went: self time per function,
 * and per area (transport, schema/protobufjs, Node's own JS, node:crypto, GC, native), as a share
 * of the busy (non-idle) time of the process.
 */
import { readFileSync } from 'node:fs'
import type { ProfileTarget } from './targets.js'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame }>
  startTime: number
  samples: number[]
  timeDeltas: number[]
}

export interface HotFunction {
  fn: string
  where: string
  area: string
  selfMs: number
  /** Share of the process's busy time. */
  selfPct: number
}

export interface ProfileSummary {
  target: ProfileTarget
  process: string
  file: string
  /** Whether start-up (before the worker's `ready`) was left out. */
  fromReady: boolean
  totalMs: number
  idlePct: number
  areas: Array<{ area: string; pct: number }>
  top: HotFunction[]
}

/** Which part of the stack a frame belongs to. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC'
    if (functionName === '(idle)') return 'idle'
    if (functionName === '(program)') return 'native (V8, libuv, syscalls)'
    return 'native (V8, libuv, syscalls)'
  }
  if (url.includes('/packages/transport/')) return '@shoal/transport'
  if (url.includes('/packages/schema/')) return '@shoal/schema (generated)'
  if (url.includes('protobufjs') || url.includes('/long/')) return 'protobufjs'
  // Sealing's AES-GCM: the native cipher's time is counted in its JS wrappers (update, final…).
  if (url.startsWith('node:internal/crypto') || url === 'node:crypto') return 'node:crypto (sealing)'
  if (url.startsWith('node:')) return 'node (dgram, events, timers…)'
  if (url.includes('/tools/bench/')) return 'bench harness'
  return 'other'
}

/** A short location: package-relative path and 1-based line. */
export function shortWhere(frame: CallFrame): string {
  const url = frame.url
  if (url === '') return ''
  const line = frame.lineNumber >= 0 ? `:${frame.lineNumber + 1}` : ''
  const path = url.replace(/^file:\/\//, '')
  const pkg = /\/(packages|tools)\/([^/]+)\/(.*)$/.exec(path)
  if (pkg) return `${pkg[2]}/${pkg[3]}${line}`
  const mod = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(path)
  if (mod) return `${mod[1]}/${mod[2]}${line}`
  return `${path}${line}`
}

/**
 * Self time per function of the profile in `file`. With `fromUs` (the monotonic clock in µs, as
 * V8 stamps samples), samples before it (module loading, set-up) are left out.
 */
export function summariseProfile(
  file: string,
  target: ProfileTarget,
  processName: string,
  fromUs?: number,
  top = 12,
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]))
  const selfUs = new Map<number, number>()
  let totalUs = 0
  let at = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0
    at += dt
    if (fromUs !== undefined && at < fromUs) continue
    totalUs += dt
    const id = profile.samples[i]!
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt)
  }
  const functions = new Map<string, HotFunction>()
  const areas = new Map<string, number>()
  let idleUs = 0
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)
    if (frame === undefined) continue
    const area = areaOf(frame)
    if (area === 'idle') {
      idleUs += us
      continue
    }
    areas.set(area, (areas.get(area) ?? 0) + us)
    const where = shortWhere(frame)
    const key = `${frame.functionName}@${where}`
    const entry = functions.get(key) ?? {
      fn: frame.functionName || '(anonymous)',
      where,
      area,
      selfMs: 0,
      selfPct: 0,
    }
    entry.selfMs += us / 1000
    functions.set(key, entry)
  }
  const busyUs = Math.max(1, totalUs - idleUs)
  const hot = [...functions.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, top)
  for (const f of hot) {
    f.selfPct = (f.selfMs * 1000 * 100) / busyUs
    f.selfMs = Math.round(f.selfMs * 10) / 10
  }
  return {
    target,
    process: processName,
    file,
    fromReady: fromUs !== undefined,
    totalMs: Math.round(totalUs / 1000),
    idlePct: (idleUs * 100) / Math.max(1, totalUs),
    areas: [...areas.entries()]
      .map(([area, us]) => ({ area, pct: (us * 100) / busyUs }))
      .sort((a, b) => b.pct - a.pct),
    top: hot,
  }
}

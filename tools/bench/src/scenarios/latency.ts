/**
 * Scenario 3: round-trip latency. One ping at a time goes by multicast, its pong comes back by
 * unicast; the pinger times each round trip with process.hrtime.bigint(). Per run, raw dgram and
 * Shoal each do the same number of round trips; Shoal's p50 is compared with raw's as a difference
 * and its p99 as a ratio, within the run. Shoal is measured with `send()` on both legs (never
 * awaited, as raw never waits for its sends: the targets are judged on it), with `send()` and every
 * end keyed (`sealed`: its p50 is also compared with the unsealed `send()` row's), and with
 * `publish()` (a promise per message), for information.
 */
import type { BenchContext } from '../context.js'
import { CpuWindow } from '../interference.js'
import type { LatencyVariant, PingReport, WorkerResult } from '../protocol.js'
import { GROUP, LOOPBACK } from '../samples.js'
import { UNSEALED } from '../sealed.js'
import { differences, ratios, type Spread, spread } from '../stats.js'

export interface LatencyRun extends Omit<PingReport, 'event' | 'cpuUs'> {
  run: number
  /** Cores other processes used during this measurement. */
  othersCores: number | undefined
}

export interface LatencyImplResult {
  impl: LatencyVariant
  runs: LatencyRun[]
  p50: Spread
  p99: Spread
  p999: Spread
  lost: Spread
  /** Per run: this p50 − raw's p50, µs. */
  p50Delta: Spread
  /** Per run: this p99 ÷ raw's p99. */
  p99Ratio: Spread
  /** Sealed only: per run, this p50 − the unsealed `send()` row's p50, µs. */
  p50VsUnsealed?: Spread
  /** Sealed only: per run, this p99 ÷ the unsealed `send()` row's p99. */
  p99VsUnsealed?: Spread
}

export interface LatencyResult {
  pings: number
  warmup: number
  /** `publish` and `sealed` are absent from results saved before they were measured. */
  impls: Record<'raw' | 'shoal', LatencyImplResult> & {
    publish?: LatencyImplResult
    sealed?: LatencyImplResult
  }
}

const TIMEOUT_MS = 100
const READY_MS = 10_000
/** Slowest average round trip allowed before the deadline, µs. */
const CEILING_US = 2_000

export async function measureLatency(
  ctx: BenchContext,
  variant: LatencyVariant,
  run: number,
  profile?: string,
): Promise<LatencyRun> {
  const warmup = Math.ceil(ctx.options.pings / 10)
  const deadlineMs = Math.max(30_000, ((ctx.options.pings + warmup) * CEILING_US) / 1000)
  const where = { group: GROUP, port: ctx.nextPort(), pongPort: ctx.nextPort(), iface: LOOPBACK, variant }
  const window = new CpuWindow()
  const pong = ctx.start(
    'pong',
    'receiver',
    { ...where, deadlineMs: deadlineMs + READY_MS },
    deadlineMs + 2 * READY_MS,
    profile === undefined ? undefined : `${profile}-pong`,
  )
  let ping: ReturnType<BenchContext['start']> | undefined
  try {
    await pong.waitFor('ready', READY_MS)
    ping = ctx.start(
      'ping',
      'sender',
      { ...where, pings: ctx.options.pings, warmup, timeoutMs: TIMEOUT_MS, deadlineMs },
      deadlineMs + READY_MS,
      profile === undefined ? undefined : `${profile}-ping`,
    )
    await ping.waitFor('ready', READY_MS)
    ping.write('go')
    const {
      event: _,
      cpuUs: pingUs = 0,
      ...report
    } = await ping.waitFor<PingReport>('result', deadlineMs + READY_MS)
    await ping.exit(READY_MS)
    pong.stop()
    const { cpuUs: pongUs = 0 } = await pong.waitFor<WorkerResult>('result', READY_MS)
    await pong.exit(READY_MS)
    return { run, ...report, othersCores: window.othersCores(pingUs + pongUs) }
  } finally {
    ping?.kill()
    pong.kill()
  }
}

export async function runLatency(ctx: BenchContext): Promise<LatencyResult> {
  const impls: readonly LatencyVariant[] = ['raw', 'shoal', 'sealed', 'publish']
  const runs: Record<LatencyVariant, LatencyRun[]> = { raw: [], shoal: [], sealed: [], publish: [] }
  for (let run = 0; run < ctx.options.runs; run++) {
    const order = run % 2 === 0 ? impls : [...impls].reverse()
    for (const impl of order) {
      const measured = await measureLatency(ctx, impl, run)
      runs[impl].push(measured)
      ctx.log(
        `latency run ${run + 1}/${ctx.options.runs} ${impl.padEnd(9)} p50 ${measured.p50Us.toFixed(1)} µs, ` +
          `p99 ${measured.p99Us.toFixed(1)} µs, p99.9 ${measured.p999Us.toFixed(1)} µs, lost ${measured.lost}`,
      )
    }
  }
  const raw = runs.raw
  const summarise = (impl: LatencyVariant): LatencyImplResult => {
    const list = runs[impl]
    const p50s = list.map((r) => r.p50Us)
    const p99s = list.map((r) => r.p99Us)
    const unsealed = runs[UNSEALED.latency]
    const result: LatencyImplResult = {
      impl,
      runs: list,
      p50: spread(p50s),
      p99: spread(p99s),
      p999: spread(list.map((r) => r.p999Us)),
      lost: spread(list.map((r) => r.lost)),
      p50Delta: spread(
        differences(
          p50s,
          raw.map((r) => r.p50Us),
        ),
      ),
      p99Ratio: spread(
        ratios(
          p99s,
          raw.map((r) => r.p99Us),
        ),
      ),
    }
    if (impl === 'sealed') {
      result.p50VsUnsealed = spread(
        differences(
          p50s,
          unsealed.map((r) => r.p50Us),
        ),
      )
      result.p99VsUnsealed = spread(
        ratios(
          p99s,
          unsealed.map((r) => r.p99Us),
        ),
      )
    }
    return result
  }
  return {
    pings: ctx.options.pings,
    warmup: Math.ceil(ctx.options.pings / 10),
    impls: {
      raw: summarise('raw'),
      shoal: summarise('shoal'),
      sealed: summarise('sealed'),
      publish: summarise('publish'),
    },
  }
}

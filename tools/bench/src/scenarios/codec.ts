/**
 * Scenario 4: the codec alone, no sockets. Each run is a fresh process (startLocalWorker) that
 * times every step (see ../workers/codec.ts); Shoal's rates are divided by protobufjs's of the
 * same run. The same process times the per-datagram crypto rows (../workers/crypto-rows.ts):
 * AES-256-GCM seal and open, Ed25519 sign and verify.
 */
import type { BenchContext } from '../context.js'
import { CpuWindow } from '../interference.js'
import type { CodecReport, CodecRow, CryptoMeasurement, CryptoOp } from '../protocol.js'
import { ratios, type Spread, spread } from '../stats.js'
import { startLocalWorker } from '../worker.js'

export const CODEC_ROWS: readonly CodecRow[] = [
  'pbEncode',
  'shoalEncode',
  'shoalFragment',
  'shoalEncodeInto',
  'shoalBatch',
  'pbDecode',
  'shoalDecode',
  'shoalBatchDecode',
]
/** The encode rows, each divided by protobufjs's encode; the decode rows by its decode. */
export const ENCODE_ROWS = ['shoalEncode', 'shoalFragment', 'shoalEncodeInto', 'shoalBatch'] as const
export const DECODE_ROWS = ['shoalDecode', 'shoalBatchDecode'] as const

/** A crypto row over the runs; `seal+open` and `sign+verify` are both steps of one datagram. */
export interface CryptoRowResult {
  op: CryptoOp | 'seal+open' | 'sign+verify'
  datagramBytes: number
  frameBytes: number
  /** Datagrams per second on one core. */
  perSecond: Spread
}

export interface CodecResult {
  messages: number
  messageBytes: number
  frameBytes: number
  framesPerBatch: number
  runs: Array<Record<CodecRow, number>>
  /** Per run: cores other processes used during it. */
  othersCores: Array<number | undefined>
  rates: Record<CodecRow, Spread>
  /** Per Shoal row: its rate ÷ protobufjs alone (encode or decode) in the same run. */
  ratios: Record<(typeof ENCODE_ROWS)[number] | (typeof DECODE_ROWS)[number], Spread>
  /** Per-datagram crypto; absent from results saved before it was measured. */
  crypto?: CryptoRowResult[]
  /** How long each crypto row was timed, ms. */
  cryptoMs?: number
}

const DEADLINE_MS = 120_000
/** How long each per-datagram crypto row is timed (10 rows: about 12 s a run with warm-up). */
export const CRYPTO_ROW_MS = 1_000
/** The same with `--quick`. */
export const QUICK_CRYPTO_ROW_MS = 250

const cryptoMs = (ctx: BenchContext) => (ctx.options.quick ? QUICK_CRYPTO_ROW_MS : CRYPTO_ROW_MS)

export async function measureCodec(
  ctx: BenchContext,
  profile?: string,
): Promise<CodecReport & { othersCores: number | undefined }> {
  const window = new CpuWindow()
  const options: Parameters<typeof startLocalWorker>[2] = { killAfterMs: DEADLINE_MS + 5_000 }
  if (profile !== undefined) options.profile = { dir: ctx.profileDir, name: `${profile}-codec` }
  const worker = startLocalWorker(
    'codec',
    {
      messages: ctx.options.codecMessages,
      warmup: Math.ceil(ctx.options.codecMessages / 5),
      cryptoMs: cryptoMs(ctx),
      deadlineMs: DEADLINE_MS,
    },
    options,
  )
  if (profile !== undefined) ctx.profiled.set(`${profile}-codec`, worker)
  try {
    const report = await worker.waitFor<CodecReport>('result', DEADLINE_MS)
    await worker.exit(5_000)
    return { ...report, othersCores: window.othersCores(report.cpuUs ?? 0) }
  } finally {
    worker.kill()
  }
}

export async function runCodec(ctx: BenchContext): Promise<CodecResult> {
  const runs: Array<Record<CodecRow, number>> = []
  const cryptoRuns: CryptoMeasurement[][] = []
  const othersCores: Array<number | undefined> = []
  let last: CodecReport | undefined
  for (let run = 0; run < ctx.options.runs; run++) {
    const measured = await measureCodec(ctx)
    last = measured
    runs.push(measured.rates)
    cryptoRuns.push(measured.crypto)
    othersCores.push(measured.othersCores)
    const m = (row: CodecRow) => `${(last!.rates[row] / 1e6).toFixed(2)} M`
    ctx.log(
      `codec  run ${run + 1}/${ctx.options.runs}  encode: protobufjs ${m('pbEncode')}, whole frame ${m('shoalEncode')}, ` +
        `fragmentMessage ${m('shoalFragment')}, into buffer ${m('shoalEncodeInto')}, batch ${m('shoalBatch')}; ` +
        `decode: protobufjs ${m('pbDecode')}, frame ${m('shoalDecode')}, batch ${m('shoalBatchDecode')} msgs/s; ` +
        `per datagram: ${measured.crypto.map((c) => `${c.op} ${c.datagramBytes} B ${(1e6 / c.perSecond).toFixed(1)} µs`).join(', ')}`,
    )
  }
  const column = (row: CodecRow) => runs.map((r) => r[row])
  return {
    messages: ctx.options.codecMessages,
    messageBytes: last?.messageBytes ?? 0,
    frameBytes: last?.frameBytes ?? 0,
    framesPerBatch: last?.framesPerBatch ?? 0,
    runs,
    othersCores,
    rates: Object.fromEntries(CODEC_ROWS.map((row) => [row, spread(column(row))])) as Record<
      CodecRow,
      Spread
    >,
    ratios: Object.fromEntries([
      ...ENCODE_ROWS.map((row) => [row, spread(ratios(column(row), column('pbEncode')))]),
      ...DECODE_ROWS.map((row) => [row, spread(ratios(column(row), column('pbDecode')))]),
    ]) as CodecResult['ratios'],
    crypto: summariseCrypto(cryptoRuns),
    cryptoMs: cryptoMs(ctx),
  }
}

/**
 * Every crypto row over the runs, and per datagram size both steps together (seal then open, sign
 * then verify: one datagram's cost at both ends), combined within each run.
 */
function summariseCrypto(runs: CryptoMeasurement[][]): CryptoRowResult[] {
  const first = runs[0] ?? []
  const rateOf = (run: CryptoMeasurement[], op: CryptoOp, bytes: number) =>
    run.find((m) => m.op === op && m.datagramBytes === bytes)?.perSecond ?? Number.NaN
  const out: CryptoRowResult[] = []
  for (const m of first) {
    const rates = runs.map((run) => rateOf(run, m.op, m.datagramBytes))
    out.push({ op: m.op, datagramBytes: m.datagramBytes, frameBytes: m.frameBytes, perSecond: spread(rates) })
    const pair = m.op === 'open' ? 'seal' : m.op === 'verify' ? 'sign' : undefined
    if (pair === undefined) continue
    const both = runs.map(
      (run) => 1 / (1 / rateOf(run, pair, m.datagramBytes) + 1 / rateOf(run, m.op, m.datagramBytes)),
    )
    out.push({
      op: pair === 'seal' ? 'seal+open' : 'sign+verify',
      datagramBytes: m.datagramBytes,
      frameBytes: m.frameBytes,
      perSecond: spread(both),
    })
  }
  return out
}

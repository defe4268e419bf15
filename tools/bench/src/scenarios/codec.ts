/**
 * Scenario 4: the codec alone, no sockets. Each run is a fresh process (startLocalWorker) that
 * times every step (see ../workers/codec.ts); Shoal's rates are divided by protobufjs's of the
 * same run.
 */
import type { BenchContext } from '../context.js'
import { CpuWindow } from '../interference.js'
import type { CodecReport, CodecRow } from '../protocol.js'
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
}

const DEADLINE_MS = 120_000

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
  const othersCores: Array<number | undefined> = []
  let last: CodecReport | undefined
  for (let run = 0; run < ctx.options.runs; run++) {
    const measured = await measureCodec(ctx)
    last = measured
    runs.push(measured.rates)
    othersCores.push(measured.othersCores)
    const m = (row: CodecRow) => `${(last!.rates[row] / 1e6).toFixed(2)} M`
    ctx.log(
      `codec  run ${run + 1}/${ctx.options.runs}  encode: protobufjs ${m('pbEncode')}, whole frame ${m('shoalEncode')}, ` +
        `fragmentMessage ${m('shoalFragment')}, into buffer ${m('shoalEncodeInto')}, batch ${m('shoalBatch')}; ` +
        `decode: protobufjs ${m('pbDecode')}, frame ${m('shoalDecode')}, batch ${m('shoalBatchDecode')} msgs/s`,
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
  }
}

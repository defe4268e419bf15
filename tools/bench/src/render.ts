/**
 * The results as Markdown: the terminal output and the report file are the same text. Tables are
 * padded so they line up in a terminal too.
 */
import { compact, fixed, int, mib, table, withSpread } from './format.js'
import { NOISY_CORES } from './interference.js'
import { describeNoise, type Noise, noiseOf } from './noise.js'
import type { ProfileSummary } from './profile.js'
import { EARLY_IMAGES } from './protocol.js'
import {
  ddsImageNote,
  ddsImageRow,
  ddsLatencyNote,
  ddsLatencyRow,
  ddsMemoryRows,
  ddsSmallNote,
  ddsSmallRow,
} from './render-dds.js'
import { natsSection } from './render-nats.js'
import { imageSealNote, latencySealNote, sealSection, smallSealNote } from './render-seal.js'
import type { BenchResults } from './results.js'
import type { ImageRun } from './scenarios/image.js'
import { type Spread, spread } from './stats.js'

/** Table order: each sealed row right under the unsealed row it is judged against. */
const SMALL_ROWS = ['raw', 'unbatched', 'publish', 'batched', 'sealed', 'paced'] as const
const IMAGE_ROWS = ['raw', 'shoal', 'sealed', 'paced'] as const

const cores = (c: number | undefined) => (c === undefined ? '?' : c.toFixed(2))

/** A line under a scenario's table naming the runs other processes competed with, or nothing. */
function noiseLine(results: BenchResults, scenario: Noise['scenario']): string[] {
  const text = describeNoise(noiseOf(results).find((n) => n.scenario === scenario))
  return text === '' ? [] : ['', `⚠ During these measurements ${text}: those runs are noisy.`]
}

const ratio = (s: Spread | undefined) => (s === undefined ? '—' : withSpread(s, (n) => `${n.toFixed(2)}×`))
const pct = (part: number, whole: number) =>
  whole > 0 ? `${((part / whole) * 100).toFixed(part / whole < 0.01 ? 2 : 1)} %` : ''

function lossCell(loss: Spread, of: number): string {
  if (!Number.isFinite(loss.median)) return '—'
  const text = withSpread(loss, int)
  return loss.median > 0 ? `${text} (${pct(loss.median, of)})` : text
}

/** Row names of the small-frame variants, shared with the chart's notes. */
export function smallVariantName(
  variant: keyof NonNullable<BenchResults['small']>['variants'],
  rate: number,
): string {
  switch (variant) {
    case 'raw':
      return 'raw dgram'
    case 'unbatched':
      return 'Shoal unbatched (`send`)'
    case 'publish':
      return 'Shoal unbatched (`await publish`), for information'
    case 'batched':
      return 'Shoal batched (`send`), as fast as possible'
    case 'paced':
      return `Shoal batched (\`send\`), offered ${compact(rate)} frames/s`
    case 'sealed':
      return 'Shoal batched (`send`), sealed (encrypt)'
  }
}

/**
 * Whether a paced row ran at its stated rate, said under its table: above the cap, the pacing did
 * not hold it; well below it, either the pacing held the sender back (the unpaced row shows it can
 * go faster) or the sender cannot reach the cap at all (then the cap never bound).
 */
function capNote(
  who: string,
  offered: number,
  cap: number,
  unpaced: number,
  unit: string,
  how: string,
): string[] {
  if (!Number.isFinite(offered) || offered <= 0) return []
  const at = `${who} offered ${compact(offered)} ${unit} against a cap of ${compact(cap)}`
  if (offered > cap * 1.02) return ['', `⚠ ${at}: ${how} did not hold the rate.`]
  if (offered >= cap * 0.95) return ['', `${at}: ${how} held the rate.`]
  if (Number.isFinite(unpaced) && unpaced > cap)
    return [
      '',
      `⚠ ${at}, while unpaced it offers ${compact(unpaced)}: ${how} held it ${((1 - offered / cap) * 100).toFixed(0)} % below its cap.`,
    ]
  return [
    '',
    `${at}, and unpaced it offers only ${compact(unpaced)}: the sender cannot reach the cap, so the cap never bound ` +
      'and this row measures what the unpaced one does.',
  ]
}

/** The Shoal rows with the Cyclone DDS row under them; either may be missing (`--only`). */
function smallSection(results: BenchResults): string {
  const { small: r, dds } = results
  const rows: string[][] = []
  for (const v of SMALL_ROWS) {
    if (r === undefined) break
    const x = r.variants[v]
    if (x === undefined) continue
    const name = smallVariantName(v, r.batchedRate)
    if (!x.available) {
      rows.push([name, x.reason ?? 'not available', '', '', '', '', '', ''])
      continue
    }
    const runs = x.runs
    rows.push([
      name,
      withSpread(x.rate, compact),
      v === 'raw' ? '1.00×' : ratio(x.ratio),
      lossCell(x.loss, x.frames),
      x.gaps === undefined ? '—' : withSpread(x.gaps, int),
      compact(spread(runs.map((run) => run.sendRate)).median),
      int(spread(runs.map((run) => run.datagrams)).median),
      int(spread(runs.map((run) => run.rcvbufErrors)).median),
    ])
  }
  if (dds !== undefined) rows.push(ddsSmallRow(dds, r?.variants.raw.rate.median))
  const linger = r?.lingerMs === undefined ? "the transport's default linger" : `linger ${r.lingerMs} ms`
  return [
    '## 1 · Small frames',
    '',
    r === undefined
      ? "Shoal's rows were not measured in this run (`--only`)."
      : `shoal.v1.Temperature, **${r.messageBytes} B encoded**; one unbatched Shoal datagram is ${r.datagramBytes} B (topic \`temperature\`). ` +
        `Per run: raw and both unbatched rows send ${int(r.variants.raw.frames)} frames, both batched rows ${int(r.variants.batched.frames)} (${linger}). ` +
        'Raw, `send` and batched-as-fast-as-possible run the same loop: 8,192 frames back to back, then a `setImmediate` yield; ' +
        "raw has no back-pressure, Shoal's rows are flow-controlled by their receiver (a send held back waits for `ready()`). " +
        `The paced row offers ${compact(r.batchedRate)} frames/s: each loop turn sends the frames due by the clock, then yields. ` +
        "Loss = sent − delivered; gaps = what Shoal's subscriber counted. " +
        `Receive buffer ${mib(r.recvBufferBytes)} (granted).`,
    '',
    table(
      [
        'variant',
        'delivered frames/s',
        '× raw',
        'loss (sent − delivered)',
        'gaps (Shoal)',
        'offered frames/s',
        'datagrams',
        'kernel drops',
      ],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    ...(r === undefined
      ? []
      : [
          '',
          'The batched target (≥ 1 M frames/s delivered with 0 loss) is judged on the paced row (a fleet of sensors offers a rate); ' +
            "the as-fast-as-possible row shows the receiver's ceiling, where flow control holds the sender to what the receiver takes. " +
            'The issue\'s "≥ 7× raw" is judged on the as-fast-as-possible row, which like raw shows what the path can carry. ' +
            'The unbatched target is judged on `send`, the loop raw runs; `await publish` per frame is shown for information.',
          ...smallSealNote(r),
          ...(r.variants.paced.available
            ? capNote(
                'The paced sender',
                spread(r.variants.paced.runs.map((run) => run.sendRate)).median,
                r.batchedRate,
                spread(r.variants.batched.runs.map((run) => run.sendRate)).median,
                'frames/s',
                'the pacing loop',
              )
            : []),
        ]),
    ...(dds === undefined ? [] : ['', ddsSmallNote(dds)]),
  ].join('\n')
}

/** Row names of the image variants. */
export function imageVariantName(
  variant: keyof NonNullable<BenchResults['image']>['variants'],
  bytesPerSecond: number,
): string {
  switch (variant) {
    case 'raw':
      return 'raw dgram'
    case 'shoal':
      return 'Shoal (`publish`), unpaced'
    case 'paced':
      return `Shoal (\`publish\`), \`pacing.bytesPerSecond\` ${int(bytesPerSecond / 1e6)} MB/s`
    case 'sealed':
      return 'Shoal (`publish`), unpaced, sealed (encrypt)'
  }
}

/** Median NACKs sent, fragments resent and fragments repaired; a dash for raw. */
function repairCell(runs: ReadonlyArray<Pick<ImageRun, 'nacks' | 'resent' | 'repaired'>>): string {
  if (runs.every((run) => run.nacks === undefined)) return '—'
  const median = (pick: (run: (typeof runs)[number]) => number | undefined) =>
    int(spread(runs.map((run) => pick(run) ?? 0)).median)
  return `${median((r) => r.nacks)} · ${median((r) => r.resent)} · ${median((r) => r.repaired)}`
}

/** The Shoal rows with the Cyclone DDS row under them; either may be missing (`--only`). */
function imageSection(results: BenchResults): string {
  const { image: r, dds } = results
  const present = IMAGE_ROWS.filter((v) => r?.variants[v] !== undefined)
  const rows = (r === undefined ? [] : present).map((variant) => {
    const x = r!.variants[variant]!
    return [
      imageVariantName(variant, r!.pacedBytesPerSecond),
      withSpread(x.goodput, fixed(0)),
      variant === 'raw' ? '1.00×' : ratio(x.ratio),
      lossCell(x.lost, r!.frames),
      withSpread(x.lostEarly, int),
      x.gaps === undefined ? '—' : withSpread(x.gaps, int),
      fixed(0)(spread(x.runs.map((run) => run.sendRate)).median),
      String(r!.datagramsPerImage[variant] ?? '—'),
      int(spread(x.runs.map((run) => run.rcvbufErrors)).median),
      repairCell(x.runs),
    ]
  })
  if (dds !== undefined) rows.push(ddsImageRow(dds, r?.variants.raw.goodput.median))
  return [
    '## 2 · 1 MiB images',
    '',
    r === undefined
      ? "Shoal's rows were not measured in this run (`--only`)."
      : `shoal.v1.Image 512×512 rgba8: ${int(r.dataBytes)} B of pixels, ${int(r.encodedBytes)} B encoded. ${int(r.frames)} images per run, ` +
        'each sent when the previous one is with the kernel. Goodput = whole images delivered × 1 MiB ÷ time from the first to the last (MB = 10⁶ B). ' +
        'Raw sends the pixels as 17 datagrams of ≤ 65,507 B with an 8-byte header and reassembles them. ' +
        `The paced row is the same publisher created with \`pacing: { bytesPerSecond: ${int(r.pacedBytesPerSecond)} }\` (the default burst).`,
    '',
    table(
      [
        'variant',
        'goodput MB/s',
        '× raw',
        'images lost',
        `of them in the first ${EARLY_IMAGES}`,
        'gaps (Shoal)',
        'offered MB/s',
        'datagrams/image',
        'kernel drops',
        'NACKs · fragments resent · repaired',
      ],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    ...(r === undefined
      ? []
      : [
          '',
          'The image target (≥ 1,000 MB/s goodput with 0 images lost) is judged on the paced row, over every image of every run. ' +
            `Loss among the first ${EARLY_IMAGES}, while a fresh receiving process is slowed down by faulting in new memory, has its own column. ` +
            'Kernel drops are datagrams the receive buffer overflowed with; Shoal’s receiver asks for their fragments again (NACK) and the ' +
            'publisher resends them (WIRE.md “Repair”): the last column gives the medians of NACKs sent, fragments resent and fragments that ' +
            'arrived after being asked for.',
          ...capNote(
            'The paced publisher',
            spread(r.variants.paced.runs.map((run) => run.sendRate)).median,
            r.pacedBytesPerSecond / 1e6,
            spread(r.variants.shoal.runs.map((run) => run.sendRate)).median,
            'MB/s',
            '`pacing.bytesPerSecond`',
          ),
          ...imageSealNote(r),
        ]),
    ...(dds === undefined ? [] : ['', ddsImageNote(dds)]),
  ].join('\n')
}

/** The Shoal rows with the Cyclone DDS row under them; either may be missing (`--only`). */
function latencySection(results: BenchResults): string {
  const { latency: r, dds } = results
  const us = fixed(1)
  const names = {
    raw: 'raw dgram',
    shoal: 'Shoal (`send`)',
    sealed: 'Shoal (`send`), sealed (encrypt)',
    publish: 'Shoal (`publish`), for information',
  }
  const variants = (['raw', 'shoal', 'sealed', 'publish'] as const).filter((v) => r?.impls[v] !== undefined)
  const rows = variants.map((impl) => {
    const x = r!.impls[impl]!
    return [
      names[impl],
      withSpread(x.p50, us),
      withSpread(x.p99, us),
      withSpread(x.p999, us),
      impl === 'raw' ? '—' : withSpread(x.p50Delta, (n) => `${n >= 0 ? '+' : ''}${n.toFixed(1)}`),
      impl === 'raw' ? '—' : ratio(x.p99Ratio),
      withSpread(x.lost, int),
    ]
  })
  if (dds !== undefined) {
    const raw = r?.impls.raw
    rows.push(
      ddsLatencyRow(dds, raw === undefined ? undefined : { p50: raw.p50.median, p99: raw.p99.median }),
    )
  }
  return [
    '## 3 · Latency',
    '',
    r === undefined
      ? "Round trip in µs. Shoal's rows were not measured in this run (`--only`)."
      : `Round trip in µs: a ping by multicast, the pong back by unicast, one at a time; ${int(r.pings)} timed per run after ${int(r.warmup)} warm-up. ` +
        'Shoal encodes, frames, checks and decodes on both legs; raw echoes 49 bytes. ' +
        'Raw sends with `socket.send()` and never waits for it; so does Shoal with `publisher.send()`, the row the targets are judged on. ' +
        'The `publish` row sends with `publisher.publish()`, a promise per message, on both legs. ' +
        'The sealed row is the `send` row with every publisher and subscriber keyed (AES-256-GCM, mode `encrypt`).',
    '',
    table(['variant', 'p50', 'p99', 'p99.9', 'p50 − raw', 'p99 ÷ raw', 'lost'], rows, [
      'l',
      'r',
      'r',
      'r',
      'r',
      'r',
      'r',
    ]),
    ...(r === undefined ? [] : latencySealNote(r)),
    ...(dds === undefined ? [] : ['', ddsLatencyNote(dds)]),
  ].join('\n')
}

function codecSection(r: NonNullable<BenchResults['codec']>): string {
  const m = (s: Spread) => withSpread(s, compact)
  const row = (step: string, pb: Spread, shoal: Spread, vs: Spread) => [step, m(pb), m(shoal), ratio(vs)]
  const enc = r.rates.pbEncode
  const dec = r.rates.pbDecode
  return [
    '## 4 · Codec',
    '',
    `Messages/s on one core, no sockets, ${int(r.messages)} messages per measurement; ${r.messageBytes} B message, ${r.frameBytes} B frame, ` +
      `${int(r.framesPerBatch)} frames in a batch datagram of 65,507 B.`,
    '',
    table(
      ['step', 'protobufjs alone', 'Shoal', 'Shoal ÷ protobufjs'],
      [
        row(
          'encode + frame, batched (`BatchBuilder.appendMessage`, in place; `finish` and its one CRC per batch included)',
          enc,
          r.rates.shoalBatch,
          r.ratios.shoalBatch,
        ),
        row(
          'encode + frame, one frame (`FrameSlab.encodeFrame`, in place: `send`/`publish` of a small message)',
          enc,
          r.rates.shoalEncode,
          r.ratios.shoalEncode,
        ),
        row(
          'encode + frame, one frame (`fragmentMessage`: copies `fragmentParts` into whole frames; `publish` no longer calls it)',
          enc,
          r.rates.shoalFragment,
          r.ratios.shoalFragment,
        ),
        row(
          'encode + frame, one frame (encode, then `encodeFrameInto` a reused buffer)',
          enc,
          r.rates.shoalEncodeInto,
          r.ratios.shoalEncodeInto,
        ),
        row(
          'deframe + decode, batched (one `decodeFrame` per batch, `forEachInnerFrame`)',
          dec,
          r.rates.shoalBatchDecode,
          r.ratios.shoalBatchDecode,
        ),
        row(
          'deframe + decode, one frame (`decodeFrame`, CRC checked)',
          dec,
          r.rates.shoalDecode,
          r.ratios.shoalDecode,
        ),
      ],
      ['l', 'r', 'r', 'r'],
    ),
    '',
    'The codec targets (≥ 2.5 M msgs/s each way) are judged on the batched rows: at the rates the targets are about, small ' +
      'frames go through a batch. The one-frame rows are what an unbatched publisher and its subscriber pay per message.',
  ].join('\n')
}

function memorySection(results: BenchResults): string {
  const rows: string[][] = []
  const m = (s: Spread) => withSpread(s, (n) => (n / 2 ** 20).toFixed(0))
  if (results.small) {
    const r = results.small
    for (const v of SMALL_ROWS) {
      const x = r.variants[v]
      if (x === undefined) continue
      rows.push([
        'small frames',
        smallVariantName(v, r.batchedRate),
        x.available ? m(x.receiverPeakRss) : 'n/a',
        x.available ? m(spread(x.runs.map((run) => run.receiverReadyRss))) : 'n/a',
      ])
    }
  }
  const dds = results.dds === undefined ? undefined : ddsMemoryRows(results.dds)
  if (dds) rows.push(dds.small)
  if (results.image) {
    const r = results.image
    for (const v of IMAGE_ROWS) {
      const x = r.variants[v]
      if (x === undefined) continue
      rows.push([
        '1 MiB images',
        imageVariantName(v, r.pacedBytesPerSecond),
        m(x.receiverPeakRss),
        m(spread(x.runs.map((run) => run.receiverReadyRss))),
      ])
    }
  }
  if (dds) rows.push(dds.image)
  return [
    '## 5 · Receiver memory',
    '',
    'Peak RSS (VmHWM from /proc/self/status) of the receiving process, MiB, at the end of each measurement above, and its RSS ' +
      'once the socket was open, before any traffic.',
    '',
    table(['during', 'variant', 'peak RSS', 'RSS before traffic'], rows, ['l', 'l', 'r', 'r']),
    ...(results.dds === undefined
      ? []
      : [
          '',
          "Cyclone DDS rows: ddsperf's subscriber, read from /proc just before it was stopped; it is a C program, no runtime.",
        ]),
  ].join('\n')
}

function targetsSection(results: BenchResults): string {
  const rows = results.targets.map((t) => [
    t.met === undefined ? '– not measured' : t.met ? '✓ met' : '✗ missed',
    t.target,
    t.measured,
  ])
  const parts = ['## Targets', '', table(['', 'target', 'measured (medians)'], rows, ['l', 'l', 'l'])]
  if (results.options.quick)
    parts.push(
      '',
      '`--quick` is a smoke run: its counts are too small, and its processes too cold, to judge the targets by ' +
        '(3,000 pings make p99 the 30th slowest round trip, set by start-up GCs and compilation; the same holds for raw). ' +
        'Judge them on a run without `--quick`.',
    )
  return parts.join('\n')
}

export function profileSection(profiles: readonly ProfileSummary[]): string {
  if (profiles.length === 0) return ''
  const parts = [
    '## Profiles',
    '',
    'CPU profiles (`node --cpu-prof`) of one extra run of each Shoal measurement that missed a target, from the moment the ' +
      "process was ready (start-up left out). Self time as a share of the process's busy (non-idle) time; `native` is V8, libuv " +
      'and the system calls under them (sendmsg/recvmsg, epoll).',
  ]
  for (const p of profiles) {
    parts.push(
      '',
      `### ${p.target} · ${p.process} (${(p.totalMs / 1000).toFixed(1)} s sampled${p.fromReady ? '' : ' including start-up'}, ${p.idlePct.toFixed(0)} % idle)`,
      '',
      `By area: ${p.areas
        .filter((a) => a.pct >= 1)
        .map((a) => `${a.area} ${a.pct.toFixed(0)} %`)
        .join(', ')}`,
      '',
      table(
        ['self %', 'function', 'where'],
        p.top
          .filter((f) => f.selfPct >= 0.5)
          .map((f) => [f.selfPct.toFixed(1), `\`${f.fn}\``, f.where || f.area]),
        ['r', 'l', 'l'],
      ),
    )
  }
  return parts.join('\n')
}

export interface ReportOptions {
  /** Link to the chart image, or none. */
  chartHref?: string
  /** Level of the scenario headings (2: `##`); the title is one above. */
  level?: number
  title?: boolean
  profiles?: boolean
}

/** The whole report; `level` shifts every heading, for embedding in another document. */
export function renderReport(results: BenchResults, options: ReportOptions = {}): string {
  const { chartHref, level = 2, title = true, profiles = true } = options
  const env = results.environment
  const o = results.options
  const parts: string[] = []
  if (title) parts.push(`${'#'.repeat(level - 1)} Shoal bench results`, '')
  parts.push(
    `${results.startedAt.replace('T', ' ').slice(0, 19)} UTC, ${results.durationS.toFixed(0)} s · node ${env.node} · linux ${env.kernel} · ` +
      `${env.cpus} × ${env.cpuModel} · net.core.rmem_max ${env.rmemMax === undefined ? '?' : mib(env.rmemMax)} · ` +
      `commit ${env.commit ?? '?'}${env.dirty ? ' + uncommitted changes in packages/' : ''}`,
    '',
    (env.namespace === undefined
      ? 'No socket was opened (codec only). '
      : `Every socket on loopback inside the private namespace \`${env.namespace}\` (it holds only \`lo\`); ` +
        `sender and receiver are separate processes${o.pin ? ', pinned to CPU 0 and CPU 1' : ''}. `) +
      `${o.runs} run${o.runs === 1 ? '' : 's'} of everything${o.quick ? ' (--quick counts)' : ''}: each cell is the median [min–max]; ` +
      'ratios are taken within each run, then the median of those.',
  )
  const noise = noiseOf(results)
  const touched = noise.filter((n) => n.runs.length > 0)
  const probes = [env.othersCores.start, env.othersCores.end]
  if (touched.length > 0 || probes.some((c) => c !== undefined && c >= NOISY_CORES))
    parts.push(
      '',
      '> **Warning:** other processes competed with the sender and the receiver for the CPUs' +
        (touched.length > 0
          ? `: ${touched.map((n) => `${n.scenario}: ${describeNoise(n)}`).join('; ')}`
          : '') +
        `. Before the first measurement they used ${cores(probes[0])} cores, after the last ${cores(probes[1])}. ` +
        'Those runs are noisy; the min–max shows by how much.',
    )
  if (chartHref !== undefined) parts.push('', `![chart](${chartHref})`)
  // The Cyclone DDS peer has a row in each of the first three tables (and its own noise line under the first).
  const dds = results.dds !== undefined
  if (results.small || dds)
    parts.push('', smallSection(results), ...noiseLine(results, 'small'), ...noiseLine(results, 'dds'))
  if (results.image || dds) parts.push('', imageSection(results), ...noiseLine(results, 'image'))
  if (results.latency || dds) parts.push('', latencySection(results), ...noiseLine(results, 'latency'))
  if (results.codec) parts.push('', codecSection(results.codec), ...noiseLine(results, 'codec'))
  if (results.nats) parts.push('', natsSection(results.nats))
  if (results.small || results.image || dds) parts.push('', memorySection(results))
  const seal = sealSection(results)
  if (seal !== '') parts.push('', seal)
  parts.push('', targetsSection(results))
  const profileText = profiles ? profileSection(results.profiles) : ''
  if (profileText !== '') parts.push('', profileText)
  parts.push(
    '',
    `Reproduce: \`pnpm bench${results.argv.length > 0 ? ` -- ${results.argv.join(' ')}` : ''}\``,
    '',
  )
  const shift = '#'.repeat(level - 2)
  return parts.join('\n').replace(/^(#{2,}) /gm, (_, hashes: string) => `${hashes}${shift} `)
}

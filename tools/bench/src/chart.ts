/**
 * The results as one SVG a person can look at: a panel per scenario with the median as a bar, the
 * min–max of the runs as a whisker and the target as a dashed line, plus a panel listing the
 * targets met and missed. Hand-written SVG, no dependencies.
 */
import { compact } from './format.js'
import { noiseOf } from './noise.js'
import type { BenchResults } from './results.js'
import { SEAL_TARGETS, UNSEALED } from './sealed.js'
import { type Spread, scaled, spread } from './stats.js'

export const COLORS = {
  raw: '#9e9e9e',
  shoal: '#3b75af',
  shoalLight: '#7fa8d1',
  batched: '#ef8636',
  paced: '#b5520f',
  protobufjs: '#6aa56a',
  shoalInto: '#9cc3e6',
  cyclone: '#8e6bb8',
  sealed: '#1f4e79',
  target: '#d62728',
  missed: '#d62728',
  met: '#2ca02c',
} as const

interface Bar {
  label: string
  value: Spread | undefined
  color: string
  note?: string
  noteColor?: string
}

interface Group {
  label: string
  bars: Bar[]
}

interface Target {
  value: number
  label: string
  /** Draw the line over this group only (index in `groups`); default the whole plot. */
  group?: number
}

interface Panel {
  title: string
  unit: string
  groups: Group[]
  /** Dashed target lines; their labels are listed under the unit. */
  targets?: Target[]
  /** Logarithmic value axis (latency, where p99.9 would flatten p50). */
  log?: boolean
  /** Grid columns the panel takes (1–3); default 1. */
  span?: number
}

const PANEL_W = 400
const PANEL_H = 330
const HEADER_H = 64
const FOOTER_H = 26
const COLS = 3
const PLOT = { left: 58, right: 14, top: 66, bottom: 62 }
/** Line height of the target labels at a panel's top right. */
const TARGET_LABEL_H = 14
/** Bars at most this wide; labels are laid out to fit them. */
const MAX_BAR_W = 84

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s)
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`
}

/** A round axis maximum at or above `v` whose fifths are round too: 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^k. */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1
  const exp = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * exp >= v) return m * exp
  return 10 * exp
}

function panel(p: Panel, x0: number, y0: number): string {
  const width = PANEL_W * (p.span ?? 1)
  const out: string[] = [`<g transform="translate(${x0},${y0})">`]
  out.push(
    `<rect x="4" y="4" width="${width - 8}" height="${PANEL_H - 8}" rx="6" fill="#fff" stroke="#ddd"/>`,
  )
  out.push(text(16, 26, p.title, 'font-size="14" font-weight="600"'))
  out.push(text(16, 43, p.unit, 'font-size="11" fill="#666"'))
  const targets = p.targets ?? []
  // Target labels right-aligned, one a line from the unit's line down; the plot starts below them.
  for (const [i, t] of targets.entries())
    out.push(
      text(
        width - 16,
        43 + TARGET_LABEL_H * i,
        `- - ${t.label}`,
        `font-size="11" fill="${COLORS.target}" text-anchor="end"`,
      ),
    )
  const plotW = width - PLOT.left - PLOT.right
  // Two target labels fit beside the plot's top; each one more pushes the plot down a line.
  const top = PLOT.top + TARGET_LABEL_H * Math.max(0, targets.length - 2)
  const plotH = PANEL_H - top - PLOT.bottom
  const bottom = top + plotH
  const values: number[] = []
  for (const g of p.groups)
    for (const b of g.bars)
      if (b.value !== undefined && Number.isFinite(b.value.max)) values.push(b.value.max, b.value.min)
  for (const t of targets) values.push(t.value)
  let y: (v: number) => number
  if (p.log) {
    const positive = values.filter((v) => v > 0)
    const lo = 10 ** Math.floor(Math.log10(Math.min(...positive, 10)))
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...positive, lo * 10) * 1.15))
    const span = Math.log10(hi) - Math.log10(lo)
    y = (v: number) => bottom - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / span) * plotH
    for (let decade = lo; decade <= hi; decade *= 10) {
      for (const m of [1, 2, 5]) {
        const v = decade * m
        if (v > hi) break
        const major = m === 1
        out.push(
          `<line x1="${PLOT.left}" x2="${PLOT.left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${v === lo ? '#999' : major ? '#e4e4e4' : '#f3f3f3'}"/>`,
        )
        out.push(
          text(
            PLOT.left - 6,
            y(v) + 4,
            compact(v),
            `font-size="10" fill="${major ? '#666' : '#aaa'}" text-anchor="end"`,
          ),
        )
      }
    }
  } else {
    const max = niceMax(Math.max(0, ...values) * 1.12)
    y = (v: number) => bottom - (Math.max(0, v) / max) * plotH
    for (let i = 0; i <= 5; i++) {
      const v = (max / 5) * i
      out.push(
        `<line x1="${PLOT.left}" x2="${PLOT.left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${i === 0 ? '#999' : '#eee'}"/>`,
      )
      out.push(text(PLOT.left - 6, y(v) + 4, compact(v), 'font-size="10" fill="#666" text-anchor="end"'))
    }
  }
  // Groups get room in proportion to their bars, so every bar has the same width.
  const totalBars = p.groups.reduce((n, g) => n + Math.max(1, g.bars.length), 0)
  const gap = p.groups.length > 1 ? 24 : 0
  const barW = Math.min(MAX_BAR_W, (plotW - gap * (p.groups.length - 1)) / Math.max(1, totalBars))
  const used = barW * totalBars + gap * (p.groups.length - 1)
  let gx = PLOT.left + (plotW - used) / 2
  const spans: Array<[number, number]> = []
  p.groups.forEach((g) => {
    const n = Math.max(1, g.bars.length)
    const groupLeft = gx
    g.bars.forEach((b, bi) => {
      const bx = groupLeft + bi * barW
      const cx = bx + barW / 2
      const v = b.value
      if (v === undefined || !Number.isFinite(v.median)) {
        out.push(text(cx, bottom - 6, 'n/a', 'font-size="10" fill="#999" text-anchor="middle"'))
      } else {
        const h = bottom - y(v.median)
        out.push(
          `<rect x="${(bx + 3).toFixed(1)}" y="${y(v.median).toFixed(1)}" width="${(barW - 6).toFixed(1)}" height="${h.toFixed(1)}" fill="${b.color}"/>`,
        )
        if (v.values.length > 1 && v.max > v.min) {
          const w = Math.min(8, barW / 4)
          out.push(
            `<path d="M${cx} ${y(v.min).toFixed(1)}V${y(v.max).toFixed(1)}M${cx - w} ${y(v.min).toFixed(1)}H${cx + w}M${cx - w} ${y(v.max).toFixed(1)}H${cx + w}" stroke="#333" stroke-width="1"/>`,
          )
        }
        out.push(
          text(
            cx,
            Math.min(y(v.max), y(v.median)) - 4,
            compact(v.median),
            // A white halo keeps the value readable where a target line crosses it.
            'font-size="10" text-anchor="middle" paint-order="stroke" stroke="#fff" stroke-width="3"',
          ),
        )
      }
      out.push(text(cx, bottom + 13, b.label, 'font-size="10" fill="#333" text-anchor="middle"'))
      if (b.note)
        out.push(
          text(cx, bottom + 25, b.note, `font-size="9" fill="${b.noteColor ?? '#666'}" text-anchor="middle"`),
        )
    })
    spans.push([groupLeft, groupLeft + n * barW])
    if (p.groups.length > 1 && g.label !== '')
      out.push(
        text(
          groupLeft + (n * barW) / 2,
          bottom + 42,
          g.label,
          'font-size="11" font-weight="600" text-anchor="middle"',
        ),
      )
    gx += n * barW + gap
  })
  for (const t of targets) {
    const ty = y(t.value).toFixed(1)
    const [x1, x2] = t.group === undefined ? [PLOT.left, PLOT.left + plotW] : spans[t.group]!
    out.push(
      `<line x1="${x1.toFixed(1)}" x2="${x2.toFixed(1)}" y1="${ty}" y2="${ty}" stroke="${COLORS.target}" stroke-dasharray="5 4"/>`,
    )
  }
  out.push('</g>')
  return out.join('\n')
}

const TARGET_LINE_H = 34
/** Closest the targets may be packed (two lines of text) when there are more than fit at TARGET_LINE_H. */
const MIN_TARGET_LINE_H = 25
const TARGETS_TOP = 52

/** The targets panel is a panel high, or taller when its targets do not fit one packed closest. */
function targetsHeight(results: BenchResults): number {
  return Math.max(PANEL_H, TARGETS_TOP + results.targets.length * MIN_TARGET_LINE_H + 8)
}

function targetsPanel(results: BenchResults, x0: number, y0: number, span: number): string {
  const width = PANEL_W * span
  const height = targetsHeight(results)
  const out: string[] = [`<g transform="translate(${x0},${y0})">`]
  out.push(`<rect x="4" y="4" width="${width - 8}" height="${height - 8}" rx="6" fill="#fff" stroke="#ddd"/>`)
  out.push(text(16, 26, 'Targets', 'font-size="14" font-weight="600"'))
  // About 5.6 px per character at 10.5 px, 5.1 at 9.5 px.
  const room = (px: number) => Math.floor((width - 48) / px)
  let y = TARGETS_TOP
  const lineH = Math.max(
    MIN_TARGET_LINE_H,
    Math.min(TARGET_LINE_H, (height - TARGETS_TOP - 8) / Math.max(1, results.targets.length)),
  )
  for (const t of results.targets) {
    const [mark, color] =
      t.met === undefined ? ['–', '#999'] : t.met ? ['✓', COLORS.met] : ['✗', COLORS.missed]
    out.push(text(16, y, mark, `font-size="13" font-weight="700" fill="${color}"`))
    out.push(text(32, y, clip(t.target, room(5.6)), 'font-size="10.5"'))
    out.push(text(32, y + 13, clip(t.measured, room(5.1)), 'font-size="9.5" fill="#555"'))
    y += lineH
  }
  out.push('</g>')
  return out.join('\n')
}

const lossNote = (loss: Spread | undefined, of: number): Pick<Bar, 'note' | 'noteColor'> => {
  if (loss === undefined || !Number.isFinite(loss.median)) return {}
  if (loss.max === 0) return { note: 'no loss', noteColor: COLORS.met }
  if (loss.median === 0) {
    const lossy = loss.values.filter((v) => v > 0).length
    return { note: `loss in ${lossy} of ${loss.values.length} runs`, noteColor: COLORS.missed }
  }
  return {
    note: `loss ${((loss.median / of) * 100).toFixed(loss.median / of < 0.01 ? 2 : 0)}%`,
    noteColor: COLORS.missed,
  }
}

export function renderChart(results: BenchResults): string {
  const panels: Panel[] = []
  const { small, image, latency, codec, dds } = results
  const sealedTarget = (unsealed: number) =>
    Number.isFinite(unsealed)
      ? [{ value: SEAL_TARGETS.minRatio * unsealed, label: `sealed: ≥ ${SEAL_TARGETS.minRatio}× unsealed` }]
      : []
  // The Cyclone DDS peer: a bar beside Shoal's where its panel exists, a panel of its own otherwise.
  const cycloneSmall: Bar | undefined = dds && {
    label: 'Cyclone DDS',
    value: dds.small.rate,
    color: COLORS.cyclone,
    ...lossNote(dds.small.lost, spread(dds.small.runs.map((r) => r.delivered)).median),
  }
  const cycloneImage: Bar | undefined = dds && {
    label: 'Cyclone DDS',
    value: scaled(dds.image.bytesPerSecond, 1e-6),
    color: COLORS.cyclone,
    ...lossNote(dds.image.lost, spread(dds.image.runs.map((r) => r.delivered)).median),
  }
  if (small) {
    const v = small.variants
    const bar = (variant: keyof typeof v, label: string, color: string): Bar => {
      const x = v[variant]
      if (x === undefined) return { label, value: undefined, color, note: 'not measured' }
      return {
        label,
        value: x.available ? x.rate : undefined,
        color,
        ...(x.available ? lossNote(x.loss, x.frames) : { note: 'not available' }),
      }
    }
    const rawRate = v.raw.rate.median
    panels.push({
      title: 'Small frames, unbatched',
      unit: `frames/s delivered (${small.messageBytes} B)`,
      groups: [
        {
          label: '',
          bars: [
            bar('raw', 'raw dgram', COLORS.raw),
            bar('unbatched', 'send()', COLORS.shoal),
            bar('publish', 'await publish()', COLORS.shoalLight),
          ],
        },
      ],
      ...(Number.isFinite(rawRate)
        ? { targets: [{ value: 0.85 * rawRate, label: 'send() ≥ 0.85× raw' }] }
        : {}),
    })
    // One bar per group, so each target line is drawn over the bar it is judged on.
    const sealed = v.sealed !== undefined
    panels.push({
      title: 'Small frames, batched',
      unit: `frames/s delivered (${small.messageBytes} B)`,
      groups: [
        { label: '', bars: [bar('batched', 'as fast as possible', COLORS.batched)] },
        { label: '', bars: [bar('paced', `offered ${compact(small.batchedRate)}/s`, COLORS.paced)] },
        ...(sealed ? [{ label: '', bars: [bar('sealed', 'fastest, sealed', COLORS.sealed)] }] : []),
        ...(cycloneSmall ? [{ label: '', bars: [cycloneSmall] }] : []),
      ],
      targets: [
        { value: 1_000_000, label: 'offered: ≥ 1 M/s, 0 loss', group: 1 },
        ...(Number.isFinite(rawRate) ? [{ value: 7 * rawRate, label: 'fastest: ≥ 7× raw', group: 0 }] : []),
        ...(sealed ? sealedTarget(v[UNSEALED.small].rate.median).map((t) => ({ ...t, group: 2 })) : []),
      ],
    })
  }
  if (image) {
    const i = image.variants
    const imageBar = (x: (typeof i)['raw'], label: string, color: string): Bar => ({
      label,
      value: x.goodput,
      color,
      ...lossNote(x.lost, image.frames),
    })
    // Groups, so each target line is drawn over the bar it is judged on.
    panels.push({
      title: '1 MiB images',
      unit: 'goodput MB/s',
      groups: [
        {
          label: '',
          bars: [imageBar(i.raw, 'raw dgram', COLORS.raw), imageBar(i.shoal, 'Shoal', COLORS.shoal)],
        },
        ...(i.sealed ? [{ label: '', bars: [imageBar(i.sealed, 'sealed', COLORS.sealed)] }] : []),
        {
          label: '',
          bars: [imageBar(i.paced, `paced ${compact(image.pacedBytesPerSecond / 1e6)}`, COLORS.paced)],
        },
        ...(cycloneImage ? [{ label: '', bars: [cycloneImage] }] : []),
      ],
      targets: [
        { value: 1_000, label: 'paced: ≥ 1,000 MB/s, 0 lost', group: i.sealed ? 2 : 1 },
        ...(i.sealed ? sealedTarget(i[UNSEALED.image].goodput.median).map((t) => ({ ...t, group: 1 })) : []),
      ],
    })
  }
  if (cycloneSmall && !small)
    panels.push({
      title: 'Small frames, reliable',
      unit: `samples/s delivered (${dds!.small.sizeBytes} B)`,
      groups: [{ label: '', bars: [cycloneSmall] }],
    })
  if (cycloneImage && !image)
    panels.push({
      title: '1 MiB images, reliable',
      unit: 'goodput MB/s',
      groups: [{ label: '', bars: [cycloneImage] }],
    })
  if (codec) {
    const r = codec.rates
    panels.push({
      title: `Codec (${codec.messageBytes} B message)`,
      unit: 'messages/s, one core, no sockets',
      span: 2,
      groups: [
        {
          label: 'encode + frame',
          bars: [
            { label: 'protobufjs', value: r.pbEncode, color: COLORS.protobufjs },
            { label: 'batched', value: r.shoalBatch, color: COLORS.batched },
            { label: 'whole frame', value: r.shoalEncode, color: COLORS.shoal },
            { label: 'fragmentMsg', value: r.shoalFragment, color: COLORS.shoalLight },
            { label: 'reused buf', value: r.shoalEncodeInto, color: COLORS.shoalInto },
          ],
        },
        {
          label: 'deframe + decode',
          bars: [
            { label: 'protobufjs', value: r.pbDecode, color: COLORS.protobufjs },
            { label: 'batched', value: r.shoalBatchDecode, color: COLORS.batched },
            { label: 'one frame', value: r.shoalDecode, color: COLORS.shoal },
          ],
        },
      ],
      targets: [{ value: 2_500_000, label: 'Shoal batched: ≥ 2.5 M/s' }],
    })
  }
  if (latency || dds) {
    // ddsperf prints no p99.9: its bar there says n/a.
    const cyclone = dds && { p50: dds.latency.p50, p99: dds.latency.p99, p999: undefined }
    const sealed = latency?.impls.sealed
    const bars = (latency ? 2 : 0) + (sealed ? 1 : 0) + (cyclone ? 1 : 0)
    panels.push({
      title: latency ? 'Latency: multicast ping, unicast pong' : 'Latency: ping, pong',
      unit: 'round trip µs, log scale (lower is better)',
      log: true,
      // Four bars a group need two columns for their labels.
      span: bars > 3 ? 2 : 1,
      groups: (['p50', 'p99', 'p999'] as const).map((q) => ({
        label: q === 'p999' ? 'p99.9' : q,
        bars: [
          ...(latency
            ? [
                { label: 'raw', value: latency.impls.raw[q], color: COLORS.raw },
                { label: 'Shoal', value: latency.impls.shoal[q], color: COLORS.shoal },
              ]
            : []),
          ...(sealed ? [{ label: 'sealed', value: sealed[q], color: COLORS.sealed }] : []),
          // Three bars a group leave room for a short label only.
          ...(cyclone ? [{ label: 'DDS', value: cyclone[q], color: COLORS.cyclone }] : []),
        ],
      })),
    })
  }
  if (small || image) {
    const toMiB = (s: Spread): Spread => ({
      median: s.median / 2 ** 20,
      min: s.min / 2 ** 20,
      max: s.max / 2 ** 20,
      values: s.values.map((v) => v / 2 ** 20),
    })
    const groups: Group[] = []
    if (small) {
      const v = small.variants
      const rss = (variant: Exclude<keyof typeof v, 'sealed'>) =>
        v[variant].available ? toMiB(v[variant].receiverPeakRss) : undefined
      groups.push({
        label: 'small frames',
        bars: [
          { label: 'raw', value: rss('raw'), color: COLORS.raw },
          { label: 'send', value: rss('unbatched'), color: COLORS.shoal },
          { label: 'publish', value: rss('publish'), color: COLORS.shoalLight },
          { label: 'fastest', value: rss('batched'), color: COLORS.batched },
          { label: 'paced', value: rss('paced'), color: COLORS.paced },
        ],
      })
    }
    if (image)
      groups.push({
        label: '1 MiB images',
        bars: [
          { label: 'raw', value: toMiB(image.variants.raw.receiverPeakRss), color: COLORS.raw },
          { label: 'Shoal', value: toMiB(image.variants.shoal.receiverPeakRss), color: COLORS.shoal },
          { label: 'paced', value: toMiB(image.variants.paced.receiverPeakRss), color: COLORS.paced },
        ],
      })
    panels.push({ title: 'Receiver peak RSS (VmHWM)', unit: 'MiB (lower is better)', groups })
  }
  // Flow the panels into rows of COLS columns; a panel that does not fit the rest of a row starts
  // the next one. The targets panel takes what is left of the last row (two columns at least).
  const placed: Array<{ panel: Panel; col: number; row: number }> = []
  let col = 0
  let row = 0
  for (const p of panels) {
    const span = Math.min(COLS, p.span ?? 1)
    if (col + span > COLS) {
      col = 0
      row++
    }
    placed.push({ panel: p, col, row })
    col += span
  }
  if (COLS - col < 2) {
    col = 0
    row = placed.length > 0 ? row + 1 : 0
  }
  const targetsAt = { col, row, span: COLS - col }
  const width = COLS * PANEL_W
  const height = HEADER_H + targetsAt.row * PANEL_H + targetsHeight(results) + FOOTER_H
  const env = results.environment
  const versus = `Shoal vs raw node:dgram${dds ? ' and Cyclone DDS' : ''}`
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif">`,
    `<title>Shoal bench: ${versus}</title>`,
    `<rect width="${width}" height="${height}" fill="#f6f7f9"/>`,
    text(16, 28, `Shoal bench: ${versus}`, 'font-size="18" font-weight="700"'),
    text(
      16,
      50,
      `${results.startedAt.slice(0, 16).replace('T', ' ')} UTC · node ${env.node} · ${env.cpus} × ${env.cpuModel} · linux ${env.kernel} · loopback in a private namespace · ${results.options.runs} runs: bar = median, whisker = min–max, dashed red = target`,
      'font-size="11" fill="#555"',
    ),
  ]
  const noisy = noiseOf(results).filter((n) => n.runs.length > 0)
  if (noisy.length > 0)
    out.push(
      text(
        width - 16,
        28,
        `⚠ other processes competed for the CPUs in ${noisy.map((n) => n.scenario).join(', ')}: noisy runs`,
        `font-size="12" fill="${COLORS.missed}" text-anchor="end"`,
      ),
    )
  for (const { panel: p, col: c, row: r } of placed) out.push(panel(p, c * PANEL_W, HEADER_H + r * PANEL_H))
  out.push(targetsPanel(results, targetsAt.col * PANEL_W, HEADER_H + targetsAt.row * PANEL_H, targetsAt.span))
  out.push(
    text(
      16,
      height - 9,
      `commit ${env.commit ?? '?'}${env.dirty ? ' (uncommitted changes in packages/)' : ''} · ${results.argv.join(' ') || '(defaults)'}`,
      'font-size="10" fill="#777"',
    ),
  )
  out.push('</svg>')
  return `${out.join('\n')}\n`
}

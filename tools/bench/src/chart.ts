/**
 * The results as one SVG a person can look at: a panel per scenario with the median as a bar, the
 * min–max of the runs as a whisker and the target as a dashed line, plus a panel listing the
 * targets met and missed. Hand-written SVG, no dependencies.
 */
import { compact } from './format.js'
import { noiseOf } from './noise.js'
import type { BenchResults } from './results.js'
import type { Spread } from './stats.js'

export const COLORS = {
  raw: '#9e9e9e',
  shoal: '#3b75af',
  batched: '#ef8636',
  protobufjs: '#6aa56a',
  shoalInto: '#9cc3e6',
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

interface Panel {
  title: string
  unit: string
  groups: Group[]
  target?: { value: number; label: string }
  /** Logarithmic value axis (latency, where p99.9 would flatten p50). */
  log?: boolean
}

const PANEL_W = 400
const PANEL_H = 330
const HEADER_H = 64
const FOOTER_H = 26
const COLS = 3
const PLOT = { left: 58, right: 14, top: 58, bottom: 62 }

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s)
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`
}

/** A round axis maximum at or above `v`: 1, 2, 2.5 or 5 × 10^k. */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1
  const exp = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * exp >= v) return m * exp
  return 10 * exp
}

function panel(p: Panel, x0: number, y0: number): string {
  const out: string[] = [`<g transform="translate(${x0},${y0})">`]
  out.push(
    `<rect x="4" y="4" width="${PANEL_W - 8}" height="${PANEL_H - 8}" rx="6" fill="#fff" stroke="#ddd"/>`,
  )
  out.push(text(16, 26, p.title, 'font-size="14" font-weight="600"'))
  out.push(text(16, 43, p.unit, 'font-size="11" fill="#666"'))
  if (p.target)
    out.push(
      text(
        PANEL_W - 16,
        43,
        `- - ${p.target.label}`,
        `font-size="11" fill="${COLORS.target}" text-anchor="end"`,
      ),
    )
  const plotW = PANEL_W - PLOT.left - PLOT.right
  const plotH = PANEL_H - PLOT.top - PLOT.bottom
  const bottom = PLOT.top + plotH
  const values: number[] = []
  for (const g of p.groups)
    for (const b of g.bars)
      if (b.value !== undefined && Number.isFinite(b.value.max)) values.push(b.value.max, b.value.min)
  if (p.target) values.push(p.target.value)
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
  const groupW = plotW / Math.max(1, p.groups.length)
  p.groups.forEach((g, gi) => {
    const n = g.bars.length
    const barW = Math.min(p.groups.length === 1 ? 84 : 52, (groupW * 0.86) / Math.max(1, n))
    const startX = PLOT.left + gi * groupW + (groupW - barW * n) / 2
    g.bars.forEach((b, bi) => {
      const bx = startX + bi * barW
      const cx = bx + barW / 2
      const v = b.value
      if (v === undefined || !Number.isFinite(v.median)) {
        out.push(text(cx, bottom - 6, 'n/a', 'font-size="10" fill="#999" text-anchor="middle"'))
      } else {
        const h = bottom - y(v.median)
        out.push(
          `<rect x="${(bx + 2).toFixed(1)}" y="${y(v.median).toFixed(1)}" width="${(barW - 4).toFixed(1)}" height="${h.toFixed(1)}" fill="${b.color}"/>`,
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
            'font-size="10" text-anchor="middle"',
          ),
        )
      }
      out.push(text(cx, bottom + 13, b.label, 'font-size="10" fill="#333" text-anchor="middle"'))
      if (b.note)
        out.push(
          text(cx, bottom + 25, b.note, `font-size="9" fill="${b.noteColor ?? '#666'}" text-anchor="middle"`),
        )
    })
    if (p.groups.length > 1)
      out.push(
        text(
          PLOT.left + gi * groupW + groupW / 2,
          bottom + 42,
          g.label,
          'font-size="11" font-weight="600" text-anchor="middle"',
        ),
      )
  })
  if (p.target) {
    const ty = y(p.target.value).toFixed(1)
    out.push(
      `<line x1="${PLOT.left}" x2="${PLOT.left + plotW}" y1="${ty}" y2="${ty}" stroke="${COLORS.target}" stroke-dasharray="5 4"/>`,
    )
  }
  out.push('</g>')
  return out.join('\n')
}

function targetsPanel(results: BenchResults, x0: number, y0: number): string {
  const out: string[] = [`<g transform="translate(${x0},${y0})">`]
  out.push(
    `<rect x="4" y="4" width="${PANEL_W - 8}" height="${PANEL_H - 8}" rx="6" fill="#fff" stroke="#ddd"/>`,
  )
  out.push(text(16, 26, 'Targets', 'font-size="14" font-weight="600"'))
  let y = 50
  for (const t of results.targets) {
    const [mark, color] =
      t.met === undefined ? ['–', '#999'] : t.met ? ['✓', COLORS.met] : ['✗', COLORS.missed]
    out.push(text(16, y, mark, `font-size="13" font-weight="700" fill="${color}"`))
    out.push(text(32, y, clip(t.target, 62), 'font-size="10.5"'))
    out.push(text(32, y + 13, clip(t.measured, 70), 'font-size="9.5" fill="#555"'))
    y += 36
  }
  out.push('</g>')
  return out.join('\n')
}

const lossNote = (loss: Spread | undefined, of: number): Pick<Bar, 'note' | 'noteColor'> => {
  if (loss === undefined || !Number.isFinite(loss.median)) return {}
  if (loss.max === 0) return { note: 'no loss', noteColor: COLORS.met }
  return {
    note: `loss ${((loss.median / of) * 100).toFixed(loss.median / of < 0.01 ? 2 : 0)}%`,
    noteColor: COLORS.missed,
  }
}

export function renderChart(results: BenchResults): string {
  const panels: Panel[] = []
  const { small, image, latency, codec } = results
  if (small) {
    const v = small.variants
    panels.push({
      title: `Small frames (${small.messageBytes} B)`,
      unit: 'frames/s delivered',
      groups: [
        {
          label: '',
          bars: [
            { label: 'raw', value: v.raw.rate, color: COLORS.raw, ...lossNote(v.raw.loss, v.raw.frames) },
            {
              label: 'unbatched',
              value: v.unbatched.rate,
              color: COLORS.shoal,
              ...lossNote(v.unbatched.loss, v.unbatched.frames),
            },
            {
              label: 'batched',
              value: v.batched.available ? v.batched.rate : undefined,
              color: COLORS.batched,
              ...(v.batched.available
                ? lossNote(v.batched.loss, v.batched.frames)
                : { note: 'not available' }),
            },
          ],
        },
      ],
      target: { value: 1_000_000, label: 'target: batched ≥ 1 M, 0 loss' },
    })
  }
  if (image) {
    const i = image.impls
    panels.push({
      title: '1 MiB images',
      unit: 'goodput MB/s',
      groups: [
        {
          label: '',
          bars: [
            { label: 'raw', value: i.raw.goodput, color: COLORS.raw, ...lossNote(i.raw.lost, image.frames) },
            {
              label: 'Shoal',
              value: i.shoal.goodput,
              color: COLORS.shoal,
              ...lossNote(i.shoal.lost, image.frames),
            },
          ],
        },
      ],
      target: { value: 1_000, label: 'target ≥ 1,000, 0 lost' },
    })
  }
  if (latency) {
    const r = latency.impls.raw
    const s = latency.impls.shoal
    panels.push({
      title: 'Latency: multicast ping, unicast pong',
      unit: 'round trip µs, log scale (lower is better)',
      log: true,
      groups: (['p50', 'p99', 'p999'] as const).map((q) => ({
        label: q === 'p999' ? 'p99.9' : q,
        bars: [
          { label: 'raw', value: r[q], color: COLORS.raw },
          { label: 'Shoal', value: s[q], color: COLORS.shoal },
        ],
      })),
    })
  }
  if (codec) {
    panels.push({
      title: `Codec (${codec.messageBytes} B message)`,
      unit: 'messages/s, one core',
      groups: [
        {
          label: 'encode + frame',
          bars: [
            { label: 'protobufjs', value: codec.rates.pbEncode, color: COLORS.protobufjs },
            { label: 'Shoal', value: codec.rates.shoalEncode, color: COLORS.shoal },
            { label: 'reused buf', value: codec.rates.shoalEncodeInto, color: COLORS.shoalInto },
          ],
        },
        {
          label: 'deframe + decode',
          bars: [
            { label: 'protobufjs', value: codec.rates.pbDecode, color: COLORS.protobufjs },
            { label: 'Shoal', value: codec.rates.shoalDecode, color: COLORS.shoal },
          ],
        },
      ],
      target: { value: 2_500_000, label: 'target ≥ 2.5 M (Shoal)' },
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
    if (small)
      groups.push({
        label: 'small frames',
        bars: [
          { label: 'raw', value: toMiB(small.variants.raw.receiverPeakRss), color: COLORS.raw },
          { label: 'Shoal', value: toMiB(small.variants.unbatched.receiverPeakRss), color: COLORS.shoal },
          {
            label: 'batched',
            value: small.variants.batched.available
              ? toMiB(small.variants.batched.receiverPeakRss)
              : undefined,
            color: COLORS.batched,
          },
        ],
      })
    if (image)
      groups.push({
        label: '1 MiB images',
        bars: [
          { label: 'raw', value: toMiB(image.impls.raw.receiverPeakRss), color: COLORS.raw },
          { label: 'Shoal', value: toMiB(image.impls.shoal.receiverPeakRss), color: COLORS.shoal },
        ],
      })
    panels.push({ title: 'Receiver peak RSS (VmHWM)', unit: 'MiB (lower is better)', groups })
  }
  const cells = panels.length + 1
  const rows = Math.ceil(cells / COLS)
  const width = COLS * PANEL_W
  const height = HEADER_H + rows * PANEL_H + FOOTER_H
  const env = results.environment
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif">`,
    '<title>Shoal bench: Shoal against raw node:dgram</title>',
    `<rect width="${width}" height="${height}" fill="#f6f7f9"/>`,
    text(16, 28, 'Shoal bench: Shoal vs raw node:dgram', 'font-size="18" font-weight="700"'),
    text(
      16,
      50,
      `${results.startedAt.slice(0, 16).replace('T', ' ')} UTC · node ${env.node} · ${env.cpus} × ${env.cpuModel} · linux ${env.kernel} · loopback in a private namespace · ${results.options.runs} runs: bar = median, whisker = min–max`,
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
  panels.forEach((p, i) => {
    out.push(panel(p, (i % COLS) * PANEL_W, HEADER_H + Math.floor(i / COLS) * PANEL_H))
  })
  out.push(
    targetsPanel(
      results,
      (panels.length % COLS) * PANEL_W,
      HEADER_H + Math.floor(panels.length / COLS) * PANEL_H,
    ),
  )
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

/** Number formatting shared by the tables and the chart, and the tables themselves. */
import type { Spread } from './stats.js'

/** Three significant digits with a k/M/G suffix: 1,634,000 → "1.63 M", 51,234 → "51.2 k". */
export function compact(n: number): string {
  if (!Number.isFinite(n)) return '—'
  const abs = Math.abs(n)
  const [div, suffix] =
    abs >= 1e9 ? [1e9, ' G'] : abs >= 1e6 ? [1e6, ' M'] : abs >= 1e4 ? [1e3, ' k'] : [1, '']
  const v = n / div
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2
  return `${v.toFixed(div === 1 && Number.isInteger(v) ? 0 : digits)}${suffix}`
}

/** Integer with thousands separators. */
export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—'
}

export function fixed(digits: number): (n: number) => string {
  return (n) => (Number.isFinite(n) ? n.toFixed(digits) : '—')
}

export function mib(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(0)} MiB` : '—'
}

/** `median [min–max]`, or just the median for one run. */
export function withSpread(s: Spread, f: (n: number) => string): string {
  if (s.values.length === 0 || !Number.isFinite(s.median)) return '—'
  if (s.values.length === 1 || s.min === s.max) return f(s.median)
  return `${f(s.median)} [${f(s.min)}–${f(s.max)}]`
}

export type Align = 'l' | 'r'

/** A Markdown table padded so that it lines up in a terminal too. */
export function table(headers: string[], rows: string[][], align: Align[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const cell = (s: string, i: number) => (align[i] === 'r' ? s.padStart(widths[i]!) : s.padEnd(widths[i]!))
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`
  return [line(headers), rule, ...rows.map(line)].join('\n')
}

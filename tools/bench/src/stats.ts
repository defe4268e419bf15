/** Summaries of repeated measurements: the median with the smallest and largest value seen. */

export interface Spread {
  median: number
  min: number
  max: number
  /** Every value, in run order. */
  values: number[]
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, values: [] }
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, values: [...values] }
}

/** `a[i] / b[i]` for every run i both have. */
export function ratios(a: readonly number[], b: readonly number[]): number[] {
  return a.slice(0, Math.min(a.length, b.length)).map((value, i) => value / b[i]!)
}

/** `a[i] - b[i]` for every run i both have. */
export function differences(a: readonly number[], b: readonly number[]): number[] {
  return a.slice(0, Math.min(a.length, b.length)).map((value, i) => value - b[i]!)
}

/** Every value of a spread multiplied by `by` (a change of unit). */
export function scaled(s: Spread, by: number): Spread {
  return { median: s.median * by, min: s.min * by, max: s.max * by, values: s.values.map((v) => v * by) }
}

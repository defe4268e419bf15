import type { RecordingReport } from './recording-frame.js'

/** What the damage account needs: a `RecordingReport`, or the transport's `ReadRecordingResult`. */
export type DamageReport = Pick<
  RecordingReport,
  'truncatedTail' | 'corrupt' | 'damagedStretches' | 'skippedBytes' | 'skips'
>

/**
 * `run.mcap is damaged: 2 stretches with no good record, the first at byte 4,012 (1,050 bytes
 * skipped in all)`, or undefined for an undamaged file (a cut-off tail is not damage).
 */
export function describeDamage(path: string, report: DamageReport): string | undefined {
  if (!report.corrupt) return undefined
  const n = report.damagedStretches
  const first = report.skips.find((skip) => skip.reason !== 'truncated')
  const where = first === undefined ? '' : `, the first at byte ${first.offset.toLocaleString('en-US')}`
  const gaveUp = report.skips.some((skip) => skip.reason === 'unsearched')
    ? '; the rest of the file was not searched (too many false starts, or a length no record can have)'
    : ''
  return `${path} is damaged: ${n} ${n === 1 ? 'stretch' : 'stretches'} with no good record${where} (${report.skippedBytes.toLocaleString('en-US')} bytes skipped in all)${gaveUp}`
}

/** A summary's or log line's account of what the reader skipped; nothing for a whole file. */
export function skipFields(report: DamageReport): Record<string, unknown> {
  return {
    ...(report.truncatedTail ? { truncatedTail: true } : {}),
    ...(report.corrupt ? { damaged: report.damagedStretches } : {}),
    ...(report.skippedBytes > 0 ? { skippedBytes: report.skippedBytes } : {}),
  }
}

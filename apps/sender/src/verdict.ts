/**
 * How a sender's run ended, beyond "it stopped": a run whose frames did not all leave, or whose
 * `--expect`-ed receivers did not acknowledge them, must not exit 0, or scripts and CI would take
 * it for a success.
 */
import type { ServiceVerdict } from '@shoal/service'
import type { AckTotals } from './acks.js'

/** Exit code of a run in which a receiver named by `--expect` missed acknowledgements. */
export const EXPECT_MISSED_EXIT_CODE = 3
/** Exit code of a run in which sends failed (a failure at run time, as every service's 1). */
export const SEND_FAILED_EXIT_CODE = 1
/** Receivers named in the verdict's sentence; the rest are counted (`--expect` is user input). */
export const MAX_NAMED_MISSING = 10

export interface VerdictInput {
  /** `--expect` as given (`NAME` or `NAME@ADDRESS`). */
  readonly expected: readonly string[]
  /** The ack totals; undefined without `--ack`. */
  readonly acks: AckTotals | undefined
  readonly sendErrors: number
  /** The first send failure's message, e.g. `send ENETUNREACH ff02::1:7400`. */
  readonly firstSendError: string | undefined
}

export function senderVerdict(input: VerdictInput): ServiceVerdict | undefined {
  const parts: string[] = []
  let code = 0
  if (input.sendErrors > 0) {
    code = SEND_FAILED_EXIT_CODE
    parts.push(
      `${input.sendErrors} ${input.sendErrors === 1 ? 'send' : 'sends'} failed` +
        (input.firstSendError === undefined ? '' : ` (first: ${input.firstSendError})`),
    )
  }
  const missed = missedExpected(input.expected, input.acks)
  if (missed.length > 0) {
    code = code === 0 ? EXPECT_MISSED_EXIT_CODE : code
    const named = missed.slice(0, MAX_NAMED_MISSING).join(', ')
    const more = missed.length > MAX_NAMED_MISSING ? ` and ${missed.length - MAX_NAMED_MISSING} more` : ''
    parts.push(`expected receivers missing: ${named}${more}`)
  }
  return code === 0 ? undefined : { code, message: parts.join('; ') }
}

/** `rx-2 (never acknowledged, 5 frames)`, `rx-1 (missed 3 of 100 frames)`, per expected receiver. */
function missedExpected(expected: readonly string[], acks: AckTotals | undefined): string[] {
  if (acks === undefined) return []
  const out: string[] = []
  for (const name of new Set(expected)) {
    const missing = acks.missing.get(name) ?? 0
    if (missing === 0) continue
    // Acks are counted under the receiver's bare name; a pinned NAME@ADDRESS is missed under both.
    const acked = acks.acked.get(name) ?? acks.acked.get(name.split('@')[0]!) ?? 0
    out.push(
      acked === 0
        ? `${name} (never acknowledged, ${missing} ${missing === 1 ? 'frame' : 'frames'})`
        : `${name} (missed ${missing} of ${missing + acked} frames)`,
    )
  }
  return out
}

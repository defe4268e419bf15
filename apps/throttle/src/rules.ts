/**
 * The throttle's rules: which topics it slows down and how. `--rate TOPIC=HZ` lets at most HZ
 * frames a second through per topic; `--latest TOPIC[=HZ]` holds the newest frame of each topic and
 * publishes it HZ times a second. TOPIC is a topic filter as everywhere in Shoal: exact
 * (`sensors/imu`), a prefix (`sensors/*`) or `*`; each topic it matches is throttled on its own.
 */
import { matchesTopic, type ValueSchema } from '@shoal/service'
import { z } from 'zod'

/** Highest rate a rule may name, frames a second (a period of 1 ms: the timers' resolution). */
export const MAX_RATE_HZ = 1_000
/** Lowest rate a rule may name: one frame an hour. */
export const MIN_RATE_HZ = 1 / 3_600
/** How often a `--latest` topic is published when its rule names no rate, per second. */
export const DEFAULT_LATEST_HZ = 1
/** Rules at most (`--rate` and `--latest` together): each `--latest` rate is a timer. */
export const MAX_RULES = 64

export type RuleKind = 'rate' | 'latest'

export interface Rule {
  readonly kind: RuleKind
  /** The topic filter, as written. */
  readonly topic: string
  readonly hz: number
  /** 1000 / hz: the length of one window, ms. */
  readonly periodMs: number
}

const FILTER = /^(\*|[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*(\/\*)?)$/
const NUMBER = /^(\d+(\.\d*)?|\.\d+)$/

/** `TOPIC=HZ` (HZ required for `--rate`, optional for `--latest`) → `{ topic, hz }`. */
export function ruleValue(kind: RuleKind): ValueSchema<Rule> {
  const expected =
    kind === 'rate'
      ? `expected TOPIC=HZ: a topic (sensors/imu), prefix (sensors/*) or '*', and a rate ${MIN_RATE_HZ.toPrecision(2)}-${MAX_RATE_HZ} per second`
      : `expected TOPIC or TOPIC=HZ: a topic (sensors/imu), prefix (sensors/*) or '*', and a rate ${MIN_RATE_HZ.toPrecision(2)}-${MAX_RATE_HZ} per second (default ${DEFAULT_LATEST_HZ})`
  return z
    .string()
    .trim()
    .transform((text, ctx): Rule => {
      const at = text.lastIndexOf('=')
      const topic = at < 0 ? text : text.slice(0, at)
      const rate = at < 0 ? undefined : text.slice(at + 1)
      const hz = rate === undefined ? (kind === 'latest' ? DEFAULT_LATEST_HZ : Number.NaN) : Number(rate)
      const rateOk = rate === undefined ? kind === 'latest' : NUMBER.test(rate)
      if (!FILTER.test(topic) || !rateOk || !(hz >= MIN_RATE_HZ && hz <= MAX_RATE_HZ)) {
        ctx.addIssue({ code: 'custom', message: expected })
        return z.NEVER
      }
      return { kind, topic, hz, periodMs: 1_000 / hz }
    })
}

/**
 * How specific a filter is: an exact topic beats any prefix, a longer prefix a shorter one, and
 * `*` comes last. The most specific rule that matches a topic is the one that applies.
 */
export function specificity(filter: string): number {
  if (filter === '*') return 0
  if (filter.endsWith('/*')) return filter.length
  return Number.MAX_SAFE_INTEGER
}

/** The rule for a topic, or undefined when none matches (the topic is not chosen). */
export function ruleFor(rules: readonly Rule[], topic: string): Rule | undefined {
  let best: Rule | undefined
  for (const rule of rules) {
    if (!matchesTopic(rule.topic, topic)) continue
    if (best === undefined || specificity(rule.topic) > specificity(best.topic)) best = rule
  }
  return best
}

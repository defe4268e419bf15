import type { DynamicTypeRegistry } from '@shoal/schema'
import {
  commonFlags,
  conflict,
  defineFlags,
  type FlagValues,
  flag,
  type InterfaceRef,
  multicastGroup,
  networkInterface,
  oneOf,
  port,
  resolveProtoTypes,
  topicFilter,
} from '@shoal/service'
import { UNMATCHED_ACTIONS } from './policy.js'
import { DEFAULT_LATEST_HZ, MAX_RULES, type Rule, ruleValue } from './rules.js'

/** The group it subscribes on, unless --group says otherwise. */
export const DEFAULT_GROUP = '239.255.0.1'
/** The group it publishes on, unless --out-group says otherwise: not the input's, so no loop. */
export const DEFAULT_OUT_GROUP = '239.255.0.2'
/** What it subscribes to unless --topic says otherwise (chosen when it was generated). */
export const DEFAULT_TOPICS: readonly string[] = ['*']

/** Every flag of shoal-throttle, once: the parser, the help, the README table and the tests read this. */
export const throttleFlags = defineFlags({
  group: flag.list(multicastGroup(), {
    placeholder: 'address',
    default: [DEFAULT_GROUP],
    help: 'Multicast group to subscribe on (input)',
  }),
  topic: flag.list(topicFilter(), {
    placeholder: 'filter',
    default: DEFAULT_TOPICS,
    help: "Topics to subscribe to: exact (sensors/imu), prefix (sensors/*) or '*'",
  }),
  'out-group': flag.value(multicastGroup(), {
    placeholder: 'address',
    default: DEFAULT_OUT_GROUP,
    help: 'Multicast group to publish on (output)',
  }),
  'out-port': flag.value(port(), {
    placeholder: 'port',
    defaultText: 'the same as --port',
    help: 'UDP port of the output stream',
  }),
  'out-interface': flag.value(networkInterface(), {
    placeholder: 'name|address',
    defaultText: 'the same as --interface',
    help: 'Network interface to publish on, by name or address',
  }),
  rate: flag.list(ruleValue('rate'), {
    placeholder: 'topic=hz',
    separator: false,
    help: 'Let at most HZ frames a second of each topic TOPIC matches through (the first of each 1/HZ s window; the rest are dropped)',
  }),
  latest: flag.list(ruleValue('latest'), {
    placeholder: 'topic[=hz]',
    separator: false,
    help: `Hold only the newest frame of each topic TOPIC matches and publish it HZ times a second (default ${DEFAULT_LATEST_HZ}); older ones are dropped`,
  }),
  unmatched: flag.value(oneOf(UNMATCHED_ACTIONS), {
    placeholder: 'pass|drop',
    default: 'pass',
    help: 'What happens to frames of topics no --rate or --latest matches: passed on as they came, or dropped',
  }),
  ...commonFlags,
})

export type ThrottleFlags = FlagValues<typeof throttleFlags>

export interface ThrottleConfig extends Omit<ThrottleFlags, 'outPort' | 'outInterface' | 'rate' | 'latest'> {
  readonly outPort: number
  readonly outInterface: InterfaceRef
  /** Every --rate and --latest rule, in the order given. */
  readonly rules: readonly Rule[]
  /**
   * Built-in and `--proto` types. Frames pass undecoded; the output is a new session, so receivers
   * beyond the throttle ask it (not the original publisher) for the schema of a type they do not
   * know: it answers for the types it has.
   */
  readonly types: DynamicTypeRegistry
}

/**
 * The parsed flags made whole: the output's port and interface default to the input's. Refuses
 * (exit 2) an output that is also an input (every frame published would come back in), more than
 * `MAX_RULES` rules, a topic filter named by two rules, and a `--proto` path that does not load.
 */
export function resolveThrottleConfig(values: ThrottleFlags): ThrottleConfig {
  const { rate, latest, ...rest } = values
  const outPort = values.outPort ?? values.port
  if (values.group.includes(values.outGroup) && outPort === values.port)
    throw conflict(
      '--out-group',
      `--out-group ${values.outGroup} port ${outPort} is also an input (--group, --port): what is published would come back in`,
    )
  const rules = [...rate, ...latest]
  if (rules.length > MAX_RULES)
    throw conflict('--rate', `${rules.length} --rate and --latest rules: at most ${MAX_RULES}`)
  const seen = new Map<string, Rule>()
  for (const rule of rules) {
    const before = seen.get(rule.topic)
    if (before !== undefined)
      throw conflict(
        `--${rule.kind}`,
        `--${rule.kind} ${rule.topic}: ${rule.topic} already has a rule (--${before.kind} ${before.topic}=${before.hz})`,
      )
    seen.set(rule.topic, rule)
  }
  return {
    ...rest,
    outPort,
    outInterface: values.outInterface ?? values.interface,
    rules,
    types: resolveProtoTypes(values.proto),
  }
}

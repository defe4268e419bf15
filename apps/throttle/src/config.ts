import {
  commonFlags,
  conflict,
  defineFlags,
  type FlagValues,
  flag,
  type InterfaceRef,
  multicastGroup,
  networkInterface,
  port,
  topicFilter,
} from '@shoal/service'

/** The group it subscribes on, unless --group says otherwise. */
export const DEFAULT_GROUP = '239.255.0.1'
/** The group it publishes on, unless --out-group says otherwise: not the input's, so no loop. */
export const DEFAULT_OUT_GROUP = '239.255.0.2'
/** What it subscribes to unless --topic says otherwise (chosen when it was generated). */
export const DEFAULT_TOPICS: readonly string[] = ['*']
/** The topic it publishes on unless --out-topic says otherwise; undefined keeps each frame's own. */
export const DEFAULT_OUT_TOPIC: string | undefined = undefined

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
  'out-topic': flag.value(topicFilter(), {
    placeholder: 'topic',
    defaultText: DEFAULT_OUT_TOPIC ?? 'each frame’s own topic',
    help: 'Topic to publish on',
  }),
  ...commonFlags,
})

export type ThrottleFlags = FlagValues<typeof throttleFlags>

export interface ThrottleConfig extends Omit<ThrottleFlags, 'outPort' | 'outInterface' | 'outTopic'> {
  readonly outPort: number
  readonly outInterface: InterfaceRef
  readonly outTopic: string | undefined
}

/**
 * The parsed flags made whole: the output's port and interface default to the input's. Refuses
 * (exit 2) an output that is also an input: every frame published would come back in.
 */
export function resolveThrottleConfig(values: ThrottleFlags): ThrottleConfig {
  const outPort = values.outPort ?? values.port
  const outTopic = values.outTopic ?? DEFAULT_OUT_TOPIC
  if (values.group.includes(values.outGroup) && outPort === values.port)
    throw conflict(
      '--out-group',
      `--out-group ${values.outGroup} port ${outPort} is also an input (--group, --port): what is published would come back in`,
    )
  if (outTopic?.includes('*'))
    throw conflict('--out-topic', `--out-topic ${outTopic}: a topic to publish on, not a filter`)
  return { ...values, outPort, outInterface: values.outInterface ?? values.interface, outTopic }
}

import type { MessageType } from './message-type.js'
import type { TypeRegistry } from './registry.js'
import { registry as shoalRegistry } from './shoal-types.js'

/** Which message type travels on which topic. */
export interface TopicMap {
  /** The type carried on `topic`, or `undefined` if the topic is not mapped. */
  typeFor(topic: string): MessageType | undefined
  /** Maps `topic` to a type, given as a handle or as a full name known to the map's registry. */
  set(topic: string, type: MessageType | string): void
  /** Every mapping, in insertion order. */
  entries(): Array<[string, MessageType]>
}

/** The standard topics: topic name → full type name. */
export const DEFAULT_TOPICS: Readonly<Record<string, string>> = Object.freeze({
  imu: 'shoal.v1.Imu',
  gps: 'shoal.v1.NavSatFix',
  temperature: 'shoal.v1.Temperature',
  camera: 'shoal.v1.Image',
  heartbeat: 'shoal.v1.Heartbeat',
})

/**
 * Creates a topic map from `init` (topic → full type name; default {@link DEFAULT_TOPICS}), resolving
 * names in `registry` (default: the shoal.v1 registry). Pass `{}` for an empty map. Throws on an empty
 * topic or a type name the registry does not know.
 */
export function createTopicMap(
  init: Record<string, string> = DEFAULT_TOPICS,
  registry: TypeRegistry = shoalRegistry,
): TopicMap {
  const topics = new Map<string, MessageType>()
  const map: TopicMap = {
    typeFor: (topic) => topics.get(topic),
    set(topic, type) {
      if (typeof topic !== 'string' || topic.length === 0) {
        throw new TypeError(`TopicMap.set: topic must be a non-empty string, got ${JSON.stringify(topic)}`)
      }
      if (typeof type !== 'string') {
        topics.set(topic, type)
        return
      }
      const resolved = registry.byName(type)
      if (resolved === undefined) {
        const known = registry
          .all()
          .map((t) => t.typeName)
          .join(', ')
        throw new Error(`TopicMap.set: unknown type "${type}" for topic "${topic}"; known types: ${known}`)
      }
      topics.set(topic, resolved)
    },
    entries: () => [...topics.entries()],
  }
  for (const [topic, typeName] of Object.entries(init)) map.set(topic, typeName)
  return map
}

/**
 * The {@link DEFAULT_TOPICS} map: 'imu' → Imu, 'gps' → NavSatFix, 'temperature' → Temperature,
 * 'camera' → Image, 'heartbeat' → Heartbeat. Shared, hence read-only: `set` throws. For your own
 * topics use `createTopicMap({ ...DEFAULT_TOPICS, lidar: 'shoal.v1.Scalar' })`.
 */
export const defaultTopics: TopicMap = (() => {
  const map = createTopicMap()
  return Object.freeze({
    typeFor: map.typeFor,
    entries: map.entries,
    set(topic: string): never {
      throw new TypeError(
        `defaultTopics is read-only (topic "${topic}"); use createTopicMap() for a mutable copy`,
      )
    },
  })
})()

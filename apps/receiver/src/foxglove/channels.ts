import type { Channel } from '@foxglove/ws-protocol'
import { fileDescriptorSet, PROTOBUF_SCHEMA_ENCODING } from '@shoal/schema'
import { RAW_IMAGE_SCHEMA_NAME, rawImageSchema } from './raw-image-schema.js'

/**
 * Topics (topic × message type) with channels at once. Topics come from the network, so the table
 * is capped; at the cap a new topic takes the place of the one heard least recently, if that one
 * has been quiet for {@link FOXGLOVE_TOPIC_IDLE_MS}, and is refused (counted) otherwise, so that a
 * flood of made-up topics cannot push out the ones being watched. A camera topic has two channels.
 */
export const FOXGLOVE_MAX_TOPICS = 512
/** A topic quiet this long may give its channels up to a new topic when the table is full, ms. */
export const FOXGLOVE_TOPIC_IDLE_MS = 60_000
/** The type whose topics get a second channel, as `foxglove.RawImage`. */
export const IMAGE_TYPE_NAME = 'shoal.v1.Image'
/** A camera topic's RawImage channel is the topic with this suffix: `camera` → `camera/raw_image`. */
export const RAW_IMAGE_TOPIC_SUFFIX = '/raw_image'

/** Where channels are advertised and unadvertised: `FoxgloveServer`'s `addChannel`/`removeChannel`. */
export interface ChannelSink {
  addChannel(channel: Omit<Channel, 'id'>): number
  removeChannel(channelId: number): void
}

/** One topic's channels. */
export interface TopicChannels {
  readonly topic: string
  readonly typeName: string
  /** The channel carrying the frames as they came (their own protobuf type). */
  readonly own: number
  /** Camera topics: the channel carrying each frame as a `foxglove.RawImage`. */
  readonly rawImage: number | undefined
  lastHeard: number
}

export interface ChannelTableOptions {
  readonly maxTopics?: number
  readonly idleMs?: number
  /**
   * A type's binary `FileDescriptorSet`, or undefined for a type without one (its frames are counted
   * as `unknown_type`). Asked when a topic of the type is first heard, so types the receiver learns
   * while running (`--proto`, schemas from the network) get channels too: pass the receiver's
   * `DynamicTypeRegistry#descriptorSet`. Default: the built-in types' (`fileDescriptorSet`).
   */
  readonly schemaData?: (typeName: string) => Uint8Array | undefined
}

let rawImageBase64: string | undefined

/** Each topic's Foxglove channels, advertised on first frame, within {@link FOXGLOVE_MAX_TOPICS}. */
export class ChannelTable {
  readonly #sink: ChannelSink
  readonly #maxTopics: number
  readonly #idleMs: number
  readonly #schemaData: (typeName: string) => Uint8Array | undefined
  /**
   * Base64 sets by type name, as advertised. Only found ones are kept: a type unknown now may be
   * learnt later. Bounded by the registry's types (built-in plus `MAX_DYNAMIC_TYPES`).
   */
  readonly #schemas = new Map<string, string>()
  /** By topic and type; iteration order is least recently heard first. */
  readonly #topics = new Map<string, TopicChannels>()
  readonly #channelIds = new Set<number>()
  /** Topics whose channels were removed to make room for another. */
  evictions = 0

  constructor(sink: ChannelSink, options: ChannelTableOptions = {}) {
    this.#sink = sink
    this.#maxTopics = options.maxTopics ?? FOXGLOVE_MAX_TOPICS
    this.#idleMs = options.idleMs ?? FOXGLOVE_TOPIC_IDLE_MS
    this.#schemaData = options.schemaData ?? fileDescriptorSet
  }

  /** The base64 `FileDescriptorSet` of a type, or undefined for a type without one. */
  #schemaBase64(typeName: string): string | undefined {
    let base64 = this.#schemas.get(typeName)
    if (base64 === undefined) {
      const data = this.#schemaData(typeName)
      if (data === undefined) return undefined
      base64 = Buffer.from(data).toString('base64')
      this.#schemas.set(typeName, base64)
    }
    return base64
  }

  /** Channels advertised now. */
  get channels(): number {
    return this.#channelIds.size
  }

  get topics(): number {
    return this.#topics.size
  }

  has(channelId: number): boolean {
    return this.#channelIds.has(channelId)
  }

  /**
   * The topic's channels, advertised now if the topic is new; `'unknown_type'` for a type without a
   * schema, `'channel_limit'` when the table is full of topics heard recently.
   */
  channelsFor(
    topic: string,
    typeName: string,
    now: number,
  ): TopicChannels | 'unknown_type' | 'channel_limit' {
    const key = `${typeName}\0${topic}`
    const known = this.#topics.get(key)
    if (known !== undefined) {
      known.lastHeard = now
      this.#topics.delete(key)
      this.#topics.set(key, known)
      return known
    }
    const schema = this.#schemaBase64(typeName)
    if (schema === undefined) return 'unknown_type'
    if (this.#topics.size >= this.#maxTopics && !this.#evictIdle(now)) return 'channel_limit'
    const own = this.#add({
      topic,
      encoding: PROTOBUF_SCHEMA_ENCODING,
      schemaName: typeName,
      schema,
      schemaEncoding: PROTOBUF_SCHEMA_ENCODING,
    })
    let rawImage: number | undefined
    if (typeName === IMAGE_TYPE_NAME) {
      rawImageBase64 ??= Buffer.from(rawImageSchema().fileDescriptorSet).toString('base64')
      rawImage = this.#add({
        topic: `${topic}${RAW_IMAGE_TOPIC_SUFFIX}`,
        encoding: PROTOBUF_SCHEMA_ENCODING,
        schemaName: RAW_IMAGE_SCHEMA_NAME,
        schema: rawImageBase64,
        schemaEncoding: PROTOBUF_SCHEMA_ENCODING,
      })
    }
    const entry: TopicChannels = { topic, typeName, own, rawImage, lastHeard: now }
    this.#topics.set(key, entry)
    return entry
  }

  #add(channel: Omit<Channel, 'id'>): number {
    const id = this.#sink.addChannel(channel)
    this.#channelIds.add(id)
    return id
  }

  /** Removes the least recently heard topic if it has been quiet long enough; true if it did. */
  #evictIdle(now: number): boolean {
    const [key, oldest] = this.#topics.entries().next().value ?? []
    if (key === undefined || oldest === undefined || now - oldest.lastHeard < this.#idleMs) return false
    this.#topics.delete(key)
    for (const id of [oldest.own, oldest.rawImage]) {
      if (id === undefined) continue
      this.#channelIds.delete(id)
      this.#sink.removeChannel(id)
    }
    this.evictions++
    return true
  }
}

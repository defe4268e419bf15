/**
 * A Foxglove viewer for tests: the official client (`FoxgloveClient` of @foxglove/ws-protocol) over
 * `ws`, decoding every message with protobufjs built from nothing but the channel's advertised
 * base64 FileDescriptorSet, as Foxglove does.
 */
import wsProtocol, { type Channel, type IWebSocket, type StatusMessage } from '@foxglove/ws-protocol'
import protobuf from 'protobufjs'
import 'protobufjs/ext/descriptor.js'
import { WebSocket } from 'ws'

const { FoxgloveClient } = wsProtocol

/** Every wait here is bounded by this, ms (a bound, not a speed check). */
export const FOXGLOVE_WAIT_MS = 10_000
/** How long `close()` waits for the close handshake before it destroys the socket, ms. */
const CLOSE_WAIT_MS = 2_000

/** The conversion Shoal's `MessageType.toObject` uses, so decoded values compare with it directly. */
export const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  bytes: String,
  defaults: true,
  arrays: true,
  json: true,
}

export interface ReceivedMessage {
  readonly channel: Channel
  readonly timestamp: bigint
  readonly data: Uint8Array
}

export interface Viewer {
  readonly ws: WebSocket
  /** Channels advertised and not unadvertised, by topic. */
  readonly channels: Map<string, Channel>
  readonly messages: ReceivedMessage[]
  readonly statuses: StatusMessage[]
  readonly errors: Error[]
  serverName(): string | undefined
  subscribe(topic: string): number
  unsubscribe(subscriptionId: number): void
  /** The message decoded with its channel's advertised schema, as plain values. */
  decode(message: ReceivedMessage): Record<string, unknown>
  /** Resolves once `predicate` holds (checked on every event and every 20 ms). */
  until(predicate: () => boolean, what: string): Promise<void>
  close(): Promise<void>
}

function typeOf(channel: Channel): protobuf.Type {
  if (channel.encoding !== 'protobuf' || channel.schemaEncoding !== 'protobuf')
    throw new Error(`channel ${channel.topic}: encoding ${channel.encoding}/${channel.schemaEncoding}`)
  const root = protobuf.Root.fromDescriptor(Buffer.from(channel.schema, 'base64'))
  return root.lookupType(channel.schemaName)
}

/** Connects and resolves once the server's advertisement of `minChannels` channels has arrived. */
export async function connectViewer(url: string, minChannels = 0): Promise<Viewer> {
  const ws = new WebSocket(url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL])
  const client = new FoxgloveClient({ ws: ws as unknown as IWebSocket })
  const channels = new Map<string, Channel>()
  const byId = new Map<number, Channel>()
  const subscriptions = new Map<number, Channel>()
  const types = new Map<number, protobuf.Type>()
  const messages: ReceivedMessage[] = []
  const statuses: StatusMessage[] = []
  const errors: Error[] = []
  let name: string | undefined
  client.on('serverInfo', (info) => {
    name = info.name
  })
  client.on('advertise', (advertised) => {
    for (const channel of advertised) {
      channels.set(channel.topic, channel)
      byId.set(channel.id, channel)
    }
  })
  client.on('unadvertise', (ids) => {
    for (const id of ids) {
      const channel = byId.get(id)
      if (channel !== undefined && channels.get(channel.topic) === channel) channels.delete(channel.topic)
      byId.delete(id)
    }
  })
  client.on('message', ({ subscriptionId, timestamp, data }) => {
    const channel = subscriptions.get(subscriptionId)
    if (channel === undefined) {
      errors.push(new Error(`message for unknown subscription ${subscriptionId}`))
      return
    }
    messages.push({
      channel,
      timestamp,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    })
  })
  client.on('status', (status) => statuses.push(status))
  client.on('error', (error) => errors.push(error))

  const until = async (predicate: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + FOXGLOVE_WAIT_MS
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${FOXGLOVE_WAIT_MS} ms waiting for ${what}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  await until(() => name !== undefined && channels.size >= minChannels, `${minChannels} channels`)

  return {
    ws,
    channels,
    messages,
    statuses,
    errors,
    serverName: () => name,
    subscribe(topic) {
      const channel = channels.get(topic)
      if (channel === undefined)
        throw new Error(`no channel ${topic}; have ${[...channels.keys()].join(', ')}`)
      const id = client.subscribe(channel.id)
      subscriptions.set(id, channel)
      return id
    },
    unsubscribe(subscriptionId) {
      client.unsubscribe(subscriptionId)
    },
    decode(message) {
      let type = types.get(message.channel.id)
      if (type === undefined) {
        type = typeOf(message.channel)
        types.set(message.channel.id, type)
      }
      return type.toObject(type.decode(message.data), TO_OBJECT)
    },
    until,
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return
      const closed = new Promise((resolve) => ws.once('close', resolve))
      ws.resume() // a paused socket would never read the server's close frame
      client.close()
      const timer = setTimeout(() => ws.terminate(), CLOSE_WAIT_MS)
      await closed
      clearTimeout(timer)
    },
  }
}

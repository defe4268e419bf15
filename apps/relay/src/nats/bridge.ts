/**
 * The relay's NATS side: a link per `nats://` route, a NATS output per `--out nats://` fed by a
 * message subscriber per other `--in` (it reassembles fragments, so NATS gets whole messages), and
 * a NATS input per `--in nats://` that sends what it hears to the relay's other outputs with each
 * message's original session and sequence.
 */
import type { Logger, TransportStatsLike } from '@shoal/service'
import {
  compileTopicFilter,
  createSubscriber,
  type Keyring,
  type Publisher,
  type ReceivedFrame,
  type Subscriber,
  type TopicFilter,
} from '@shoal/transport'
import { type InputAllow, inputAllow } from '../allow-list.js'
import type { RelayConfig, Route } from '../config.js'
import type { LoopGuard } from '../loop-guard.js'
import { describeRoute, routeFilter, subscriberOptions } from '../routes.js'
import { type IncomingMessage, NatsInput, type NatsInputCounters } from './input.js'
import { connectOptions, NatsLink, type NatsLinkStats } from './link.js'
import { ensureStream, NatsOutput, type NatsOutputCounters } from './output.js'

/** Logged once when a keyless relay with a NATS output hears sealed frames. */
export const NATS_KEYLESS_SEALED =
  'sealed frames: this relay has no key (--key-file) and cannot open them, so its nats:// outputs do not publish them (counted: no-key)'

export interface NatsCounters {
  readonly outputs: ReadonlyArray<NatsOutputCounters & { pendingBytes: number }>
  readonly inputs: readonly NatsInputCounters[]
  readonly links: ReadonlyArray<NatsLinkStats & { route: string }>
}

export interface NatsBridge {
  /** Whether any route is `nats://`: without, the relay opens nothing here. */
  readonly active: boolean
  counters(): NatsCounters
  /** The message subscribers' transport counters. */
  stats(): TransportStatsLike[]
  describe(): { inputs: Record<string, unknown>[]; outputs: Record<string, unknown>[] }
  /** A re-read key file (SIGHUP): the message inputs open with it. */
  setKeyring(keyring: Keyring): void
  close(): Promise<void>
}

export interface NatsBridgeOptions {
  readonly config: RelayConfig
  readonly logger: Logger
  /** The relay's other outputs: where NATS inputs send. */
  readonly publishers: ReadonlyArray<{ route: Route; publisher: Publisher }>
  /** Knows the relay's own output sockets and the hop limit. */
  readonly guard: LoopGuard
  /** Unicast outputs' destinations: a udp:// input takes those peers unless it has allow=. */
  readonly unicastPeers: readonly string[]
}

export async function openNatsBridge(options: NatsBridgeOptions): Promise<NatsBridge> {
  const { config, logger, publishers, guard } = options
  const links: Array<{ route: Route; link: NatsLink }> = []
  const outputs: NatsOutput[] = []
  const inputs: NatsInput[] = []
  const subscribers: Array<{ route: Route; subscriber: Subscriber; allow: InputAllow }> = []
  const name = `shoal-relay/${config.relayId}`
  let keylessSaid = false
  const closeAll = async () => {
    await Promise.all(subscribers.map(({ subscriber }) => subscriber.close()))
    await Promise.all(links.map(({ link }) => link.close()))
  }
  try {
    for (const route of config.outputs.filter((r) => r.scheme === 'nats')) {
      const prefix = route.prefix!
      const jetstream = route.jetstream
      const link = new NatsLink(
        route.spec,
        connectOptions(route, config.nats.auth, name),
        logger,
        (connection) => {
          if (jetstream === undefined) return
          ensureStream(
            connection,
            prefix,
            { name: jetstream, ...config.nats.stream },
            logger,
            route.spec,
          ).catch((error: unknown) =>
            logger.error(
              { route: route.spec, stream: jetstream, err: (error as Error).message },
              'JetStream stream not made',
            ),
          )
        },
      )
      links.push({ route, link })
      outputs.push(new NatsOutput(route.spec, link, prefix, compileTopicFilter(route.topics)))
    }
    const targets = publishers.map(({ route, publisher }) => ({
      accepts: compileTopicFilter(route.topics),
      publisher,
    }))
    const deliver = async (message: IncomingMessage) => {
      const taking = targets.filter(({ accepts }) => accepts(message.topic))
      if (taking.length === 0) return false
      await Promise.all(taking.map(({ publisher }) => publisher.forwardMessage(message)))
      return true
    }
    for (const route of config.inputs.filter((r) => r.scheme === 'nats')) {
      const input = new NatsInput(
        route.spec,
        route.prefix!,
        routeFilter(config.topic, route.topics),
        config.maxHops,
        deliver,
      )
      const link = new NatsLink(
        route.spec,
        connectOptions(route, config.nats.auth, name),
        logger,
        (connection) => input.subscribe(connection),
      )
      links.push({ route, link })
      inputs.push(input)
    }
    await Promise.all(links.map(({ link }) => link.open()))
    if (outputs.length > 0)
      for (const route of config.inputs.filter((r) => r.scheme !== 'nats')) {
        subscribers.push(await openMessageInput(route, options, outputs))
      }
  } catch (error) {
    await closeAll()
    throw error
  }
  return {
    active: links.length > 0,
    counters: () => ({
      outputs: outputs.map((o) => ({
        ...o.counters,
        dropped: { ...o.counters.dropped },
        pendingBytes: o.pendingBytes,
      })),
      inputs: inputs.map((i) => ({ ...i.counters, dropped: { ...i.counters.dropped } })),
      links: links.map(({ route, link }) => ({ route: route.spec, ...link.stats() })),
    }),
    stats: () => subscribers.map(({ subscriber }) => subscriber.stats()),
    describe: () => ({
      inputs: [
        ...links
          .filter(({ route }) => config.inputs.includes(route))
          .map(({ route, link }) => ({ ...natsRoute(route), state: link.state })),
        ...subscribers.map(({ route, subscriber, allow }) => ({
          ...describeRoute(route),
          for: 'nats outputs (whole messages)',
          allow: allow.list?.describe() ?? 'any host',
          bound: `${subscriber.info.bound.address}:${subscriber.info.bound.port}`,
        })),
      ],
      outputs: links
        .filter(({ route }) => config.outputs.includes(route))
        .map(({ route, link }) => ({ ...natsRoute(route), state: link.state })),
    }),
    setKeyring(keyring) {
      for (const { subscriber } of subscribers) subscriber.setKeyring(keyring)
    },
    close: closeAll,
  }

  /** A subscriber that reassembles and hands whole messages to every NATS output. */
  async function openMessageInput(
    route: Route,
    { config: c, unicastPeers }: NatsBridgeOptions,
    natsOutputs: readonly NatsOutput[],
  ) {
    const allow = inputAllow(route, unicastPeers)
    const list = allow.list
    const base = subscriberOptions(route, c.hopRepair)
    const subscriber = await createSubscriber({
      ...base,
      // Whole messages, undecoded: the payload goes to NATS as it is. A slow NATS never slows the
      // site's publishers: what it cannot take is dropped, counted (nats-backlog). With
      // --hop-repair the input reports STATUS as a receiver does, so that publishers with flow
      // control wait for the relay itself when it falls behind, instead of its socket dropping.
      forward: false,
      decode: false,
      status: c.hopRepair,
      // Names the built-in and --proto types in the Shoal-Type header (undecoded all the same).
      registry: c.types,
      ...(list === undefined ? {} : { allow: (address: string) => list.allows(address) }),
      ...(c.seal === undefined ? {} : { seal: { keyring: c.seal.in.keyring, mode: c.seal.in.mode } }),
    }).catch((error: unknown) => {
      throw new Error(`--in ${route.spec}: ${(error as Error).message}`, { cause: error })
    })
    const accepts: TopicFilter = routeFilter(c.topic, route.topics)
    subscriber.on('frame', (frame: ReceivedFrame) => {
      const drop = (reason: 'loop' | 'max-hops' | 'filtered') => {
        for (const output of natsOutputs) output.drop(reason)
      }
      // This relay's own output heard again (a NATS input sent it there): not back to NATS.
      if (guard.isOwnOutput(frame.source)) return drop('loop')
      if (guard.hopsExceeded(frame.hops)) return drop('max-hops')
      if (!accepts(frame.topic)) return drop('filtered')
      const message = {
        topic: frame.topic,
        typeName: frame.typeName,
        fingerprint: frame.fingerprint,
        payload: frame.payload,
        sessionId: frame.source.sessionId,
        sequence: frame.sequence,
        hops: frame.hops + 1,
      }
      for (const output of natsOutputs) output.publish(message)
    })
    subscriber.on('warning', (warning: { reason: string }) => {
      // NATS gets plain messages: what the relay cannot open it cannot publish. Said once.
      if (warning.reason === 'no-key' && !keylessSaid) {
        keylessSaid = true
        logger.warn({ route: route.spec }, NATS_KEYLESS_SEALED)
      }
      logger.debug({ route: route.spec, ...warning }, 'nats message input dropped a datagram')
    })
    return { route, subscriber, allow }
  }
}

function natsRoute(route: Route): Record<string, unknown> {
  return {
    route: route.spec,
    scheme: 'nats',
    server: `${route.host}:${route.port}`,
    prefix: route.prefix,
    ...(route.jetstream === undefined ? {} : { jetstream: route.jetstream }),
    ...(route.topics.length === 0 ? {} : { topics: route.topics }),
  }
}

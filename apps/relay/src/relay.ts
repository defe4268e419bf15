/**
 * Opens a relay: one publisher per `--out` (batching on), then one forward-mode subscriber per
 * `--in`, wired through the {@link Forwarder}. Outputs open first, so the loop guard knows every
 * output socket before the first datagram comes in.
 */
import type { Logger, TransportStatsLike } from '@shoal/service'
import { mergeTransportStats } from '@shoal/service'
import {
  compileTopicFilter,
  createPublisher,
  createSubscriber,
  type ForeignAck,
  type ForwardDatagram,
  type Keyring,
  type Publisher,
  type Subscriber,
  type TransportWarning,
} from '@shoal/transport'
import { FrameKind, isSealed } from '@shoal/transport/wire'
import { type InputAllow, inputAllow, OPEN_UDP_INPUT_WARNING } from './allow-list.js'
import type { RelayConfig, Route } from './config.js'
import type { RelayCounters } from './counters.js'
import { Forwarder } from './forwarder.js'
import { LoopGuard } from './loop-guard.js'
import { type NatsBridge, openNatsBridge } from './nats/bridge.js'
import {
  describeRoute,
  publisherOptions,
  resolveHost,
  routeFilter,
  routeLoopbackHint,
  subscriberOptions,
} from './routes.js'

export interface RelayInput {
  readonly route: Route
  readonly subscriber: Subscriber
  /** The peers it takes datagrams from, and why those. */
  readonly allow: InputAllow
}

export interface RelayOutput {
  readonly route: Route
  readonly publisher: Publisher
}

export interface Relay {
  readonly inputs: readonly RelayInput[]
  readonly outputs: readonly RelayOutput[]
  /** The `nats://` routes, and the message inputs that feed NATS outputs. */
  readonly nats: NatsBridge
  /** Forwarded, dropped by reason, per output, acks. */
  counters(): RelayCounters
  /** Every input's and output's transport counters, added up. */
  transportStats(): TransportStatsLike
  /** Datagram identities the loop guard remembers now. */
  dedupEntries(): number
  /** Where each route is bound, for logs and `/healthz`. */
  describe(): Record<string, unknown>
  /** New keyrings (SIGHUP): the inputs open with `inputs`, the outputs seal with `outputs`. */
  setKeyrings(inputs: Keyring, outputs: Keyring): void
  /** Stops taking input, leaves every group, sends what is batched, closes every socket. */
  close(): Promise<void>
}

export interface OpenRelayOptions {
  readonly logger: Logger
}

/**
 * What a relay says once per run (each reason), in words, when its keys and the traffic disagree;
 * every such datagram is still counted (`shoal_drops_total{reason}`, `invalid=`).
 */
export const RELAY_SEAL_MISMATCH: Readonly<Record<string, string>> = {
  // An output without the key hears receivers' sealed STATUS (acks and repair requests it passes
  // back unopened): flow control does not cross a relay anyway.
  'no-key':
    'sealed status from downstream: this relay has no key (--key-file) and cannot read it; sealed frames, acks and repair requests still pass',
  unauthenticated: 'unsealed frames: this relay has a key (--key-file) and forwards only sealed ones',
  'unknown-key': 'frames sealed under a key id this relay does not have: not forwarded (--key-file)',
}

export const KEYLESS_BATCH_FILTER =
  'encrypted batches pass this relay, which has no key: its topic filters cannot see the topics inside them and drop them (counted filtered). Give the relay --key-file, or have the senders not batch (--batch-linger 0)'

export const KEYLESS_HOP_REPAIR =
  'sealed frames pass this relay, which has no key: --hop-repair cannot ask their senders for what it missed (its requests would be unsealed); their receivers ask the senders through it instead. Give the relay --key-file to repair hop by hop'

function sealMismatchLog(logger: Logger) {
  const said = new Set<string>()
  return (route: string, warning: { reason: string; address?: string; port?: number }) => {
    const message = RELAY_SEAL_MISMATCH[warning.reason]
    if (message === undefined || said.has(warning.reason)) return
    said.add(warning.reason)
    logger.warn(
      { route, reason: warning.reason, address: warning.address, port: warning.port },
      `${message}, from ${warning.address ?? 'an unknown address'}`,
    )
  }
}

/** The first few send failures per route are logged as warnings; the rest are only counted. */
export const LOGGED_SEND_ERRORS = 5

export async function openRelay(config: RelayConfig, { logger }: OpenRelayOptions): Promise<Relay> {
  const inputs: RelayInput[] = []
  const outputs: RelayOutput[] = []
  let nats: NatsBridge | undefined
  const closeAll = async () => {
    await nats?.close()
    await Promise.all(inputs.map(({ subscriber }) => subscriber.close()))
    await Promise.all(outputs.map(({ publisher }) => publisher.close()))
  }
  const guard = new LoopGuard({ maxHops: config.maxHops })
  try {
    for (const route of config.outputs.filter((r) => r.scheme !== 'nats')) {
      const address = await resolveHost(route)
      const options = publisherOptions(route, address, config.hopRepair)
      if (config.seal !== undefined)
        options.seal = { keyring: config.seal.out.keyring, mode: config.seal.out.mode }
      const publisher = await createPublisher(options).catch((error: unknown) => {
        throw new Error(`--out ${route.spec}: ${(error as Error).message}`, { cause: error })
      })
      outputs.push({ route, publisher })
      guard.addOutput(publisher.info.local)
      const hint = routeLoopbackHint(route, 'out', publisher.info.interfaceAddress)
      if (hint !== undefined) logger.warn({ route: route.spec, interface: publisher.info.interface }, hint)
    }
    // A tunnel's relays send to each other: a udp:// input without allow= takes those peers.
    const unicastPeers = outputs
      .filter(({ route }) => route.scheme === 'unicast')
      .map(({ publisher }) => publisher.info.destination)
    // Datagrams are forwarded only to the UDP outputs: with none (NATS outputs only), no such input.
    const udpInputs = outputs.length === 0 ? [] : config.inputs.filter((r) => r.scheme !== 'nats')
    for (const route of udpInputs) {
      const allow = inputAllow(route, unicastPeers)
      // Datagrams from hosts an input does not take are dropped by its subscriber before any other
      // work (no decoding, no stream state): a stranger's flood costs one lookup per datagram.
      const list = allow.list
      const options = subscriberOptions(route, config.hopRepair)
      if (list !== undefined) options.allow = (address) => list.allows(address)
      if (config.seal !== undefined)
        options.seal = { keyring: config.seal.in.keyring, mode: config.seal.in.mode }
      const subscriber = await createSubscriber(options).catch((error: unknown) => {
        throw new Error(`--in ${route.spec}: ${(error as Error).message}`, { cause: error })
      })
      inputs.push({ route, subscriber, allow })
      const hint = routeLoopbackHint(route, 'in', subscriber.info.interfaceAddress)
      if (hint !== undefined) logger.warn({ route: route.spec, interface: subscriber.info.interface }, hint)
      if (route.scheme === 'udp' && allow.list === undefined)
        logger.warn({ route: route.spec, port: subscriber.info.bound.port }, OPEN_UDP_INPUT_WARNING)
    }
    nats = await openNatsBridge({ config, logger, publishers: outputs, guard, unicastPeers })
  } catch (error) {
    await closeAll()
    throw error
  }
  const bridge = nats

  const sendErrors = new Map<string, number>()
  const forwarder = new Forwarder(
    inputs.map(({ route, subscriber }) => ({
      spec: route.spec,
      accepts: routeFilter(config.topic, route.topics),
      reply: (data, to) => subscriber.reply(data, to),
      senderOf: (sessionId, topic) => subscriber.senderOf(sessionId, topic),
    })),
    outputs.map(({ route, publisher }) => ({
      spec: route.spec,
      accepts: compileTopicFilter(route.topics),
      budget: publisher.info.budget,
      forward: (frame, hops, foreign, about) => publisher.forward(frame, hops, foreign, about),
    })),
    guard,
    {
      onSendError(route, error) {
        const count = (sendErrors.get(route) ?? 0) + 1
        sendErrors.set(route, count)
        if (count <= LOGGED_SEND_ERRORS) {
          logger.warn(
            {
              route,
              err: error,
              ...(count === LOGGED_SEND_ERRORS ? { further: 'counted, not logged' } : {}),
            },
            'send failed',
          )
        }
      },
      onFirstOversize(route, bytes, budget) {
        logger.warn(
          { route, bytes, budget },
          'forwarding datagrams larger than this output’s MTU allows: IP fragments them (one lost fragment loses the datagram); give senders a --budget that fits every link on the path',
        )
      },
    },
  )

  let closed = false
  const mismatch = sealMismatchLog(logger)
  // A keyless relay repairing hop by hop cannot seal its repair requests: the senders of sealed
  // streams refuse them, and repair goes end to end (receivers' sealed requests pass back). Said once.
  let sealedSeen = config.seal !== undefined || !config.hopRepair
  // Nor can its topic filters see inside an encrypted batch (topic `*`): they drop it. Said once.
  const filtered =
    config.topic.length > 0 ||
    config.inputs.some((route) => route.topics.length > 0) ||
    config.outputs.some((route) => route.topics.length > 0)
  let sealedBatchSeen = config.seal !== undefined || !filtered
  inputs.forEach(({ route, subscriber }, index) => {
    subscriber.on('datagram', (datagram: ForwardDatagram) => {
      if (closed) return
      const { header } = datagram
      if (!(sealedSeen && sealedBatchSeen) && isSealed(header.flags)) {
        if (!sealedSeen) logger.warn({ route: route.spec }, KEYLESS_HOP_REPAIR)
        sealedSeen = true
        if (!sealedBatchSeen && header.kind === FrameKind.BATCH) {
          sealedBatchSeen = true
          logger.warn({ route: route.spec }, KEYLESS_BATCH_FILTER)
        }
      }
      forwarder.datagram(index, datagram)
    })
    subscriber.on('warning', (warning: TransportWarning) => {
      mismatch(route.spec, warning)
      logger.debug({ route: route.spec, ...warning }, 'input dropped a datagram')
    })
  })
  for (const { route, publisher } of outputs) {
    publisher.on('foreign-ack', (ack: ForeignAck) => {
      if (!closed) forwarder.ack(ack)
    })
    publisher.on('warning', (warning: { reason: string; address?: string; port?: number }) => {
      mismatch(route.spec, warning)
      logger.debug(
        { route: route.spec, reason: warning.reason, address: warning.address, port: warning.port },
        'output socket warning',
      )
    })
  }

  return {
    inputs,
    outputs,
    nats: bridge,
    counters: () => {
      // Not-allowed datagrams never reach the forwarder: their inputs' subscribers drop them first.
      const counters = forwarder.counters()
      let notAllowed = 0
      for (const { subscriber } of inputs) notAllowed += subscriber.outcomes()['not-allowed'] ?? 0
      return {
        ...counters,
        received: counters.received + notAllowed,
        dropped: { ...counters.dropped, 'not-allowed': counters.dropped['not-allowed'] + notAllowed },
      }
    },
    transportStats: () =>
      mergeTransportStats([
        ...inputs.map(({ subscriber }) => subscriber.stats()),
        ...outputs.map(({ publisher }) => publisher.stats()),
        ...bridge.stats(),
      ]),
    dedupEntries: () => guard.remembered,
    setKeyrings(inRing, outRing) {
      for (const { subscriber } of inputs) subscriber.setKeyring(inRing)
      bridge.setKeyring(inRing)
      for (const { publisher } of outputs) publisher.setKeyring(outRing)
    },
    describe: () => ({
      ...(bridge.active ? { nats: bridge.describe() } : {}),
      inputs: inputs.map(({ route, subscriber, allow }) => ({
        ...describeRoute(route),
        allow: allow.list?.describe() ?? 'any host',
        ...(allow.source === 'unicast outputs' ? { allowFrom: 'unicast outputs' } : {}),
        bound: `${subscriber.info.bound.address}:${subscriber.info.bound.port}`,
        recvBuffer: subscriber.info.recvBuffer.granted,
      })),
      outputs: outputs.map(({ route, publisher }) => ({
        ...describeRoute(route),
        destination: `${publisher.info.destination}:${publisher.info.port}`,
        local: `${publisher.info.local.address}:${publisher.info.local.port}`,
        budget: publisher.info.budget,
        ttl: publisher.info.ttl,
      })),
    }),
    async close() {
      if (closed) return
      closed = true
      forwarder.close()
      await closeAll()
    },
  }
}

import { hostname } from 'node:os'
import type { DynamicTypeRegistry } from '@shoal/schema'
import {
  commonFlags,
  conflict,
  defineFlags,
  type FlagValues,
  flag,
  type InterfaceRef,
  identifier,
  integer,
  keyFlags,
  readKeyFile,
  resolveProtoTypes,
  resolveSeal,
  type SealSetup,
  sealFlags,
  text,
  topicFilter,
} from '@shoal/service'
import type { AllowEntry } from './allow-list.js'
import {
  checkNatsRoutes,
  type NatsFlagValues,
  type NatsSettings,
  natsFlags,
  resolveNats,
} from './nats/flags.js'
import {
  DEFAULT_NATS_PORT,
  type Direction,
  EXAMPLES,
  type RouteScheme,
  type RouteSpec,
  routeSpec,
} from './route-spec.js'

export {
  DEFAULT_NATS_PORT,
  type Direction,
  ROUTE_SCHEMES,
  type RouteScheme,
  type RouteSpec,
  routeSpec,
} from './route-spec.js'

/** This host's name, made into a valid relay id. */
export function defaultRelayId(): string {
  return (
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 64) || 'relay'
  )
}

/** Every flag of shoal-relay, once: the parser, the help, the README table and the tests read this. */
export const relayFlags = defineFlags({
  in: flag.list(routeSpec('in'), {
    placeholder: 'route',
    separator: /\s+/,
    help: 'Where frames come from: multicast://, broadcast://, udp:// (listen) or nats://; see Routes',
  }),
  out: flag.list(routeSpec('out'), {
    placeholder: 'route',
    separator: /\s+/,
    help: 'Where frames go: multicast://, broadcast://, unicast:// or nats://; see Routes',
  }),
  topic: flag.list(topicFilter(), {
    placeholder: 'filter',
    defaultText: 'all topics',
    help: 'Forward only these topics, on every route: exact (sensors/imu) or prefix (sensors/*)',
  }),
  'relay-id': flag.value(identifier(), {
    placeholder: 'id',
    default: defaultRelayId,
    defaultText: 'the host name',
    help: 'This relay’s id, in its logs, /healthz and metrics (shoal_relay_info)',
  }),
  'hop-repair': flag.boolean({
    help: 'Repair hop by hop: keep what is forwarded (64 MiB, 1 s) and resend what receivers beyond ask for; ask senders for what this relay missed, and report how far it holds (their flow control waits for it)',
  }),
  'max-hops': flag.value(integer(1, 255), {
    placeholder: 'n',
    default: '8',
    help: 'Drop datagrams that have already crossed this many relays (a backstop against loops)',
  }),
  ...keyFlags,
  'key-file': {
    ...keyFlags['key-file'],
    help: 'Group keyring (lines KEY_ID HEX, mode 0600): inputs open sealed frames, outputs seal again; re-read on SIGHUP. Without any key, sealed frames pass as they are',
  },
  'out-key-file': flag.value(text('a file path'), {
    placeholder: 'file',
    defaultText: 'the --key-file',
    help: 'Keyring the --out routes seal with, when the far side has other keys than this one (needs --key-file)',
  }),
  ...sealFlags,
  ...natsFlags,
  ...commonFlags,
  interface: {
    ...commonFlags.interface,
    help: 'Interface of routes without ?interface=; by name or address',
  },
  port: { ...commonFlags.port, help: 'UDP port of routes without :port' },
  ttl: { ...commonFlags.ttl, help: 'TTL written into forwarded datagrams, unless a route has ?ttl=' },
})

export type RelayFlags = FlagValues<typeof relayFlags>

/** A route with every default applied. */
export interface Route {
  readonly spec: string
  readonly scheme: RouteScheme
  readonly host: string
  readonly port: number
  readonly interface: InterfaceRef
  /** TTL of sent datagrams (out routes); undefined for in routes. */
  readonly ttl: number | undefined
  readonly source: string | undefined
  readonly topics: readonly string[]
  /** `allow=` of an in route; undefined when not given (see `inputAllow` for the default). */
  readonly allow: readonly AllowEntry[] | undefined
  /** `nats://`: the subject prefix. */
  readonly prefix: string | undefined
  /** `nats://` out: the JetStream stream capturing it, with `?jetstream`. */
  readonly jetstream: string | undefined
}

/** A keyed relay: what its inputs open with and its outputs seal with (the same, or another site's). */
export interface RelaySeal {
  readonly in: SealSetup
  readonly out: SealSetup
}

type NatsFlagKeys = keyof NatsFlagValues

export interface RelayConfig
  extends Omit<
    RelayFlags,
    'in' | 'out' | 'keyFile' | 'outKeyFile' | 'seal' | 'newKey' | 'newKeyId' | NatsFlagKeys
  > {
  readonly inputs: readonly Route[]
  readonly outputs: readonly Route[]
  /** With `--key-file`; undefined for a keyless relay (sealed frames pass as they are). */
  readonly seal: RelaySeal | undefined
  /** Built-in and `--proto` types: a relay forwards frames undecoded, so it only names them. */
  readonly types: DynamicTypeRegistry
  /** Credentials, TLS and stream limits of the `nats://` routes. */
  readonly nats: NatsSettings
}

/** Applies the flag defaults to each route and refuses relays that cannot work. */
export function resolveRelayConfig(values: RelayFlags): RelayConfig {
  const {
    in: inSpecs,
    out: outSpecs,
    keyFile,
    outKeyFile,
    seal: sealMode,
    newKey: _newKey,
    newKeyId: _newKeyId,
    ...rest
  } = values
  if (inSpecs.length === 0)
    throw conflict('--in', `shoal-relay needs at least one --in <route>, e.g. --in ${EXAMPLES.in}`)
  if (outSpecs.length === 0) {
    throw conflict('--out', `shoal-relay needs at least one --out <route>, e.g. --out ${EXAMPLES.out}`)
  }
  const complete = (route: RouteSpec, direction: Direction): Route => ({
    spec: route.spec,
    scheme: route.scheme,
    host: route.host,
    port: route.port ?? (route.scheme === 'nats' ? DEFAULT_NATS_PORT : values.port),
    interface: route.interface ?? values.interface,
    ttl: direction === 'out' ? (route.ttl ?? values.ttl) : undefined,
    source: route.source,
    topics: route.topics,
    allow: route.allow,
    prefix: route.prefix,
    jetstream: route.jetstream,
  })
  const inputs = inSpecs.map((route) => complete(route, 'in'))
  const outputs = outSpecs.map((route) => complete(route, 'out'))

  for (const output of outputs) {
    const loop = inputs.find(
      (input) =>
        input.scheme === output.scheme &&
        input.scheme !== 'udp' &&
        input.host === output.host &&
        input.port === output.port &&
        input.prefix === output.prefix &&
        input.interface.name === output.interface.name,
    )
    if (loop !== undefined) {
      throw conflict(
        '--out',
        `--out ${output.spec} is the same as --in ${loop.spec}: the relay would forward to itself`,
      )
    }
  }
  checkNatsRoutes(inputs, outputs)
  const nats = resolveNats(values)
  // The nats* flag values stay out of the config: their secrets live in `nats.auth` only.
  for (const key of Object.keys(rest))
    if (key.startsWith('nats')) delete (rest as Record<string, unknown>)[key]
  const seal = resolveRelaySeal(keyFile, outKeyFile, sealMode)
  return { ...rest, inputs, outputs, seal, nats, types: resolveProtoTypes(values.proto) }
}

/**
 * `--key-file`, `--out-key-file` and `--seal`. An output key needs an input key: a relay seals again
 * only what it opened and checked, never vouches for frames anyone could have sent it.
 */
function resolveRelaySeal(
  keyFile: string | undefined,
  outKeyFile: string | undefined,
  mode: RelayFlags['seal'],
): RelaySeal | undefined {
  if (outKeyFile !== undefined && keyFile === undefined)
    throw conflict(
      '--out-key-file',
      '--out-key-file needs --key-file: the relay seals again only frames it opened with its own key',
    )
  const inSeal = resolveSeal({ keyFile, seal: mode })
  if (inSeal === undefined) return undefined
  const out =
    outKeyFile === undefined
      ? inSeal
      : { keyring: readKeyFile(outKeyFile, '--out-key-file'), mode: inSeal.mode, keyFile: outKeyFile }
  return { in: inSeal, out }
}

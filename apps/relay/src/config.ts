import { isIP } from 'node:net'
import { hostname } from 'node:os'
import type { DynamicTypeRegistry } from '@shoal/schema'
import {
  commonFlags,
  conflict,
  defineFlags,
  type FlagValues,
  flag,
  host as hostSchema,
  type InterfaceRef,
  identifier,
  integer,
  ipAddress,
  keyFlags,
  multicastGroup,
  networkInterface,
  readKeyFile,
  resolveProtoTypes,
  resolveSeal,
  type SealSetup,
  sealFlags,
  text,
  topicFilter,
  ttl as ttlSchema,
  type ValueSchema,
} from '@shoal/service'
import { z } from 'zod'
import { type AllowEntry, MAX_ALLOW_ENTRIES, parseAllowEntry } from './allow-list.js'
import {
  checkNatsRoutes,
  defaultStreamName,
  MAX_STREAM_NAME,
  type NatsFlagValues,
  type NatsSettings,
  natsFlags,
  resolveNats,
  STREAM_NAME,
} from './nats/flags.js'
import { prefixProblem } from './nats/subject.js'

export type Direction = 'in' | 'out'

/**
 * Route schemes:
 * - `multicast://group[:port]` — in: join the group; out: send to it
 * - `broadcast://address[:port]` — in: receive broadcasts; out: send to the broadcast address (IPv4)
 * - `udp://bind-address[:port]` — in only: listen for unicast datagrams on a local address
 * - `unicast://host[:port]` — out only: send to one host
 * - `nats://host[:port]/PREFIX` — in: subscribe to `PREFIX.>` on a NATS server; out: publish each
 *   whole message on `PREFIX.TOPIC` (see nats/)
 */
export const ROUTE_SCHEMES = {
  in: ['multicast', 'broadcast', 'udp', 'nats'],
  out: ['multicast', 'broadcast', 'unicast', 'nats'],
} as const

/** The NATS client port of `nats://` routes without `:port`. */
export const DEFAULT_NATS_PORT = 4222

export type RouteScheme = (typeof ROUTE_SCHEMES)[Direction][number]

/** Query options each scheme takes, by direction. */
const ROUTE_OPTIONS: Readonly<Record<Direction, Readonly<Partial<Record<RouteScheme, readonly string[]>>>>> =
  {
    in: {
      multicast: ['interface', 'source', 'allow', 'topic'],
      broadcast: ['interface', 'allow', 'topic'],
      udp: ['allow', 'topic'],
      nats: ['topic'],
    },
    out: {
      multicast: ['interface', 'ttl', 'topic'],
      broadcast: ['interface', 'ttl', 'topic'],
      unicast: ['ttl', 'topic'],
      nats: ['topic', 'jetstream'],
    },
  }

/** One `--in` or `--out` as written; `resolveRelayConfig` fills what it leaves out from the flags. */
export interface RouteSpec {
  /** As written, for logs and messages. */
  readonly spec: string
  readonly scheme: RouteScheme
  /** Group, broadcast address, bind address or destination host; IPv6 without brackets. */
  readonly host: string
  readonly port: number | undefined
  readonly interface: InterfaceRef | undefined
  readonly ttl: number | undefined
  /** Source-specific multicast sender address (`multicast://` in only). */
  readonly source: string | undefined
  /** Topic filters of this route; empty for all. */
  readonly topics: readonly string[]
  /** `allow=`: the only peers an `--in` route takes datagrams from; undefined when not given. */
  readonly allow: readonly AllowEntry[] | undefined
  /** `nats://`: the subject prefix (the URL's path). */
  readonly prefix: string | undefined
  /** `nats://` out with `?jetstream`: the JetStream stream that captures `PREFIX.>`. */
  readonly jetstream: string | undefined
}

const EXAMPLES: Readonly<Record<Direction, string>> = {
  in: 'multicast://239.1.1.1:7400?interface=eth0',
  out: 'unicast://10.0.0.7:7400',
}

const optionSchemas = {
  interface: networkInterface(),
  ttl: ttlSchema(),
  source: ipAddress(),
  topic: topicFilter(),
} satisfies Record<string, ValueSchema>

function firstIssue(
  schema: ValueSchema,
  value: string,
): { ok: true; data: unknown } | { ok: false; message: string } {
  const result = schema.safeParse(value)
  return result.success
    ? { ok: true, data: result.data }
    : { ok: false, message: result.error.issues[0]?.message ?? 'invalid' }
}

/**
 * A route: `<scheme>://<host>[:<port>][?interface=…&ttl=…&source=…&allow=…&topic=…]`, IPv6 hosts in
 * brackets, `topic` and `allow` repeatable or comma-separated. Which schemes and options are allowed
 * depends on the direction; see {@link ROUTE_SCHEMES}.
 */
export function routeSpec(direction: Direction): ValueSchema<RouteSpec> {
  const schemes: readonly string[] = ROUTE_SCHEMES[direction]
  return z
    .string()
    .trim()
    .transform((spec, ctx): RouteSpec => {
      const fail = (message: string) => {
        ctx.addIssue({ code: 'custom', message })
        return z.NEVER
      }
      const scheme = /^([a-z]+):\/\//.exec(spec)?.[1]
      if (scheme === undefined)
        return fail(`expected <scheme>://<host>[:port][?options], e.g. ${EXAMPLES[direction]}`)
      if (!schemes.includes(scheme)) {
        return fail(`--${direction} takes ${schemes.map((s) => `${s}://`).join(', ')}, not ${scheme}://`)
      }
      let url: URL
      try {
        url = new URL(spec)
      } catch {
        return fail(`not a valid address; expected ${scheme}://<host>[:port], e.g. ${EXAMPLES[direction]}`)
      }
      if (scheme === 'nats' && (url.username !== '' || url.password !== ''))
        return fail(
          'no credentials in the route (it is logged): give them as --nats-user/--nats-password, --nats-token or --nats-creds',
        )
      let prefix: string | undefined
      if (scheme === 'nats') {
        prefix = url.pathname.replace(/^\//, '')
        const problem = url.hash === '' ? prefixProblem(prefix) : 'expected nats://<host>[:port]/PREFIX'
        if (problem !== undefined) return fail(`${problem}; e.g. nats://127.0.0.1:4222/site-a.shoal`)
      } else if (
        url.username !== '' ||
        url.password !== '' ||
        url.hash !== '' ||
        !['', '/'].includes(url.pathname)
      ) {
        return fail(`expected only ${scheme}://<host>[:port][?options]`)
      }

      const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase()
      const hostCheck = {
        multicast: () => firstIssue(multicastGroup(), host),
        broadcast: () =>
          isIP(host) === 4
            ? { ok: true }
            : { ok: false, message: 'broadcast needs an IPv4 address, e.g. 10.0.0.255' },
        udp: () => firstIssue(ipAddress(), host),
        unicast: () => firstIssue(hostSchema(), host),
        nats: () => firstIssue(hostSchema(), host),
      }[scheme as RouteScheme]()
      if (!hostCheck.ok)
        return fail(`host ${host || '(none)'}: ${'message' in hostCheck ? hostCheck.message : ''}`)

      const port = url.port === '' ? undefined : Number(url.port)
      if (port === 0) return fail('port must be 1-65535')

      const allowed = ROUTE_OPTIONS[direction][scheme as RouteScheme] ?? []
      const options: { interface?: InterfaceRef; ttl?: number; source?: string } = {}
      const topics: string[] = []
      let allow: AllowEntry[] | undefined
      let jetstream: string | undefined
      for (const [key, value] of url.searchParams) {
        if (!allowed.includes(key)) {
          return fail(`${scheme}:// --${direction} takes no option ${key}; it takes ${allowed.join(', ')}`)
        }
        if (key === 'jetstream') {
          if (jetstream !== undefined) return fail('option jetstream given twice')
          // `?jetstream` alone: a stream named after the prefix.
          jetstream = value === '' ? defaultStreamName(prefix!) : value
          if (!STREAM_NAME.test(jetstream))
            return fail(`jetstream=${value}: a stream name is 1-${MAX_STREAM_NAME} of A-Z a-z 0-9 _ -`)
          continue
        }
        if (key === 'allow') {
          allow ??= []
          for (const item of value.split(',')) {
            const parsed = parseAllowEntry(item)
            if (!parsed.ok) return fail(`allow=${item}: ${parsed.message}`)
            allow.push(parsed.entry)
          }
          if (allow.length > MAX_ALLOW_ENTRIES)
            return fail(`allow= lists ${allow.length} peers; at most ${MAX_ALLOW_ENTRIES} (use prefixes)`)
          continue
        }
        const values = key === 'topic' ? value.split(',') : [value]
        for (const item of values) {
          const checked = firstIssue(optionSchemas[key as keyof typeof optionSchemas], item)
          if (!checked.ok) return fail(`${key}=${item}: ${checked.message}`)
          if (key === 'topic') topics.push(checked.data as string)
          else if (key in options) return fail(`option ${key} given twice`)
          else Object.assign(options, { [key]: checked.data })
        }
      }
      if (options.source !== undefined && isIP(options.source) !== isIP(host)) {
        return fail(`source=${options.source} and group ${host} are of different IP versions`)
      }
      return {
        spec,
        scheme: scheme as RouteScheme,
        host,
        port,
        interface: options.interface,
        ttl: options.ttl,
        source: options.source,
        topics,
        allow,
        prefix,
        jetstream,
      }
    })
}

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
    help: 'Repair hop by hop: keep what is forwarded (64 MiB, 1 s) and resend what receivers beyond ask for; ask senders for what this relay missed',
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

/**
 * The relay's routes as written: `--in` and `--out` URLs parsed and checked, each scheme with its
 * own options and direction. `resolveRelayConfig` (config.ts) fills in what a route leaves out.
 */
import { isIP } from 'node:net'
import {
  host as hostSchema,
  type InterfaceRef,
  ipAddress,
  multicastGroup,
  networkInterface,
  topicFilter,
  ttl as ttlSchema,
  type ValueSchema,
} from '@shoal/service'
import { z } from 'zod'
import { type AllowEntry, MAX_ALLOW_ENTRIES, parseAllowEntry } from './allow-list.js'
import { defaultStreamName, MAX_STREAM_NAME, STREAM_NAME } from './nats/flags.js'
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

export const EXAMPLES: Readonly<Record<Direction, string>> = {
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

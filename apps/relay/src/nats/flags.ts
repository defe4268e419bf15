/**
 * The relay's NATS flags: credentials and TLS for every `nats://` route (passed to the client, never
 * logged: give secrets by environment, `SHOAL_NATS_PASSWORD`, `SHOAL_NATS_TOKEN`, or a config file
 * rather than on the command line, where `ps` shows them), and the limits of JetStream streams.
 */
import { accessSync, constants } from 'node:fs'
import { conflict, duration, flag, integer, size, text } from '@shoal/service'
import type { Route } from '../config.js'
import type { NatsAuth } from './link.js'
import type { StreamLimits } from './output.js'

/** Defaults of a `?jetstream` stream's limits; past one, the oldest messages go. */
export const DEFAULT_STREAM_MAX_BYTES = '1GiB'
export const DEFAULT_STREAM_MAX_AGE = '24h'
export const DEFAULT_STREAM_MAX_MSGS = '10000000'

const file = (help: string) => flag.value(text('a file path'), { placeholder: 'file', help })

export const natsFlags = {
  'nats-user': flag.value(text(), {
    placeholder: 'name',
    help: 'User name on the NATS server (with --nats-password)',
  }),
  'nats-password': flag.value(text(), {
    placeholder: 'secret',
    help: 'Password of --nats-user; better from SHOAL_NATS_PASSWORD or a config file than the command line',
  }),
  'nats-token': flag.value(text(), {
    placeholder: 'secret',
    help: 'Token for the NATS server; better from SHOAL_NATS_TOKEN or a config file',
  }),
  'nats-creds': file('NATS credentials file (JWT and NKey seed, .creds)'),
  'nats-tls-ca': file('CA certificate (PEM) the NATS server’s certificate must chain to; turns TLS on'),
  'nats-tls-cert': file('Client certificate (PEM) for NATS TLS (with --nats-tls-key)'),
  'nats-tls-key': file('Private key (PEM) of --nats-tls-cert'),
  'nats-stream-max-bytes': flag.value(size({ min: 1 }), {
    placeholder: 'size',
    default: DEFAULT_STREAM_MAX_BYTES,
    help: 'Bytes a ?jetstream stream keeps at most; the oldest messages go first',
  }),
  'nats-stream-max-age': flag.value(duration({ min: 1_000 }), {
    placeholder: 'duration',
    default: DEFAULT_STREAM_MAX_AGE,
    help: 'How long a ?jetstream stream keeps a message',
  }),
  'nats-stream-max-msgs': flag.value(integer(1, Number.MAX_SAFE_INTEGER), {
    placeholder: 'n',
    default: DEFAULT_STREAM_MAX_MSGS,
    help: 'Messages a ?jetstream stream keeps at most; the oldest go first',
  }),
} as const

export interface NatsFlagValues {
  readonly natsUser: string | undefined
  readonly natsPassword: string | undefined
  readonly natsToken: string | undefined
  readonly natsCreds: string | undefined
  readonly natsTlsCa: string | undefined
  readonly natsTlsCert: string | undefined
  readonly natsTlsKey: string | undefined
  readonly natsStreamMaxBytes: number
  readonly natsStreamMaxAge: number
  readonly natsStreamMaxMsgs: number
}

export interface NatsSettings {
  readonly auth: NatsAuth
  /** Limits of every `?jetstream` stream (the name is the route's). */
  readonly stream: Omit<StreamLimits, 'name'>
}

function readable(path: string, name: string): void {
  try {
    accessSync(path, constants.R_OK)
  } catch (error) {
    throw conflict(
      name,
      `${name} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    )
  }
}

/** Checks the flags go together and the files can be read; the secrets stay in the result only. */
export function resolveNats(values: NatsFlagValues): NatsSettings {
  if (values.natsPassword !== undefined && values.natsUser === undefined)
    throw conflict('--nats-password', '--nats-password needs --nats-user')
  if (values.natsUser !== undefined && values.natsPassword === undefined)
    throw conflict('--nats-user', '--nats-user needs --nats-password (or SHOAL_NATS_PASSWORD)')
  const ways = [
    values.natsUser === undefined ? undefined : '--nats-user',
    values.natsToken === undefined ? undefined : '--nats-token',
    values.natsCreds === undefined ? undefined : '--nats-creds',
  ].filter((w) => w !== undefined)
  if (ways.length > 1)
    throw conflict(ways[1]!, `give one of --nats-user, --nats-token, --nats-creds, not ${ways.join(' and ')}`)
  if ((values.natsTlsCert === undefined) !== (values.natsTlsKey === undefined))
    throw conflict(
      values.natsTlsCert === undefined ? '--nats-tls-key' : '--nats-tls-cert',
      '--nats-tls-cert and --nats-tls-key go together',
    )
  for (const [name, path] of [
    ['--nats-creds', values.natsCreds],
    ['--nats-tls-ca', values.natsTlsCa],
    ['--nats-tls-cert', values.natsTlsCert],
    ['--nats-tls-key', values.natsTlsKey],
  ] as const)
    if (path !== undefined) readable(path, name)
  return {
    auth: {
      user: values.natsUser,
      password: values.natsPassword,
      token: values.natsToken,
      credsFile: values.natsCreds,
      tlsCa: values.natsTlsCa,
      tlsCert: values.natsTlsCert,
      tlsKey: values.natsTlsKey,
    },
    stream: {
      maxBytes: values.natsStreamMaxBytes,
      maxAgeMs: values.natsStreamMaxAge,
      maxMsgs: values.natsStreamMaxMsgs,
    },
  }
}

/** JetStream stream names: no `.`, `*`, `>`, whitespace or path separators; kept to this. */
export const MAX_STREAM_NAME = 64
export const STREAM_NAME = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_STREAM_NAME}}$`)

/** `SHOAL_` and the prefix with `.` as `_`: `site-a.shoal` → `SHOAL_site-a_shoal`. */
export function defaultStreamName(prefix: string): string {
  return `SHOAL_${prefix.replace(/\./g, '_')}`.slice(0, MAX_STREAM_NAME)
}

/**
 * A `nats://` input feeds the multicast, broadcast and unicast outputs, a `nats://` output takes
 * the other inputs' messages: NATS to NATS is not a relay's job (NATS bridges itself). A `udp://`
 * input cannot feed both kinds of output: each kind takes its own socket on the input's port, and a
 * unicast port is one socket's alone.
 */
export function checkNatsRoutes(inputs: readonly Route[], outputs: readonly Route[]): void {
  const isNats = (r: Route) => r.scheme === 'nats'
  const natsIn = inputs.find(isNats)
  if (natsIn !== undefined && outputs.every(isNats))
    throw conflict(
      '--in',
      `--in ${natsIn.spec} needs a multicast://, broadcast:// or unicast:// --out to send to`,
    )
  const natsOut = outputs.find(isNats)
  if (natsOut !== undefined && inputs.every(isNats))
    throw conflict(
      '--out',
      `--out ${natsOut.spec} needs a multicast://, broadcast:// or udp:// --in to take frames from`,
    )
  const udp = inputs.find((r) => r.scheme === 'udp')
  if (udp !== undefined && natsOut !== undefined && !outputs.every(isNats))
    throw conflict(
      '--in',
      `--in ${udp.spec} cannot feed both --out ${natsOut.spec} and other outputs (one socket per unicast port): run two relays`,
    )
}

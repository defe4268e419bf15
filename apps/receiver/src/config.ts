import { isIP } from 'node:net'
import { hostname } from 'node:os'
import { isMcapPath } from '@shoal/recording'
import type { DynamicTypeRegistry } from '@shoal/schema'
import {
  commonFlags,
  conflict,
  defineFlags,
  duration,
  type FlagSources,
  type FlagValues,
  flag,
  identifier,
  integer,
  ipAddress,
  keyFlags,
  modeFlags,
  multicastGroup,
  oneOf,
  resolveProtoTypes,
  resolveSeal,
  type SealSetup,
  size,
  text,
  topicFilter,
} from '@shoal/service'
import { DEFAULT_MAX_STREAMS } from '@shoal/transport'
import { checkFoxgloveFlags, foxgloveFlags } from './foxglove/flags.js'

export const DEFAULT_GROUP_V4 = '239.255.0.1'
/** The IPv6 counterpart of 239.255.0.1: a transient (T flag), site-local (scope 5) group. */
export const DEFAULT_GROUP_V6 = 'ff15::1'

export const OUTPUTS = ['json', 'pretty', 'none'] as const
export const RECORD_COMPRESSIONS = ['zstd', 'none'] as const

/**
 * The flags `--from` works with: what to print and when to stop. Every other flag is about the
 * network, which `--from` never touches (not even `--http`).
 */
const FROM_FLAGS = new Set([
  'from',
  'topic',
  'output',
  'full',
  'count',
  'duration',
  'logLevel',
  'config',
  'proto',
])
export type Output = (typeof OUTPUTS)[number]

/** This host's name, made into a valid receiver name. */
export function defaultReceiverName(): string {
  return (
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 64) || 'receiver'
  )
}

/** Every flag of shoal-recv, once: the parser, the help, the README table and the tests read this. */
export const receiverFlags = defineFlags({
  group: flag.list(multicastGroup(), {
    placeholder: 'address',
    defaultText: `${DEFAULT_GROUP_V4}, or ${DEFAULT_GROUP_V6} with --ipv6`,
    help: 'Multicast group to join',
  }),
  source: flag.value(ipAddress(), {
    placeholder: 'address',
    help: 'Receive only from this sender address (source-specific multicast)',
  }),
  topic: flag.list(topicFilter(), {
    placeholder: 'filter',
    defaultText: 'all topics',
    help: 'Keep only these topics: exact (sensors/imu) or prefix (sensors/*)',
  }),
  output: flag.value(oneOf(OUTPUTS), {
    placeholder: 'format',
    default: () => (process.stdout.isTTY ? 'pretty' : 'json'),
    defaultText: 'pretty on a terminal, else json',
    help: 'What to print on stdout per frame: json (one line each), pretty, or none',
  }),
  full: flag.boolean({
    help: 'Print bytes fields (Image data) in full, base64; by default each becomes {"bytes": length}',
  }),
  record: flag.value(text('a file path'), {
    placeholder: 'file',
    help: 'Record received frames to this file, for shoal-send --replay: MCAP when it ends in .mcap, else Shoal’s own format',
  }),
  'record-compression': flag.value(oneOf(RECORD_COMPRESSIONS), {
    placeholder: 'kind',
    default: 'zstd',
    help: 'Chunk compression of an MCAP --record file: zstd or none',
  }),
  'record-max-size': flag.value(size(), {
    placeholder: 'bytes',
    default: '256MiB',
    help: 'Start a new --record file when it reaches this size, keeping the last few; 0 never rotates',
  }),
  ack: flag.boolean({ help: 'Acknowledge frames whose sender asked for it (shoal-send --ack)' }),
  name: flag.value(identifier(), {
    placeholder: 'name',
    default: defaultReceiverName,
    defaultText: 'the host name',
    help: 'This receiver’s name in acknowledgements (shoal-send --expect)',
  }),
  raw: flag.boolean({ help: 'Print every datagram as received, without decoding Shoal frames' }),
  'no-repair': flag.boolean({
    help: 'Never ask senders to resend lost frames or fragments (by default they are asked)',
  }),
  ordered: flag.boolean({
    help: 'Print each sender’s frames in sequence order: after a lost frame, later ones wait (at most about 0.9 s) for its repair',
  }),
  'no-status': flag.boolean({
    help: 'Send senders no flow-control status: they do not wait for this receiver, which may then lose frames it has no room for',
  }),
  'max-streams': flag.value(integer(1, 1_000_000), {
    placeholder: 'n',
    default: String(DEFAULT_MAX_STREAMS),
    help: 'Streams (sender session × topic) tracked at once; past it, new and quiet ones go first (counted)',
  }),
  from: flag.value(text('a file path'), {
    placeholder: 'file',
    help: 'Read frames from a recording (MCAP or Shoal’s own) instead of the network, print them as live, and exit',
  }),
  count: flag.value(integer(1, Number.MAX_SAFE_INTEGER), {
    placeholder: 'n',
    help: 'Stop after receiving this many frames',
  }),
  duration: flag.value(duration({ min: 1 }), {
    placeholder: 'duration',
    help: 'Stop after this long, e.g. 30s',
  }),
  ...foxgloveFlags,
  ...keyFlags,
  ...modeFlags,
  ...commonFlags,
})

export type ReceiverFlags = FlagValues<typeof receiverFlags>

/** What to listen to: groups to join, the port alone for broadcast and unicast, or a file (`--from`). */
export type ReceiverListen =
  | { readonly mode: 'multicast'; readonly groups: readonly string[]; readonly source: string | undefined }
  | { readonly mode: 'broadcast' | 'unicast' }
  | { readonly mode: 'file'; readonly path: string }

/** A config that receives from the network (not `--from`). */
export type NetworkReceiverConfig = ReceiverConfig & {
  readonly listen: Exclude<ReceiverListen, { readonly mode: 'file' }>
}

export interface ReceiverConfig
  extends Omit<ReceiverFlags, 'group' | 'source' | 'mode' | 'keyFile' | 'newKey' | 'newKeyId'> {
  readonly listen: ReceiverListen
  /** With `--key-file`: only sealed frames are taken, and control frames sent are sealed. */
  readonly seal: SealSetup | undefined
  /** The types decoded, printed and recorded: the built-in ones and `--proto`'s (see `resolveProtoTypes`). */
  readonly types: DynamicTypeRegistry
}

/** Checks what no single flag can and settles defaults that depend on other flags. */
export function resolveReceiverConfig(
  values: ReceiverFlags,
  { sources }: { readonly sources: FlagSources<typeof receiverFlags> },
): ReceiverConfig {
  if (values.from !== undefined) return fromFileConfig(values, values.from, sources)
  const { group, source, mode, keyFile, newKey: _newKey, newKeyId: _newKeyId, ...rest } = values
  const family = values.ipv6 ? 6 : 4
  const hint = values.ipv6 ? '' : '; add --ipv6'

  const wrongGroup = group.find((address) => isIP(address) !== family)
  if (wrongGroup !== undefined)
    throw conflict('--group', `--group ${wrongGroup} is not an IPv${family} group${hint}`)
  if (source !== undefined && isIP(source) !== family) {
    throw conflict('--source', `--source ${source} is not an IPv${family} address${hint}`)
  }
  if (sources.recordMaxSize !== 'default' && rest.record === undefined) {
    throw conflict('--record-max-size', '--record-max-size needs --record <file>')
  }
  if (sources.recordCompression !== 'default' && (rest.record === undefined || !isMcapPath(rest.record)))
    throw conflict('--record-compression', '--record-compression needs --record <file>.mcap')
  if (rest.raw && rest.ack)
    throw conflict('--ack', '--ack needs Shoal frames; --raw prints datagrams undecoded')
  if (rest.raw && rest.topic.length > 0)
    throw conflict('--topic', '--topic needs Shoal frames; --raw prints datagrams undecoded')
  if (rest.raw && rest.record !== undefined)
    throw conflict('--record', '--record needs Shoal frames; --raw prints datagrams undecoded')
  if (rest.raw && rest.full)
    throw conflict('--full', '--full needs Shoal frames; --raw prints datagrams undecoded')
  if (rest.raw && rest.ordered)
    throw conflict('--ordered', '--ordered needs Shoal frames; --raw prints datagrams undecoded')
  if (rest.noRepair && rest.ordered)
    throw conflict('--ordered', '--ordered waits for repairs, and --no-repair asks for none')
  if (rest.raw && rest.noStatus)
    throw conflict('--no-status', '--no-status needs Shoal frames; --raw prints datagrams undecoded')
  if (rest.raw && rest.noRepair)
    throw conflict('--no-repair', '--no-repair needs Shoal frames; --raw prints datagrams undecoded')
  if (rest.raw && keyFile !== undefined)
    throw conflict('--key-file', '--key-file opens sealed Shoal frames; --raw prints datagrams undecoded')

  checkFoxgloveFlags(values, sources)

  let listen: ReceiverListen
  if (mode === 'multicast') {
    const groups =
      group.length > 0 ? [...new Set(group)] : [values.ipv6 ? DEFAULT_GROUP_V6 : DEFAULT_GROUP_V4]
    listen = { mode, groups, source }
  } else {
    if (group.length > 0)
      throw conflict('--group', `--group is for --mode multicast; --mode ${mode} listens on --port`)
    if (source !== undefined)
      throw conflict('--source', '--source is for --mode multicast (source-specific multicast)')
    if (mode === 'broadcast' && values.ipv6)
      throw conflict('--ipv6', 'IPv6 has no broadcast; use --mode multicast')
    listen = { mode }
  }
  return { ...rest, listen, seal: resolveSeal({ keyFile }), types: resolveProtoTypes(values.proto) }
}

/** Flag names as typed, from their config keys: `recordMaxSize` is `--record-max-size`. */
function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
}

/**
 * `--from FILE`: no network flag may be given (each names itself in the error), the output is json
 * (also on a terminal) or none: `pretty` samples and shows live rates, which a file has not.
 */
function fromFileConfig(
  values: ReceiverFlags,
  path: string,
  sources: FlagSources<typeof receiverFlags>,
): ReceiverConfig {
  for (const [key, source] of Object.entries(sources))
    if (source !== 'default' && !FROM_FLAGS.has(key))
      throw conflict(flagName(key), `${flagName(key)} is for receiving from the network; --from reads a file`)
  if (sources.output !== 'default' && values.output === 'pretty')
    throw conflict('--output', '--output pretty shows live rates; --from prints json or none')
  const { group: _, source: __, mode: ___, keyFile: _k, newKey: _n, newKeyId: _i, ...rest } = values
  return {
    ...rest,
    output: values.output === 'none' ? 'none' : 'json',
    listen: { mode: 'file', path },
    seal: undefined,
    types: resolveProtoTypes(values.proto),
  }
}

import { isIP } from 'node:net'
import type { DynamicTypeRegistry } from '@shoal/schema'
import {
  commonFlags,
  conflict,
  decimal,
  defineFlags,
  duration,
  type FlagSources,
  type FlagValues,
  flag,
  host,
  identifier,
  integer,
  keyFlags,
  modeFlags,
  multicastGroup,
  oneOf,
  resolveProtoTypes,
  resolveSeal,
  type SealSetup,
  sealFlags,
  size,
  text,
} from '@shoal/service'
import {
  DEFAULT_LINGER_MS,
  HEARTBEAT_MAX_MS,
  HEARTBEAT_MIN_MS,
  Limits,
  MAX_DATAGRAM_BYTES,
  MAX_DATAGRAM_BYTES_IPV6,
  MIN_DATAGRAM_BUDGET,
} from '@shoal/transport'
import {
  CAMERA_BYTES_PER_PIXEL,
  CAMERA_MESSAGE_OVERHEAD,
  DEFAULT_GROUP_V4,
  DEFAULT_GROUP_V6,
  DEFAULT_RATES,
  type Dimensions,
  dimensions,
  expectedReceiver,
  linger,
  SENSORS,
  type Sensor,
  sensorRate,
} from './flag-values.js'
import { checkIpv6Interface } from './network.js'

export {
  CAMERA_BYTES_PER_PIXEL,
  DEFAULT_GROUP_V4,
  DEFAULT_GROUP_V6,
  DEFAULT_RATES,
  type Dimensions,
  SENSORS,
  type Sensor,
} from './flag-values.js'

/** Every flag of shoal-send, once: the parser, the help, the README table and the tests read this. */
export const senderFlags = defineFlags({
  group: flag.value(multicastGroup(), {
    placeholder: 'address',
    defaultText: `${DEFAULT_GROUP_V4}, or ${DEFAULT_GROUP_V6} with --ipv6`,
    help: 'Multicast group to publish to',
  }),
  address: flag.value(host(), {
    placeholder: 'host',
    help: 'Destination for --mode broadcast (a broadcast address) or unicast (a host)',
  }),
  sensors: flag.list(oneOf(SENSORS), {
    placeholder: 'sensor',
    default: [...SENSORS],
    help: `Simulated sensors to publish: ${SENSORS.join(', ')}`,
  }),
  rate: flag.list(sensorRate, {
    placeholder: 'sensor=hz',
    defaultText: Object.entries(DEFAULT_RATES)
      .map(([sensor, hz]) => `${sensor}=${hz}`)
      .join(','),
    help: 'Frames per second of a simulated sensor, e.g. imu=100,camera=30',
  }),
  'camera-size': flag.value(dimensions, {
    placeholder: 'WxH',
    default: '640x480',
    help: 'Frame size of the simulated camera',
  }),
  count: flag.value(integer(1, Number.MAX_SAFE_INTEGER), {
    placeholder: 'n',
    help: 'Stop after sending this many frames',
  }),
  duration: flag.value(duration({ min: 1 }), {
    placeholder: 'duration',
    help: 'Stop after this long, e.g. 30s',
  }),
  input: flag.value(text('a file path or -'), {
    placeholder: 'file|-',
    help: 'Publish JSON lines {"topic","type","message"} from a file or stdin (-) instead of sensors',
  }),
  replay: flag.value(text('a file path'), {
    placeholder: 'file',
    help: 'Publish a recording made by shoal-recv --record (MCAP or Shoal’s own), with its original timing',
  }),
  speed: flag.value(decimal(0, 1000), {
    placeholder: 'factor',
    default: '1',
    help: 'Replay speed: 2 is twice as fast, 0 as fast as possible',
  }),
  ack: flag.boolean({ help: 'Ask receivers to acknowledge each frame and report the ones that do not' }),
  'ack-timeout': flag.value(duration({ min: 1 }), {
    placeholder: 'duration',
    default: '1s',
    help: 'How long to wait for acknowledgements of each frame, or with --raw for replies after the last datagram',
  }),
  expect: flag.list(expectedReceiver, {
    placeholder: 'name[@address]',
    help: 'Receivers (their --name) that must acknowledge, optionally only from that address; implies --ack',
  }),
  raw: flag.boolean({
    help: 'Send plain UDP datagrams: each line of stdin, or the bytes of the --input file',
  }),
  'source-id': flag.value(identifier(), {
    placeholder: 'id',
    defaultText: 'generated per run',
    help: 'Identifies this sender in frames, acks and receivers’ stats',
  }),
  budget: flag.value(size({ min: MIN_DATAGRAM_BUDGET, max: MAX_DATAGRAM_BYTES }), {
    placeholder: 'bytes',
    defaultText: 'from the interface MTU',
    help: 'Largest UDP payload to send; bigger frames are fragmented',
  }),
  'repair-window': flag.value(size({ min: 0 }), {
    placeholder: 'bytes',
    default: '64MiB',
    help: 'Large (fragmented) frames kept for receivers to ask again for lost fragments; 0 keeps none',
  }),
  'repair-rate': flag.value(size({ min: 1 }), {
    placeholder: 'bytes/s',
    defaultText: 'as much as it sends, at least 16MiB',
    help: 'Most bytes per second resent for all receivers’ repair requests together',
  }),
  'repair-rate-per-receiver': flag.value(size({ min: 1 }), {
    placeholder: 'bytes/s',
    defaultText: 'as much as it sends, at least 16MiB',
    help: 'Most bytes per second resent for the repair requests of one receiver address',
  }),
  'heartbeat-max': flag.value(duration({ min: HEARTBEAT_MIN_MS, max: 60_000 }), {
    placeholder: 'duration',
    default: `${HEARTBEAT_MAX_MS / 1000}s`,
    help: 'Longest wait between heartbeats (each topic’s last sequence, so receivers see tail loss and a gone sender)',
  }),
  'no-heartbeat': flag.boolean({
    help: 'Send no heartbeats: receivers see loss after a topic’s last frame only when the next one comes',
  }),
  flow: flag.value(oneOf(['min', 'max', 'none'] as const), {
    placeholder: 'strategy',
    default: 'min',
    help: 'Flow control: min = as fast as the slowest receiver (lossless), max = the fastest (the others repair or lose, counted), none = ignore receivers',
  }),
  'min-receivers': flag.value(integer(0, 256), {
    placeholder: 'n',
    default: '0',
    help: 'Send nothing until this many receivers report in (flow control)',
  }),
  'receiver-timeout': flag.value(duration({ min: 10, max: 600_000 }), {
    placeholder: 'duration',
    default: '2s',
    help: 'A receiver silent this long no longer holds the sender back (flow control)',
  }),
  'batch-linger': flag.value(linger, {
    placeholder: 'ms',
    default: `${DEFAULT_LINGER_MS}ms`,
    help: 'Simulated sensors and JSON lines: how long a small frame waits to share a datagram; 0 = one frame per datagram',
  }),
  ...keyFlags,
  ...sealFlags,
  ...modeFlags,
  ...commonFlags,
})

export type SenderFlags = FlagValues<typeof senderFlags>

/** Where the frames come from: exactly one of these per run. */
export type SenderSource =
  | {
      readonly kind: 'sensors'
      readonly sensors: readonly Sensor[]
      readonly rates: Readonly<Record<Sensor, number>>
      readonly cameraSize: Dimensions
    }
  | { readonly kind: 'input'; readonly path: string }
  | { readonly kind: 'replay'; readonly path: string; readonly speed: number }
  | { readonly kind: 'raw'; readonly path: string }

export type SenderDestination =
  | { readonly mode: 'multicast'; readonly group: string }
  | { readonly mode: 'broadcast'; readonly address: string }
  | { readonly mode: 'unicast'; readonly address: string }

export interface SenderConfig
  extends Omit<
    SenderFlags,
    | 'group'
    | 'address'
    | 'sensors'
    | 'rate'
    | 'cameraSize'
    | 'input'
    | 'replay'
    | 'speed'
    | 'raw'
    | 'mode'
    | 'keyFile'
    | 'newKey'
    | 'newKeyId'
    | 'seal'
  > {
  readonly destination: SenderDestination
  readonly source: SenderSource
  /** With `--key-file`: how every datagram is sealed. */
  readonly seal: SealSetup | undefined
  /** The types `--input` lines may name: the built-in ones and `--proto`'s. */
  readonly types: DynamicTypeRegistry
}

/** Checks what no single flag can and settles defaults that depend on other flags. */
export function resolveSenderConfig(
  values: SenderFlags,
  { sources }: { readonly sources: FlagSources<typeof senderFlags> },
): SenderConfig {
  const {
    group,
    address,
    sensors,
    rate,
    cameraSize,
    input,
    replay,
    speed,
    raw,
    mode,
    keyFile,
    seal,
    ...rest
  } = values
  const { newKey: _newKey, newKeyId: _newKeyId, ...settings } = rest

  const family = values.ipv6 ? 6 : 4
  if (group !== undefined && isIP(group) !== family) {
    throw conflict(
      '--group',
      `--group ${group} is not an IPv${family} group${values.ipv6 ? '' : '; add --ipv6'}`,
    )
  }
  if (address !== undefined && isIP(address) !== 0 && isIP(address) !== family) {
    throw conflict(
      '--address',
      `--address ${address} is not an IPv${family} address${values.ipv6 ? '' : '; add --ipv6'}`,
    )
  }

  let destination: SenderDestination
  if (mode === 'multicast') {
    if (address !== undefined)
      throw conflict('--address', '--address is for --mode broadcast or unicast; use --group')
    destination = { mode, group: group ?? (values.ipv6 ? DEFAULT_GROUP_V6 : DEFAULT_GROUP_V4) }
  } else {
    if (group !== undefined)
      throw conflict('--group', `--group is for --mode multicast; use --address with --mode ${mode}`)
    if (address === undefined) throw conflict('--address', `--mode ${mode} needs --address <host>`)
    if (mode === 'broadcast' && values.ipv6)
      throw conflict('--ipv6', 'IPv6 has no broadcast; use --mode multicast')
    destination = { mode, address }
  }

  const chosen = [
    input !== undefined && '--input',
    replay !== undefined && '--replay',
    sources.sensors !== 'default' && '--sensors',
  ].filter((name): name is string => name !== false)
  if (chosen.length > 1) throw conflict(chosen[1]!, `${chosen.join(' and ')} cannot be used together`)
  if (raw && (replay !== undefined || sources.sensors !== 'default')) {
    throw conflict(
      '--raw',
      '--raw sends stdin or an --input file; it cannot be used with --replay or --sensors',
    )
  }
  if (sources.speed !== 'default' && replay === undefined)
    throw conflict('--speed', '--speed applies to --replay')
  const simulated = !raw && input === undefined && replay === undefined
  for (const [name, given] of [
    ['--rate', rate.length > 0],
    ['--camera-size', sources.cameraSize !== 'default'],
  ] as const) {
    if (given && !simulated)
      throw conflict(name, `${name} applies to the simulated sensors, not to ${chosen[0] ?? '--raw'}`)
  }
  if (sources.batchLinger !== 'default' && (raw || replay !== undefined))
    throw conflict(
      '--batch-linger',
      `--batch-linger applies to simulated sensors and JSON lines; ${raw ? '--raw' : '--replay'} sends one frame per datagram`,
    )
  for (const [name, source] of [
    ['--repair-window', sources.repairWindow],
    ['--repair-rate', sources.repairRate],
    ['--repair-rate-per-receiver', sources.repairRatePerReceiver],
  ] as const)
    if (raw && source !== 'default')
      throw conflict(name, '--raw sends plain datagrams, which are never fragmented or repaired')
  if (raw && sources.heartbeatMax !== 'default')
    throw conflict('--heartbeat-max', '--raw sends plain datagrams and no heartbeats, which are Shoal frames')
  for (const [name, source] of [
    ['--flow', sources.flow],
    ['--min-receivers', sources.minReceivers],
    ['--receiver-timeout', sources.receiverTimeout],
  ] as const) {
    if (raw && source !== 'default')
      throw conflict(name, '--raw sends plain datagrams; their readers send no flow-control status')
    if (name !== '--flow' && values.flow === 'none' && source !== 'default')
      throw conflict(name, `${name} needs flow control; --flow none turns it off`)
  }
  if (rest.repairWindow === 0 && values.flow !== 'none' && sources.flow !== 'default')
    throw conflict('--flow', '--flow needs the sent log: --repair-window 0 keeps nothing to flow-control')
  if (raw && keyFile !== undefined)
    throw conflict(
      '--key-file',
      "--raw sends other programs' bytes as they are: plain datagrams cannot be sealed",
    )
  if (raw && (rest.ack || rest.expect.length > 0))
    throw conflict(
      rest.ack ? '--ack' : '--expect',
      '--raw sends plain datagrams, which carry no acknowledgement request; replies are awaited for --ack-timeout',
    )
  if (values.ipv6 && mode === 'multicast')
    checkIpv6Interface(values.interface, sources.interface !== 'default')
  if (values.ipv6 && rest.budget !== undefined && rest.budget > MAX_DATAGRAM_BYTES_IPV6)
    throw conflict(
      '--budget',
      `--budget ${rest.budget} is more than an IPv6 datagram holds (${MAX_DATAGRAM_BYTES_IPV6} bytes)`,
    )

  let source: SenderSource
  if (raw) source = { kind: 'raw', path: input ?? '-' }
  else if (input !== undefined) source = { kind: 'input', path: input }
  else if (replay !== undefined) source = { kind: 'replay', path: replay, speed }
  else {
    if (sensors.length === 0)
      throw conflict('--sensors', `--sensors needs at least one of ${SENSORS.join(', ')}`)
    const rates: Record<Sensor, number> = { ...DEFAULT_RATES }
    for (const { sensor, hz } of rate) rates[sensor] = hz
    const unused = rate.find(({ sensor }) => !sensors.includes(sensor))
    if (unused !== undefined) {
      throw conflict(
        '--rate',
        `--rate ${unused.sensor}=${unused.hz} names a sensor not in --sensors ${sensors.join(',')}`,
      )
    }
    const imageBytes = cameraSize.width * cameraSize.height * CAMERA_BYTES_PER_PIXEL
    if (sensors.includes('camera') && imageBytes + CAMERA_MESSAGE_OVERHEAD > Limits.MAX_MESSAGE_BYTES) {
      throw conflict(
        '--camera-size',
        `--camera-size ${cameraSize.width}x${cameraSize.height} makes ${imageBytes} byte images; receivers accept messages up to ${Limits.MAX_MESSAGE_BYTES} bytes`,
      )
    }
    source = { kind: 'sensors', sensors: [...new Set(sensors)], rates, cameraSize }
  }

  return {
    ...settings,
    ack: rest.ack || rest.expect.length > 0,
    destination,
    source,
    seal: resolveSeal({ keyFile, seal }),
    types: resolveProtoTypes(settings.proto),
  }
}

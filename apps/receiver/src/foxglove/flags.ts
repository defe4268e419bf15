import { conflict, defineFlags, flag, formatSize, integer, ipAddress, size } from '@shoal/service'
import { FOXGLOVE_MAX_CLIENTS, FOXGLOVE_SEND_BUFFER_BYTES } from './limits.js'

/** The address the Foxglove server binds unless told otherwise: this host only. */
export const DEFAULT_FOXGLOVE_HOST = '127.0.0.1'
/** At most this many clients may be allowed (`--foxglove-max-clients`). */
export const FOXGLOVE_MAX_CLIENTS_LIMIT = 1_000
/** The smallest `--foxglove-send-buffer`. */
export const FOXGLOVE_MIN_SEND_BUFFER_BYTES = 64 * 1024

/** shoal-recv's flags of the Foxglove WebSocket server. */
export const foxgloveFlags = defineFlags({
  foxglove: flag.value(integer(0, 65535), {
    placeholder: 'port',
    help: 'Serve the frames to Foxglove (WebSocket protocol) on this TCP port (0 picks a free one)',
  }),
  'foxglove-host': flag.value(ipAddress(), {
    placeholder: 'address',
    default: DEFAULT_FOXGLOVE_HOST,
    help: 'Address the Foxglove server binds; any other than loopback lets every host that reaches it watch all frames (no authentication)',
  }),
  'foxglove-max-clients': flag.value(integer(1, FOXGLOVE_MAX_CLIENTS_LIMIT), {
    placeholder: 'n',
    default: String(FOXGLOVE_MAX_CLIENTS),
    help: 'Foxglove clients connected at once; one more is refused',
  }),
  'foxglove-send-buffer': flag.value(size({ min: FOXGLOVE_MIN_SEND_BUFFER_BYTES }), {
    placeholder: 'bytes',
    default: formatSize(FOXGLOVE_SEND_BUFFER_BYTES),
    help: 'Bytes queued for one Foxglove client past which messages to it are dropped (counted, and the client warned)',
  }),
})

interface FoxgloveValues {
  readonly foxglove: number | undefined
  readonly raw: boolean
}

/** The other --foxglove-* flags need --foxglove; --raw has no frames to show. */
export function checkFoxgloveFlags(
  values: FoxgloveValues,
  sources: Readonly<Record<'foxgloveHost' | 'foxgloveMaxClients' | 'foxgloveSendBuffer', string>>,
): void {
  for (const [key, name] of [
    ['foxgloveHost', '--foxglove-host'],
    ['foxgloveMaxClients', '--foxglove-max-clients'],
    ['foxgloveSendBuffer', '--foxglove-send-buffer'],
  ] as const) {
    if (sources[key] !== 'default' && values.foxglove === undefined)
      throw conflict(name, `${name} needs --foxglove <port>`)
  }
  if (values.raw && values.foxglove !== undefined)
    throw conflict('--foxglove', '--foxglove needs Shoal frames; --raw prints datagrams undecoded')
}

import { conflict, defineFlags, flag, formatSize, integer, ipAddress, size, text } from '@shoal/service'
import {
  FOXGLOVE_DEFAULT_ORIGINS,
  FOXGLOVE_MAX_CLIENTS,
  FOXGLOVE_MAX_ORIGINS,
  FOXGLOVE_SEND_BUFFER_BYTES,
} from './limits.js'

/** The address the Foxglove server binds unless told otherwise: this host only. */
export const DEFAULT_FOXGLOVE_HOST = '127.0.0.1'
/** At most this many clients may be allowed (`--foxglove-max-clients`). */
export const FOXGLOVE_MAX_CLIENTS_LIMIT = 1_000
/** The smallest `--foxglove-send-buffer`. */
export const FOXGLOVE_MIN_SEND_BUFFER_BYTES = 64 * 1024

/**
 * A web origin as a browser sends it: `scheme://host[:port]` with no path, `file://`, or `*` (any
 * page).
 */
function webOrigin() {
  return text('a web origin').refine(
    (value) => value === '*' || value === 'file://' || /^[a-z][a-z0-9+.-]*:\/\/[^/\s?#]+$/i.test(value),
    {
      error:
        'expected a web origin such as https://app.foxglove.dev (scheme and host, no path), file:// or *',
    },
  )
}

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
  'foxglove-origin': flag.list(webOrigin(), {
    placeholder: 'origin',
    defaultText: FOXGLOVE_DEFAULT_ORIGINS.join(', '),
    help: `Web pages allowed to connect, by origin (browsers send it; other clients send none and are let in); * allows any page. At most ${FOXGLOVE_MAX_ORIGINS}`,
  }),
  'foxglove-send-buffer': flag.value(size({ min: FOXGLOVE_MIN_SEND_BUFFER_BYTES }), {
    placeholder: 'bytes',
    default: formatSize(FOXGLOVE_SEND_BUFFER_BYTES),
    help: 'Bytes queued for one Foxglove client past which messages to it are dropped (counted, and the client warned)',
  }),
})

interface FoxgloveValues {
  readonly foxglove: number | undefined
  readonly foxgloveOrigin: readonly string[]
  readonly raw: boolean
}

/** The other --foxglove-* flags need --foxglove; --raw has no frames to show. */
export function checkFoxgloveFlags(
  values: FoxgloveValues,
  sources: Readonly<
    Record<'foxgloveHost' | 'foxgloveMaxClients' | 'foxgloveOrigin' | 'foxgloveSendBuffer', string>
  >,
): void {
  for (const [key, name] of [
    ['foxgloveHost', '--foxglove-host'],
    ['foxgloveMaxClients', '--foxglove-max-clients'],
    ['foxgloveOrigin', '--foxglove-origin'],
    ['foxgloveSendBuffer', '--foxglove-send-buffer'],
  ] as const) {
    if (sources[key] !== 'default' && values.foxglove === undefined)
      throw conflict(name, `${name} needs --foxglove <port>`)
  }
  if (values.foxgloveOrigin.length > FOXGLOVE_MAX_ORIGINS)
    throw conflict('--foxglove-origin', `--foxglove-origin: at most ${FOXGLOVE_MAX_ORIGINS} origins`)
  if (values.raw && values.foxglove !== undefined)
    throw conflict('--foxglove', '--foxglove needs Shoal frames; --raw prints datagrams undecoded')
}

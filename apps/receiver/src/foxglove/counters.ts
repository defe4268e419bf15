/** Why a message did not reach a Foxglove client. */
export const FOXGLOVE_DROP_REASONS = [
  /** The client's send buffer was over the cap (`--foxglove-send-buffer`): it is not keeping up. */
  'send_buffer',
  /** The client's connection was closing. */
  'client_closed',
  /** A frame of a type this receiver does not know: no schema to advertise. */
  'unknown_type',
  /** A frame of a new topic while the channel table was full of topics heard recently. */
  'channel_limit',
  /** A camera frame that could not be made into a foxglove.RawImage. */
  'image_conversion',
] as const
export type FoxgloveDropReason = (typeof FOXGLOVE_DROP_REASONS)[number]

/** What a Foxglove client did wrong (none of it stops the receiver). */
export const FOXGLOVE_CLIENT_ERRORS = [
  /** A request the library could not parse or act on (not JSON, unknown op, bad fields). */
  'bad_message',
  /** A subscription without an integer id and channel id. */
  'bad_subscription',
  /** A subscription past the per-client cap. */
  'subscription_limit',
  /** A WebSocket protocol error or a dropped connection (ws closes the socket). */
  'socket_error',
  /** Control messages queued past the send buffer and its headroom: the client was disconnected. */
  'send_buffer_overflow',
] as const
export type FoxgloveClientError = (typeof FOXGLOVE_CLIENT_ERRORS)[number]

/** How a WebSocket connection attempt ended. */
export const FOXGLOVE_CONNECTION_OUTCOMES = [
  'accepted',
  /** Refused: `--foxglove-max-clients` clients were connected. */
  'max_clients',
  /** Refused: it did not offer the foxglove.websocket.v1 subprotocol. */
  'wrong_protocol',
  /** Refused (HTTP 403): a browser page from an origin not in `--foxglove-origin`. */
  'bad_origin',
] as const
export type FoxgloveConnectionOutcome = (typeof FOXGLOVE_CONNECTION_OUTCOMES)[number]

/** The Foxglove server's counters, kept by the server and its client gates, read by `/metrics`. */
export interface FoxgloveCounters {
  /** Message data frames sent, over all clients and channels. */
  messagesSent: number
  /** Their bytes (header and payload). */
  bytesSent: number
  dropped: Record<FoxgloveDropReason, number>
  clientErrors: Record<FoxgloveClientError, number>
  connections: Record<FoxgloveConnectionOutcome, number>
  /** Slow spells: times a client began to have messages dropped. */
  slowSpells: number
  /** The most bytes queued for any one client right after a send. */
  peakBufferedBytes: number
}

function zeros<const K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>
}

export function createFoxgloveCounters(): FoxgloveCounters {
  return {
    messagesSent: 0,
    bytesSent: 0,
    dropped: zeros(FOXGLOVE_DROP_REASONS),
    clientErrors: zeros(FOXGLOVE_CLIENT_ERRORS),
    connections: zeros(FOXGLOVE_CONNECTION_OUTCOMES),
    slowSpells: 0,
    peakBufferedBytes: 0,
  }
}

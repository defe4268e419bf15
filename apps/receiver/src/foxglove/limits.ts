/** The Foxglove server's limits; the receiver README lists each. */

/** Foxglove clients connected at once, by default; one more is refused (close code 1013). */
export const FOXGLOVE_MAX_CLIENTS = 8
/**
 * Bytes queued for one client past which messages to it are dropped, by default: room for a couple
 * of full-HD camera frames (1920 × 1080 rgb8 is 6 MiB). A client costs at most this, or one
 * message when a single one is larger.
 */
export const FOXGLOVE_SEND_BUFFER_BYTES = 16 * 1024 * 1024
/** What control messages (advertisements, status) may queue past the send buffer before the client is cut off. */
export const FOXGLOVE_CONTROL_HEADROOM_BYTES = 1024 * 1024
/** Subscriptions one client may hold. Foxglove subscribes to what its panels show: a few dozen. */
export const FOXGLOVE_MAX_SUBSCRIPTIONS = 256
/** The largest message a client may send (ws `maxPayload`); requests are small JSON. Past it: closed (1009). */
export const FOXGLOVE_MAX_REQUEST_BYTES = 64 * 1024
/** On stop, clients get this long to finish the close handshake before their sockets are destroyed, ms. */
export const FOXGLOVE_CLOSE_GRACE_MS = 1_000
/** The name the server gives in its serverInfo, which Foxglove shows. */
export const FOXGLOVE_SERVER_NAME = 'shoal-recv'
/**
 * Web origins whose pages may connect, by default: the Foxglove web app and Foxglove desktop (an
 * Electron app, whose pages are `file://`). WebSockets ignore the browser's same-origin policy, so
 * without this check any web page open in a browser on a host that reaches the port could watch
 * every frame. Clients that are not browsers send no Origin and are not affected.
 */
export const FOXGLOVE_DEFAULT_ORIGINS: readonly string[] = ['https://app.foxglove.dev', 'file://']
/** `--foxglove-origin` values a receiver keeps at most. */
export const FOXGLOVE_MAX_ORIGINS = 32

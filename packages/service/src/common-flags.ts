import { defineFlags, flag } from './flags.js'
import { LOG_LEVELS } from './logger.js'
import { integer, ipAddress, networkInterface, oneOf, port, text, ttl } from './validators.js'

/** Flags of every service's process: config file, logging, metrics and health. */
export const serviceFlags = defineFlags({
  config: flag.value(text('a file path'), {
    placeholder: 'file',
    help: 'Read settings from a .json, .yaml or .yml file',
  }),
  'log-level': flag.value(oneOf(LOG_LEVELS), {
    placeholder: 'level',
    default: 'info',
    help: 'Log verbosity: fatal, error, warn, info, debug, trace or silent',
  }),
  http: flag.value(integer(0, 65535), {
    placeholder: 'port',
    help: 'Serve /metrics and /healthz on this TCP port (0 picks a free one)',
  }),
  'http-host': flag.value(ipAddress(), {
    placeholder: 'address',
    default: '127.0.0.1',
    help: 'Address the metrics and health server binds',
  }),
  // Not from the environment: a stray SHOAL_DOCTOR would turn every service into a one-shot check.
  doctor: flag.boolean({
    env: false,
    help: 'Check the interface, route, MTU, buffers, joins and firewall for these flags, send one test frame, print ok or the fix for each, and exit (0 when all pass)',
  }),
})

/** Where the data goes: the interface, UDP port and TTL every service's sockets share. */
export const networkFlags = defineFlags({
  interface: flag.value(networkInterface(), {
    placeholder: 'name|address',
    default: '127.0.0.1',
    help: 'Network interface, by name or address; the default keeps traffic on this host',
  }),
  port: flag.value(port(), {
    placeholder: 'port',
    default: '7400',
    help: 'UDP port of the data stream',
  }),
  ttl: flag.value(ttl(), {
    placeholder: 'hops',
    default: '1',
    help: 'TTL (IPv6 hop limit) of sent datagrams; 1 stays on the local link',
  }),
})

export const TRANSPORT_MODES = ['multicast', 'broadcast', 'unicast'] as const
export type TransportMode = (typeof TRANSPORT_MODES)[number]

/** How a sender or receiver addresses its peers. */
export const modeFlags = defineFlags({
  mode: flag.value(oneOf(TRANSPORT_MODES), {
    placeholder: 'mode',
    default: 'multicast',
    help: 'How datagrams are addressed: multicast, broadcast or unicast',
  }),
  ipv6: flag.boolean({ help: 'Use IPv6 (multicast groups in ff00::/8)' }),
})

/**
 * A group key (WIRE.md “Sealing”): every service takes one; `--new-key` writes one and exits.
 * `--new-key` and `--new-key-id` are actions of the command line, not settings: no environment
 * variable, and a config file may not hold them (runService refuses).
 */
export const keyFlags = defineFlags({
  'key-file': flag.value(text('a file path'), {
    placeholder: 'file',
    help: 'Group keyring (lines KEY_ID HEX, mode 0600): seal what is sent, take only sealed frames; re-read on SIGHUP',
  }),
  'new-key': flag.value(text('a file path'), {
    placeholder: 'file',
    env: false,
    help: 'Write a new key file (one random 256-bit key, mode 0600, never over an existing file), print its path and key id, and exit',
  }),
  'new-key-id': flag.value(integer(0, 0xffff_ffff), {
    placeholder: 'id',
    env: false,
    default: '1',
    help: 'Key id of the key --new-key writes',
  }),
})

export const SEAL_MODES = ['encrypt', 'authenticate'] as const
export type SealModeFlag = (typeof SEAL_MODES)[number]

/** How a keyed sender or relay seals: encrypted, or readable and authenticated (for captures). */
export const sealFlags = defineFlags({
  seal: flag.value(oneOf(SEAL_MODES), {
    placeholder: 'mode',
    defaultText: 'encrypt, with --key-file',
    help: 'How frames are sealed with --key-file: encrypt, or authenticate (payload readable in captures)',
  }),
})

/**
 * Message types beyond the built-in ones, loaded at start (see proto-types.ts): what a receiver
 * decodes, a sender takes as `--input`, and recorders and viewers describe with its schema.
 */
export const schemaFlags = defineFlags({
  proto: flag.list(text('a file or folder path'), {
    placeholder: 'path',
    defaultText: 'built-in types only',
    help: 'Load message types from a .proto file, a folder of them, or a descriptor set (protoc --include_imports --descriptor_set_out); repeat for more',
  }),
})

/** The flags shared by all three services. */
export const commonFlags = defineFlags({ ...networkFlags, ...serviceFlags, ...schemaFlags })

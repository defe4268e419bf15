/**
 * The one warning every service gives when its sockets sit on loopback: what stays on this host,
 * and which flag, naming a real interface, would reach the network. The default `--interface` is
 * 127.0.0.1 (so nothing leaves a host by accident), which makes this the commonest surprise of a
 * first deployment: frames are sent and counted, yet no other host sees them.
 */
import { networkInterfaces } from 'node:os'
import type { InterfaceTable } from './validators.js'

/** 127.0.0.0/8 or ::1 (also as an IPv4-mapped address). */
export function isLoopbackAddress(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.')
}

/** Interfaces with an address of this IP version that is not internal: those that reach a network. */
export function outsideInterfaces(family: 4 | 6, table: InterfaceTable = networkInterfaces()): string[] {
  const name = family === 6 ? 'IPv6' : 'IPv4'
  return Object.entries(table)
    .filter(([, addresses = []]) => addresses.some((a) => a.family === name && !a.internal))
    .map(([interfaceName]) => interfaceName)
}

/** Placeholder when the host has no interface to name (a container with loopback only, say). */
export const EXAMPLE_INTERFACE = 'NAME'

export interface LoopbackHintOptions {
  /** The local address the socket sends from or listens on; no hint without one. */
  readonly address: string | undefined
  readonly family: 4 | 6
  /** What being on loopback means for this socket, e.g. `frames stay on this host`. */
  readonly effect: string
  /** What the user wants instead, e.g. `reach the network`. */
  readonly goal: string
  /** How to name an interface, e.g. `(name) => \`--interface ${name}\``. */
  readonly fix?: (name: string) => string
  /** Said after the fix, e.g. `, and --ttl N to cross N-1 routers`. */
  readonly more?: string
}

/**
 * `EFFECT; to GOAL, pass FIX (interfaces: A, B)MORE`, or undefined when the address is not
 * loopback. Reads the interface table only (nothing is sent).
 */
export function loopbackHint(options: LoopbackHintOptions, table?: InterfaceTable): string | undefined {
  if (options.address === undefined || !isLoopbackAddress(options.address)) return undefined
  const names = outsideInterfaces(options.family, table)
  const fix = options.fix ?? ((name: string) => `--interface ${name}`)
  const list =
    names.length > 1
      ? ` (interfaces: ${names.join(', ')})`
      : names.length === 0
        ? ` (no interface but loopback has an IPv${options.family} address here)`
        : ''
  return `${options.effect}; to ${options.goal}, pass ${fix(names[0] ?? EXAMPLE_INTERFACE)}${list}${options.more ?? ''}`
}

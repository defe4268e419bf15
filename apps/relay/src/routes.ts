/**
 * From a configured route to what `@shoal/transport` takes: subscriber options for `--in`, publisher
 * options for `--out`, and the topic filter each route applies on top of the global `--topic`.
 */
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { type InterfaceRef, type InterfaceTable, loopbackHint } from '@shoal/service'
import {
  compileTopicFilter,
  type PublisherOptions,
  type SubscriberOptions,
  type TopicFilter,
} from '@shoal/transport'
import type { Route } from './config.js'

/**
 * Longest a frame waits in an output's batch for company, ms. A batch also goes out as soon as a
 * turn of the event loop adds nothing to it, so the relay packs what arrives together and adds
 * almost no latency.
 */
export const OUTPUT_LINGER_MS = 0.5

/** A topic passes a route when it passes the global `--topic` filters and the route's own `?topic=`. */
export function routeFilter(globalTopics: readonly string[], routeTopics: readonly string[]): TopicFilter {
  const global = compileTopicFilter(globalTopics)
  const own = compileTopicFilter(routeTopics)
  if (globalTopics.length === 0) return own
  if (routeTopics.length === 0) return global
  return (topic) => global(topic) && own(topic)
}

/**
 * The interface to hand the transport: what the user wrote when it is an address of the route's IP
 * version (so `?interface=10.77.1.3` picks that address, not the interface's first one), otherwise
 * the interface name, from which the transport picks an address of the right version.
 */
export function interfaceFor(ref: InterfaceRef, host: string): string {
  const family = isIP(host)
  return isIP(ref.spec) !== 0 && (family === 0 || isIP(ref.spec) === family) ? ref.spec : ref.name
}

const WILDCARDS = new Set(['0.0.0.0', '::'])

/** Subscriber options of an `--in` route, in forward mode (the relay sees datagrams, not messages). */
export function subscriberOptions(route: Route, hopRepair = false): SubscriberOptions {
  // With --hop-repair the relay asks its senders for what it missed (whole frames and messages).
  const common = { port: route.port, forward: true, decode: false, repair: hopRepair } as const
  switch (route.scheme) {
    case 'multicast':
      return {
        ...common,
        mode: 'multicast',
        group: route.host,
        interface: interfaceFor(route.interface, route.host),
        ...(route.source === undefined ? {} : { source: route.source }),
      }
    case 'broadcast':
      return {
        ...common,
        mode: 'broadcast',
        address: route.host,
        interface: interfaceFor(route.interface, route.host),
      }
    case 'udp': {
      // The host is the address to listen on; a wildcard listens on every interface. The port is
      // this relay's alone: shared, the tunnel's datagrams would go to one of the sharers.
      const family = isIP(route.host) === 6 ? { ipv6: true } : {}
      const listen = { ...common, ...family, mode: 'unicast', reuseAddr: false } as const
      return WILDCARDS.has(route.host) ? listen : { ...listen, interface: route.host }
    }
    default:
      throw new Error(`--in ${route.spec}: ${route.scheme}:// is not an input`)
  }
}

/**
 * Publisher options of an `--out` route, batching on. `address` is the route's host resolved to an
 * IP address (unicast routes may name a host). Unicast routes leave the interface to the kernel's
 * routing table: they take no `?interface=`.
 */
export function publisherOptions(route: Route, address: string, hopRepair = false): PublisherOptions {
  const common = {
    port: route.port,
    ttl: route.ttl ?? 1,
    batch: { lingerMs: OUTPUT_LINGER_MS },
    // A relay forwards its publishers' heartbeats; it is no source of its own.
    heartbeat: false,
    // With --hop-repair it keeps a sent log of what it forwards and answers its receivers' NACKs
    // from it; without, it holds nothing. No flow control yet (README "Acks through relays").
    repair: hopRepair,
    flow: false,
  } as const
  switch (route.scheme) {
    case 'multicast':
      return {
        ...common,
        mode: 'multicast',
        group: address,
        interface: interfaceFor(route.interface, address),
      }
    case 'broadcast':
      return { ...common, mode: 'broadcast', address, interface: interfaceFor(route.interface, address) }
    case 'unicast':
      return { ...common, mode: 'unicast', address }
    default:
      throw new Error(`--out ${route.spec}: ${route.scheme}:// is not an output`)
  }
}

/** The route's host as an IP address: itself when it is one, else looked up once, at start. */
export async function resolveHost(route: Route): Promise<string> {
  if (isIP(route.host) !== 0) return route.host
  try {
    return (await lookup(route.host)).address
  } catch (error) {
    throw new Error(`--out ${route.spec}: cannot resolve ${route.host}: ${(error as Error).message}`)
  }
}

/** What a route looks like in logs. */
export function describeRoute(route: Route): Record<string, unknown> {
  return {
    route: route.spec,
    scheme: route.scheme,
    host: route.host,
    port: route.port,
    ...(route.scheme === 'unicast' || route.scheme === 'udp' ? {} : { interface: route.interface.name }),
    ...(route.ttl === undefined ? {} : { ttl: route.ttl }),
    ...(route.source === undefined ? {} : { source: route.source }),
    ...(route.topics.length === 0 ? {} : { topics: route.topics }),
  }
}

/**
 * The warning for a multicast or broadcast route whose interface is loopback (the default
 * `--interface` is 127.0.0.1): an output's frames stay on this host though the relay counts them
 * forwarded, an input hears only this host. `address` is the socket's interface address; unicast
 * and udp:// routes name their host themselves, and a broadcast input listens on every interface.
 */
export function routeLoopbackHint(
  route: Route,
  direction: 'in' | 'out',
  address: string | undefined,
  table?: InterfaceTable,
): string | undefined {
  if (route.scheme !== 'multicast' && !(route.scheme === 'broadcast' && direction === 'out')) return undefined
  const effect =
    direction === 'out'
      ? 'frames forwarded here stay on this host'
      : 'only frames sent on this host arrive here'
  return loopbackHint(
    {
      address,
      family: isIP(route.host) === 6 ? 6 : 4,
      effect: `--${direction} ${route.spec}: ${effect} (interface ${route.interface.name} is loopback)`,
      goal: direction === 'out' ? 'reach the network' : 'receive from the network',
      fix: (name) => `?interface=${name} on the route, or --interface ${name} for every route`,
    },
    table,
  )
}

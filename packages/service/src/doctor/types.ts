import type { InterfaceRef } from '../validators.js'

/** One finding of `--doctor`: `ok`, or what is wrong and the command that fixes it. */
export interface DoctorCheck {
  /** Short and stable: `interface`, `mtu`, `route`, `rmem`, `firewall`, `join`, `self-test`. */
  readonly name: string
  readonly ok: boolean
  /** Could not be checked here (no root, no such tool, not this mode); never counts as a failure. */
  readonly skipped?: boolean
  readonly detail: string
  /** A shell command that fixes it, when there is one. */
  readonly fix?: string
}

/**
 * What one service socket would use: a service's config made into what `--doctor` checks. A
 * sender has one; a receiver one per group; a relay one per route.
 */
export interface DoctorTarget {
  /** Printed before the target's checks when a service has several (`--in multicast://…`). */
  readonly label?: string
  /** Which way the data goes: `receive` adds the receive-buffer check. */
  readonly role: 'send' | 'receive'
  readonly mode: 'multicast' | 'broadcast' | 'unicast'
  readonly family: 4 | 6
  /** The interface as parsed from `--interface`; undefined when the kernel picks (unicast). */
  readonly interface: InterfaceRef | undefined
  /** The multicast group, or the broadcast / unicast address sent to (absent for a listener). */
  readonly address?: string
  readonly port: number
  /** Receive buffer the socket asks the kernel for, bytes (receivers). */
  readonly recvBufferBytes?: number
  /** Largest datagram the service will send, when set by hand (`--budget`). */
  readonly budget?: number
}

/** What a command printed; `status` is `'missing'` when it is not installed. */
export interface CommandResult {
  readonly status: number | 'missing'
  readonly stdout: string
  readonly stderr: string
}

/** The self-test's sockets, joined and bound; see `self-test.ts`. */
export interface Probe {
  /** Sends one frame and resolves true when it came back within `timeoutMs`. */
  roundTrip(timeoutMs: number): Promise<boolean>
  close(): Promise<void>
}

/** Everything the checks read or run, so tests hand them fixture text instead of a host. */
export interface DoctorEnv {
  /** A file's text, or undefined when it cannot be read. */
  readFile(path: string): string | undefined
  run(command: string, args: readonly string[]): Promise<CommandResult>
  /** Opens a publisher and a subscriber on the target (throws when it cannot). */
  openProbe(target: DoctorTarget): Promise<Probe>
  /** Byte order of this host: /proc/net/igmp prints groups as the raw 32-bit word. */
  readonly endianness: 'LE' | 'BE'
}

import { parseArgs } from 'node:util'

/** Multicast group both sides use unless `--group` says otherwise (administratively scoped). */
export const DEFAULT_GROUP = '239.255.42.1'
/** UDP port both sides use unless `--port` says otherwise. */
export const DEFAULT_PORT = 7420
/** Readings the publisher sends, and the subscriber waits for, unless `--count` says otherwise. */
export const DEFAULT_COUNT = 10
/**
 * The multicast interface: loopback, so nothing leaves this host. Name a real interface (`eth0`) to
 * reach other hosts; TTL alone does not keep multicast on the host.
 */
export const INTERFACE = '127.0.0.1'

export interface Options {
  group: string
  port: number
  count: number
}

/** `--group`, `--port`, `--count`; a bad value exits with code 2 and names the flag. */
export function readOptions(argv: string[]): Options {
  let values: { group?: string; port?: string; count?: string }
  try {
    values = parseArgs({
      args: argv,
      options: { group: { type: 'string' }, port: { type: 'string' }, count: { type: 'string' } },
    }).values
  } catch (error) {
    return exit2(error instanceof Error ? error.message : String(error))
  }
  const port = Number(values.port ?? DEFAULT_PORT)
  if (!Number.isInteger(port) || port < 1 || port > 65_535) exit2(`--port ${values.port}: expected 1-65535`)
  const count = Number(values.count ?? DEFAULT_COUNT)
  if (!Number.isInteger(count) || count < 1) exit2(`--count ${values.count}: expected a whole number above 0`)
  return { group: values.group ?? DEFAULT_GROUP, port, count }
}

function exit2(message: string): never {
  console.error(message)
  process.exit(2)
}

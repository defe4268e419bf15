/**
 * Datagrams the kernel dropped for one socket because its receive buffer was full: the `drops`
 * column of /proc/net/udp and /proc/net/udp6 for the socket's inode (Linux). Nothing else tells a
 * receiver that frames died on its own host rather than on the network.
 */
import type { Socket } from 'node:dgram'
import { readFileSync, readlinkSync } from 'node:fs'

const TABLES = ['/proc/net/udp', '/proc/net/udp6']

interface StateLike {
  handle?: { fd?: number }
}

/** The socket's inode (`socket:[N]` behind its file descriptor), or undefined off Linux. */
export function socketInode(socket: Socket): string | undefined {
  // node:dgram keeps the descriptor on its internal handle, in a symbol-keyed state; there is no
  // public accessor (and `_handle` prints a deprecation warning).
  const state = Object.getOwnPropertySymbols(socket).find((key) => key.description === 'state symbol')
  const fd =
    state === undefined ? undefined : (socket as unknown as Record<symbol, StateLike>)[state]?.handle?.fd
  if (typeof fd !== 'number' || fd < 0) return undefined
  try {
    const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))
    return match?.[1]
  } catch {
    return undefined
  }
}

/**
 * The kernel's drop count for the socket with `inode`, from `tables` (one /proc/net/udp-style text
 * each); undefined when no line has that inode. Columns: sl local rem st tx:rx tr:when retr uid
 * timeout inode ref pointer drops.
 */
export function dropsForInode(inode: string, tables: readonly string[]): number | undefined {
  for (const table of tables) {
    for (const line of table.split('\n')) {
      const fields = line.trim().split(/\s+/)
      if (fields.length >= 13 && fields[9] === inode) return Number(fields[fields.length - 1])
    }
  }
  return undefined
}

/** The kernel's receive-buffer drops for `inode` now, or undefined where /proc cannot tell. */
export function readKernelDrops(inode: string | undefined): number | undefined {
  if (inode === undefined) return undefined
  const tables: string[] = []
  for (const path of TABLES) {
    try {
      tables.push(readFileSync(path, 'utf8'))
    } catch {
      // No IPv6, or no /proc: that table tells nothing.
    }
  }
  return dropsForInode(inode, tables)
}

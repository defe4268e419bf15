import { createSocket } from 'node:dgram'
import { describe, expect, it } from 'vitest'
import { dropsForInode, readKernelDrops, socketInode } from './kernel-drops.js'

const table = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 0100007F:1CE8 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 41234 2 0000000000000000 17
  456: 00000000:1CE9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 41235 2 0000000000000000 0
`

describe('kernel drops', () => {
  it('reads the drops column of the line with the inode', () => {
    expect(dropsForInode('41234', [table])).toBe(17)
    expect(dropsForInode('41235', ['', table])).toBe(0)
    expect(dropsForInode('99', [table])).toBeUndefined()
  })

  it.skipIf(process.platform !== 'linux')('finds a real socket in /proc/net/udp (0 drops)', async () => {
    const socket = createSocket('udp4')
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
    try {
      const inode = socketInode(socket)
      expect(inode).toMatch(/^\d+$/)
      expect(readKernelDrops(inode)).toBe(0)
    } finally {
      socket.close()
    }
  })
})

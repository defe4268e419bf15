import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadDecompressHandlers } from '@mcap/support'
import { describe, expect, it } from 'vitest'
import { loadCodecs, MAX_CHUNK_UNCOMPRESSED_BYTES } from './codecs.js'

/** Skips when a reference tool is not installed; under CI=true (`./dev setup` installs them) fails. */
function requireTool(ctx: { skip: (note: string) => void }, tool: string): void {
  if (spawnSync(tool, ['--version']).status === 0) return
  if (process.env.CI === 'true') throw new Error(`${tool} is required when CI=true (./dev setup installs it)`)
  ctx.skip(`${tool} command not installed`)
}

/** Byte equality as hex-free booleans: vitest's toEqual walks typed arrays element by element (slow at MiBs). */
const same = (a: Uint8Array, b: Uint8Array) => a.byteLength === b.byteLength && Buffer.compare(a, b) === 0

/** Bytes that compress somewhat, like sensor data: a slow wave with noise. */
function sample(length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++)
    out[i] = (Math.sin(i / 50) * 60 + (i % 7) * 3 + ((i * 2654435761) >>> 28)) & 0xff
  return out
}

describe('zstd', () => {
  it('round-trips, empty, small and several MiB, through our handler and @mcap/support’s', async () => {
    const codecs = await loadCodecs()
    const theirs = await loadDecompressHandlers()
    for (const length of [0, 1, 1000, 5 * 1024 * 1024 + 3]) {
      const data = sample(length)
      const packed = codecs.zstd(data)
      if (length > 1000) expect(packed.byteLength).toBeLessThan(length)
      expect(same(codecs.decompressHandlers.zstd!(packed, BigInt(length)), data)).toBe(true)
      expect(same(theirs.zstd!(packed, BigInt(length)), data)).toBe(true)
    }
  })

  it('writes frames the zstd command line reads', async (ctx) => {
    requireTool(ctx, 'zstd')
    const data = sample(300_000)
    const dir = mkdtempSync(join(tmpdir(), 'shoal-zstd-'))
    try {
      writeFileSync(join(dir, 'x.zst'), (await loadCodecs()).zstd(data))
      const run = spawnSync('zstd', ['-d', '-q', '-f', join(dir, 'x.zst'), '-o', join(dir, 'x')])
      expect(run.status).toBe(0)
      expect(same(readFileSync(join(dir, 'x')), data)).toBe(true)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('refuses a chunk that claims more than the cap, before allocating', async () => {
    const { decompressHandlers } = await loadCodecs()
    const packed = (await loadCodecs()).zstd(sample(100))
    expect(() => decompressHandlers.zstd!(packed, BigInt(MAX_CHUNK_UNCOMPRESSED_BYTES) + 1n)).toThrow(
      /at most/,
    )
  })

  it('fails on damaged input or a wrong claimed size, and keeps working after', async () => {
    const { zstd, decompressHandlers } = await loadCodecs()
    const data = sample(10_000)
    const packed = zstd(data)
    const damaged = packed.slice()
    damaged.fill(0xa5, 8, 40)
    expect(() => decompressHandlers.zstd!(damaged, 10_000n)).toThrow()
    expect(() => decompressHandlers.zstd!(packed, 9_999n)).toThrow()
    expect(same(decompressHandlers.zstd!(packed, 10_000n), data)).toBe(true)
  })
})

describe('lz4', () => {
  it('reads LZ4 frames the lz4 command line wrote', async (ctx) => {
    requireTool(ctx, 'lz4')
    const data = sample(2 * 1024 * 1024 + 5)
    const dir = mkdtempSync(join(tmpdir(), 'shoal-lz4-'))
    try {
      writeFileSync(join(dir, 'x'), data)
      expect(spawnSync('lz4', ['-q', '-f', join(dir, 'x'), join(dir, 'x.lz4')]).status).toBe(0)
      const packed = new Uint8Array(readFileSync(join(dir, 'x.lz4')))
      const { decompressHandlers } = await loadCodecs()
      expect(same(decompressHandlers.lz4!(packed, BigInt(data.length)), data)).toBe(true)
      expect(() => decompressHandlers.lz4!(packed.subarray(0, 100), BigInt(data.length))).toThrow()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

import lz4Factory from '@foxglove/wasm-lz4/dist/wasm-lz4.js'
import zstdFactory from '@foxglove/wasm-zstd/dist/wasm-zstd.js'
import type { DecompressHandlers } from '@mcap/core'
import { LZ4_WASM_BASE64, ZSTD_WASM_BASE64 } from './gen/wasm.js'

/**
 * Chunk compression for MCAP: zstd to write, zstd and lz4 to read (what MCAP writers use). Both are
 * the reference C libraries compiled to WebAssembly by the MCAP authors (@foxglove/wasm-zstd,
 * @foxglove/wasm-lz4, also what @mcap/support uses): no native build, and the binaries are embedded
 * (scripts/embed-wasm.mjs) so a bundled app needs no file beside it.
 */

/** zstd level of written chunks: the fastest, since compression runs on the receiver's event loop. */
export const ZSTD_LEVEL = 1
/**
 * Largest chunk a reader decompresses, bytes (what its header claims, checked before allocating): a
 * chunk holds at least one message, and a message may be 64 MiB (an Image), so twice that.
 */
export const MAX_CHUNK_UNCOMPRESSED_BYTES = 128 * 1024 * 1024

/** The compression of an MCAP chunk: `'zstd'`, or `''` (none). */
export type ChunkCompression = 'zstd' | ''

export interface Codecs {
  /** zstd-compresses `data` at {@link ZSTD_LEVEL}. */
  zstd(data: Uint8Array): Uint8Array
  /** For @mcap/core's readers: `zstd` and `lz4`, each checking the size it is told before allocating. */
  readonly decompressHandlers: DecompressHandlers
}

interface Heap {
  readonly HEAPU8: Uint8Array
  _malloc(size: number): number
  _free(pointer: number): void
}

/**
 * Copies `src` into the module's heap, runs `op(srcPointer, destPointer)` with room for `destSize`
 * bytes, and copies the `op`'s result length out. The heap may grow inside `op` or `_malloc`, so
 * `HEAPU8` is read again after each.
 */
function throughHeap(
  module: Heap,
  src: Uint8Array,
  destSize: number,
  op: (srcPointer: number, destPointer: number) => number,
  what: string,
): Uint8Array {
  const srcPointer = module._malloc(Math.max(1, src.byteLength))
  const destPointer = module._malloc(Math.max(1, destSize))
  try {
    if (srcPointer === 0 || destPointer === 0) throw new Error(`${what}: out of WebAssembly memory`)
    module.HEAPU8.set(src, srcPointer)
    const length = op(srcPointer, destPointer)
    if (length < 0) throw new Error(`${what} failed`)
    return module.HEAPU8.slice(destPointer, destPointer + length)
  } finally {
    module._free(srcPointer)
    module._free(destPointer)
  }
}

/** The size a chunk claims, as a number, once it is one a reader may allocate. */
function allowedSize(size: bigint, compression: string): number {
  if (size > BigInt(MAX_CHUNK_UNCOMPRESSED_BYTES))
    throw new Error(
      `${compression} chunk claims ${size} bytes uncompressed; at most ${MAX_CHUNK_UNCOMPRESSED_BYTES} are read`,
    )
  return Number(size)
}

function exactly(output: Uint8Array, size: number, compression: string): Uint8Array {
  if (output.byteLength !== size)
    throw new Error(
      `${compression} chunk is ${output.byteLength} bytes uncompressed, not the ${size} it claims`,
    )
  return output
}

async function instantiate(): Promise<Codecs> {
  const [zstd, lz4] = await Promise.all([
    zstdFactory({ wasmBinary: new Uint8Array(Buffer.from(ZSTD_WASM_BASE64, 'base64')) }),
    lz4Factory({ wasmBinary: new Uint8Array(Buffer.from(LZ4_WASM_BASE64, 'base64')) }),
  ])
  // lz4's decompression context is reusable; made on first use.
  let lz4Context = 0
  return Object.freeze({
    zstd(data: Uint8Array): Uint8Array {
      const bound = zstd._compressBound(data.byteLength)
      return throughHeap(
        zstd,
        data,
        bound,
        (src, dest) => zstd._compress(dest, bound, src, data.byteLength, ZSTD_LEVEL),
        'zstd compression',
      )
    },
    decompressHandlers: Object.freeze({
      zstd(buffer: Uint8Array, decompressedSize: bigint): Uint8Array {
        const size = allowedSize(decompressedSize, 'zstd')
        const out = throughHeap(
          zstd,
          buffer,
          size,
          (src, dest) => zstd._decompress(dest, size, src, buffer.byteLength),
          'zstd decompression',
        )
        return exactly(out, size, 'zstd')
      },
      lz4(buffer: Uint8Array, decompressedSize: bigint): Uint8Array {
        const size = allowedSize(decompressedSize, 'lz4')
        if (lz4Context === 0) lz4Context = lz4._createDecompressionContext()
        const out = throughHeap(
          lz4,
          buffer,
          size,
          (src, dest) => lz4._decompressFrame(lz4Context, dest, size, src, buffer.byteLength),
          'lz4 decompression',
        )
        return exactly(out, size, 'lz4')
      },
    }),
  })
}

let loading: Promise<Codecs> | undefined

/** The codecs, instantiated once per process (a few ms; the first call compiles the WebAssembly). */
export function loadCodecs(): Promise<Codecs> {
  loading ??= instantiate()
  return loading
}

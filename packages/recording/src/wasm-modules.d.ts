// The Emscripten loaders inside @foxglove/wasm-zstd and @foxglove/wasm-lz4 (CommonJS, no types of
// their own): each is a factory that takes Module overrides (we pass `wasmBinary`) and resolves with
// the instantiated module. Only what codecs.ts uses is declared.

declare module '@foxglove/wasm-zstd/dist/wasm-zstd.js' {
  interface ZstdModule {
    readonly HEAPU8: Uint8Array
    _malloc(size: number): number
    _free(pointer: number): void
    _compressBound(size: number): number
    _compress(dest: number, destSize: number, src: number, srcSize: number, level: number): number
    _decompress(dest: number, destSize: number, src: number, srcSize: number): number
  }
  const factory: (overrides: { wasmBinary: Uint8Array }) => Promise<ZstdModule>
  export default factory
}

declare module '@foxglove/wasm-lz4/dist/wasm-lz4.js' {
  interface Lz4Module {
    readonly HEAPU8: Uint8Array
    _malloc(size: number): number
    _free(pointer: number): void
    _createDecompressionContext(): number
    _decompressFrame(context: number, dest: number, destSize: number, src: number, srcSize: number): number
  }
  const factory: (overrides: { wasmBinary: Uint8Array }) => Promise<Lz4Module>
  export default factory
}

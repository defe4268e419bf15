import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toUint64 } from '@shoal/schema'
import protobuf from 'protobufjs'
import descriptor from 'protobufjs/ext/descriptor.js'
import { describe, expect, it, type TestContext } from 'vitest'
import { encodeRawImage, littleEndianData, stampToTimestamp } from './raw-image.js'
import { RAW_IMAGE_FILE, RAW_IMAGE_SCHEMA_NAME, rawImageSchema, TIMESTAMP_FILE } from './raw-image-schema.js'

const STAMP_NS = 1_700_000_000_123_456_789n
const image = {
  header: { sourceId: 'cam0', frameId: 'camera_optical', stampNs: toUint64(STAMP_NS) },
  width: 3,
  height: 2,
  encoding: 'rgb8',
  step: 9,
  data: Uint8Array.from({ length: 18 }, (_, i) => i * 7),
}

/** Decodes with a root built from the descriptor set alone, as Foxglove does. */
function decodeWithSet(bytes: Uint8Array): Record<string, unknown> {
  const type = protobuf.Root.fromDescriptor(rawImageSchema().fileDescriptorSet, {
    keepCase: true,
  }).lookupType(RAW_IMAGE_SCHEMA_NAME)
  return type.toObject(type.decode(bytes), { longs: String, bytes: Array, defaults: true }) as Record<
    string,
    unknown
  >
}

describe('foxglove.RawImage schema', () => {
  it('is two files: timestamp.proto, then RawImage.proto importing it, with fixed32 sizes', () => {
    const set = descriptor.FileDescriptorSet.toObject(
      descriptor.FileDescriptorSet.decode(rawImageSchema().fileDescriptorSet),
      { enums: String },
    ) as { file: Array<{ name: string; package: string; dependency?: string[]; messageType: unknown[] }> }
    expect(set.file.map((file) => [file.name, file.package, file.dependency ?? []])).toEqual([
      [TIMESTAMP_FILE, 'google.protobuf', []],
      [RAW_IMAGE_FILE, 'foxglove', [TIMESTAMP_FILE]],
    ])
    const [rawImage] = set.file[1]!.messageType as [{ field: Array<Record<string, unknown>> }]
    const fields = Object.fromEntries(rawImage.field.map((f) => [f.name, [f.number, f.type, f.typeName]]))
    expect(fields).toEqual({
      timestamp: [1, 'TYPE_MESSAGE', '.google.protobuf.Timestamp'],
      frame_id: [7, 'TYPE_STRING', undefined],
      width: [2, 'TYPE_FIXED32', undefined],
      height: [3, 'TYPE_FIXED32', undefined],
      encoding: [4, 'TYPE_STRING', undefined],
      step: [5, 'TYPE_FIXED32', undefined],
      data: [6, 'TYPE_BYTES', undefined],
    })
  })

  it('decodes what encodeRawImage makes: stamp, frame, size and pixels', () => {
    expect(decodeWithSet(encodeRawImage(image))).toEqual({
      timestamp: { seconds: '1700000000', nanos: 123_456_789 },
      frame_id: 'camera_optical',
      width: 3,
      height: 2,
      encoding: 'rgb8',
      step: 9,
      data: [...image.data],
    })
  })

  it('is a descriptor set protoc accepts and decodes with', (ctx) => {
    requireProtoc(ctx)
    const dir = mkdtempSync(join(tmpdir(), 'shoal-raw-image-'))
    try {
      const setFile = join(dir, 'raw-image.binpb')
      writeFileSync(setFile, rawImageSchema().fileDescriptorSet)
      const result = spawnSync(
        protoc,
        [`--descriptor_set_in=${setFile}`, `--decode=${RAW_IMAGE_SCHEMA_NAME}`, RAW_IMAGE_FILE],
        { input: encodeRawImage(image), encoding: 'utf8' },
      )
      expect(result.stderr).toBe('')
      expect(result.status).toBe(0)
      expect(result.stdout).toContain('seconds: 1700000000')
      expect(result.stdout).toContain('nanos: 123456789')
      expect(result.stdout).toContain('frame_id: "camera_optical"')
      expect(result.stdout).toMatch(/width: 3\n/)
      expect(result.stdout).toMatch(/step: 9\n/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('Image → RawImage', () => {
  it('splits the header stamp into seconds and nanoseconds, beyond 2^53 ns', () => {
    expect(stampToTimestamp(STAMP_NS)).toEqual({ seconds: 1_700_000_000, nanos: 123_456_789 })
    expect(stampToTimestamp(0n)).toEqual({ seconds: 0, nanos: 0 })
    expect(stampToTimestamp((1n << 64n) - 1n)).toEqual({ seconds: 18_446_744_073, nanos: 709_551_615 })
  })

  it('an image without header or pixels still encodes (zero stamp, empty frame)', () => {
    expect(decodeWithSet(encodeRawImage({ width: 1 }))).toEqual({
      timestamp: { seconds: '0', nanos: 0 },
      frame_id: '',
      width: 1,
      height: 0,
      encoding: '',
      step: 0,
      data: [],
    })
  })

  it('big-endian 16-bit pixels become little-endian, row padding kept; 8-bit ones are left alone', () => {
    // 2 × mono16 per row, 5-byte step (1 byte of padding).
    const data = Uint8Array.from([0x01, 0x02, 0x03, 0x04, 0xee, 0x05, 0x06, 0x07, 0x08, 0xff])
    const swapped = littleEndianData({ encoding: 'mono16', isBigendian: true, step: 5, data })
    expect([...swapped]).toEqual([0x02, 0x01, 0x04, 0x03, 0xee, 0x06, 0x05, 0x08, 0x07, 0xff])
    expect(data[0]).toBe(0x01) // a copy: the received frame is not changed
    expect(littleEndianData({ encoding: 'mono16', isBigendian: false, step: 5, data })).toBe(data)
    expect(littleEndianData({ encoding: 'rgb8', isBigendian: true, step: 5, data })).toBe(data)
  })

  it('big-endian 32FC1 reverses 4 bytes per value', () => {
    const data = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])
    expect([...littleEndianData({ encoding: '32FC1', isBigendian: true, step: 8, data })]).toEqual([
      4, 3, 2, 1, 8, 7, 6, 5,
    ])
  })
})

const protoc = process.env.PROTOC ?? 'protoc'
const probe = spawnSync(protoc, ['--version'], { encoding: 'utf8' })
const protocMissing =
  probe.status === 0 ? undefined : `${protoc} not runnable: ${probe.error?.message ?? probe.stderr.trim()}`

/** Skips without protoc, printing why; under CI=true a missing protoc fails the test instead. */
function requireProtoc(ctx: TestContext): void {
  if (protocMissing === undefined) return
  if (process.env.CI === 'true') throw new Error(`protoc is required when CI=true: ${protocMissing}`)
  console.warn(`[receiver] skipping: ${protocMissing} (install protobuf-compiler)`)
  ctx.skip(protocMissing)
}

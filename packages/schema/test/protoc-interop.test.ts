/**
 * Wire compatibility with the reference implementation: protoc (C++) encodes and decodes our .proto
 * files, and its bytes must match ours both ways.
 *
 * protoc comes from PATH (override with PROTOC=/path/to/protoc). Without it these tests are skipped
 * with the reason printed, except under CI=true, where a missing protoc fails them.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, type TestContext } from 'vitest'
import { fileDescriptorSet, Image, type MessageType } from '../src/index.js'
import { samples } from './fixtures/samples.js'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const protoc = process.env.PROTOC ?? 'protoc'
const MAX_OUTPUT = 256 * 1024 * 1024

const probe = spawnSync(protoc, ['--version'], { encoding: 'utf8' })
const missing =
  probe.status === 0 ? undefined : `${protoc} not runnable: ${probe.error?.message ?? probe.stderr.trim()}`
if (missing !== undefined && process.env.CI !== 'true') {
  console.warn(`[schema] skipping protoc interop tests: ${missing} (install protobuf-compiler to run them)`)
}

/** Skips the test when protoc is missing; fails it instead when CI=true. */
function requireProtoc(ctx: TestContext): void {
  if (missing === undefined) return
  if (process.env.CI === 'true') throw new Error(`protoc is required when CI=true: ${missing}`)
  ctx.skip(missing)
}

function runProtoc(args: string[], input: Uint8Array): Buffer {
  const result = spawnSync(protoc, ['-I', 'proto', ...args], {
    cwd: packageDir,
    input,
    maxBuffer: MAX_OUTPUT,
  })
  if (result.error) throw result.error
  if (result.status !== 0) throw new Error(`protoc ${args.join(' ')} failed: ${result.stderr.toString()}`)
  return result.stdout
}

/** `protoc --encode`: text format → binary. */
const protocEncode = (type: MessageType, protoFile: string, text: string) =>
  new Uint8Array(runProtoc([`--encode=${type.typeName}`, protoFile], Buffer.from(text, 'utf8')))

/** `protoc --decode`: binary → text format. */
const protocDecode = (type: MessageType, protoFile: string, bytes: Uint8Array) =>
  runProtoc([`--decode=${type.typeName}`, protoFile], bytes).toString('utf8')

/** Text format without `#` comment lines and surrounding blank space. */
const withoutComments = (text: string) =>
  text
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('\n')
    .trim()

const hex = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')

const cases = samples.map(({ type, object }) => {
  const fixture = `${type.typeName
    .replace(/^shoal\.v1\./, '')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase()}.txtpb`
  const text = readFileSync(new URL(`fixtures/${fixture}`, import.meta.url), 'utf8')
  const protoFile = /^# proto-file: (\S+)$/m.exec(text)?.[1]
  if (protoFile === undefined) throw new Error(`fixtures/${fixture}: no "# proto-file:" line`)
  return { name: type.typeName, type, object, text, protoFile: `proto/${protoFile}` }
})

describe('protoc', () => {
  it('is available (required when CI=true)', (ctx) => {
    requireProtoc(ctx)
    expect(probe.stdout).toMatch(/libprotoc \d+/)
  })
})

describe.each(cases)('$name', ({ type, object, text, protoFile }) => {
  it('decodes what protoc --encode produced from the text format', (ctx) => {
    requireProtoc(ctx)
    const bytes = protocEncode(type, protoFile, text)
    expect(type.toObject(type.decode(bytes))).toEqual(object)
  })

  it('encodes what protoc --decode prints as the same text format', (ctx) => {
    requireProtoc(ctx)
    const ours = type.encode(type.fromObject(object))
    expect(withoutComments(protocDecode(type, protoFile, ours))).toBe(withoutComments(text))
  })

  it('encodes byte for byte like protoc', (ctx) => {
    requireProtoc(ctx)
    const ours = type.encode(type.fromObject(object))
    expect(hex(ours)).toBe(hex(protocEncode(type, protoFile, text)))
  })
})

describe.each(cases)('$name from its FileDescriptorSet alone', ({ type, object, text }) => {
  it('protoc --descriptor_set_in decodes it, with no .proto file in reach', (ctx) => {
    requireProtoc(ctx)
    const dir = mkdtempSync(join(tmpdir(), 'shoal-descriptor-set-'))
    try {
      const setFile = join(dir, 'set.binpb')
      writeFileSync(setFile, fileDescriptorSet(type.typeName)!)
      const result = spawnSync(protoc, [`--descriptor_set_in=${setFile}`, `--decode=${type.typeName}`], {
        cwd: dir, // no -I proto: everything protoc knows comes from the set
        input: type.encode(type.fromObject(object)),
        maxBuffer: MAX_OUTPUT,
      })
      if (result.error) throw result.error
      expect(result.stderr.toString()).toBe('')
      expect(withoutComments(result.stdout.toString('utf8'))).toBe(withoutComments(text))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('a several-MiB Image', () => {
  it('survives protoc --decode then --encode byte for byte', (ctx) => {
    requireProtoc(ctx)
    const data = new Uint8Array(3 * 1024 * 1024 + 17)
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff
    const ours = Image.encode(
      Image.create({
        header: { sourceId: 'cam0' },
        width: 1024,
        height: 1024,
        encoding: 'rgb8',
        step: 3072,
        data,
      }),
    )
    const text = protocDecode(Image, 'proto/shoal/v1/image.proto', ours)
    expect(text).toContain('encoding: "rgb8"')
    const theirs = protocEncode(Image, 'proto/shoal/v1/image.proto', text)
    expect(theirs.byteLength).toBe(ours.byteLength)
    expect(Buffer.compare(Buffer.from(theirs), Buffer.from(ours))).toBe(0)
  })
})

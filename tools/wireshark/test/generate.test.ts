/**
 * shoal.lua cannot drift from the wire constants and the schema: the file is what the generator
 * makes of them now, the committed copy is that file, and the dissector has a payload reader for
 * every frame kind and a name for every message type.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { registry } from '@shoal/schema'
import { FIXED_HEADER_LENGTH, Flag, FrameKind, Offset } from '@shoal/transport/wire'
import { describe, expect, it } from 'vitest'
import { generateDissector, headerFields } from '../src/generate.js'
import { DISSECTOR } from './tshark.js'

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))
const dissector = () => readFileSync(DISSECTOR, 'utf8')

describe('shoal.lua', () => {
  it('is what the generator makes of the current wire constants and schema (pnpm build writes it)', () => {
    expect(dissector() === generateDissector(), 'shoal.lua is stale: run pnpm build').toBe(true)
  })

  it('is committed as built: a change to the constants or the schema commits the regenerated dissector too', () => {
    const tracked = spawnSync('git', ['ls-files', '--error-unmatch', 'shoal.lua'], { cwd: PACKAGE_DIR })
    if (tracked.error || spawnSync('git', ['rev-parse'], { cwd: PACKAGE_DIR }).status !== 0) {
      // Not a git checkout (an unpacked archive): nothing committed to compare.
      expect(process.env.CI, 'CI runs in a git checkout').not.toBe('true')
      return
    }
    expect(tracked.status, 'tools/wireshark/shoal.lua is not committed').toBe(0)
    const git = spawnSync('git', ['diff', '--quiet', '--', 'shoal.lua'], { cwd: PACKAGE_DIR })
    expect(
      git.status,
      'tools/wireshark/shoal.lua differs from the committed one: commit the rebuilt file',
    ).toBe(0)
  })

  it('reads every frame kind with a payload reader of its own', () => {
    const handled = [...dissector().matchAll(/\[W\.KIND\.(\w+)\] = dissect_\w+/g)].map((m) => m[1])
    expect(handled.sort()).toEqual(Object.keys(FrameKind).sort())
  })

  it('names every message type of the registry by its fingerprint', () => {
    const types = [...dissector().matchAll(/\[0x([0-9a-f]{8})\] = "([\w.]+)"/g)].map((m) => [
      Number.parseInt(m[1]!, 16),
      m[2],
    ])
    expect(types).toEqual(registry.all().map((type) => [type.fingerprint, type.typeName]))
  })

  it('has a field for every flag bit', () => {
    const flags = [...dissector().matchAll(/\{ name = "(\w+)", bit = 0x([0-9a-f]{4}) \}/g)].map((m) => [
      m[1],
      Number.parseInt(m[2]!, 16),
    ])
    expect(flags).toEqual(Object.entries(Flag))
  })
})

describe('headerFields', () => {
  it('tiles the fixed header in wire order, each field up to the next', () => {
    const fields = headerFields()
    expect(fields.map((f) => f.name)).toEqual(Object.keys(Offset).filter((name) => name !== 'TOPIC'))
    let at = 0
    for (const field of fields) {
      expect(field.offset).toBe(at)
      at += field.width
    }
    expect(at).toBe(FIXED_HEADER_LENGTH)
    expect(fields.find((f) => f.name === 'SESSION')?.width).toBe(4)
    expect(fields.find((f) => f.name === 'FLAGS')?.width).toBe(2)
    expect(fields.find((f) => f.name === 'KIND')?.width).toBe(1)
  })
})

import { EventEmitter } from 'node:events'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Keyring, MAX_KEY_FILE_BYTES } from '@shoal/transport'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isConfigError } from './errors.js'
import {
  NEW_KEY_FILE_MODE,
  readKeyFile,
  reloadKeysOnHangup,
  sealedLine,
  writeNewKeyFile,
} from './key-file.js'
import { createLogger } from './logger.js'
import { MemorySink } from './testing/memory-sink.js'

const HEX_1 = '11'.repeat(32)
const HEX_2 = `${'ab'.repeat(31)}cd`

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shoal-key-file-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
function keyFile(text: string, mode = 0o600): string {
  const path = join(dir, `keys-${++n}`)
  writeFileSync(path, text, { mode })
  chmodSync(path, mode) // whatever the umask took away
  return path
}

/** The ConfigError `fn` throws (its message checked for key material). */
function refusal(fn: () => unknown, ...secrets: string[]) {
  try {
    fn()
  } catch (error) {
    if (!isConfigError(error)) throw error
    for (const secret of [HEX_1, HEX_2, ...secrets]) expect(error.message).not.toContain(secret)
    return error
  }
  throw new Error('expected a ConfigError')
}

describe('readKeyFile', () => {
  it('reads a private keyring: the highest id seals', () => {
    const ring = readKeyFile(keyFile(`# site keys\n1 ${HEX_1}\n2 ${HEX_2}\n`))
    expect(ring.ids()).toEqual([1, 2])
    expect(ring.sealing()?.id).toBe(2)
    expect(sealedLine('encrypt', ring)).toBe('sealed: encrypt, key id 2')
  })

  it.each([0o640, 0o604, 0o644, 0o660, 0o602, 0o620, 0o700 | 0o007])(
    'refuses a file open to group or others (mode %o), saying chmod 600 FILE',
    (mode) => {
      const path = keyFile(`1 ${HEX_1}\n`, mode)
      const error = refusal(() => readKeyFile(path))
      expect(error.exitCode).toBe(2)
      expect(error.code).toBe('SHOAL_CONFIG_KEY_FILE')
      expect(error.flag).toBe('--key-file')
      expect(error.message).toContain(`--key-file ${path}`)
      expect(error.message).toContain(`chmod 600 ${path}`)
      expect(error.message).toContain(`mode 0${mode.toString(8)}`)
    },
  )

  it('takes 0400 and 0700 (owner only)', () => {
    expect(readKeyFile(keyFile(`1 ${HEX_1}\n`, 0o400)).ids()).toEqual([1])
    expect(readKeyFile(keyFile(`1 ${HEX_1}\n`, 0o700)).ids()).toEqual([1])
  })

  it('follows a symlink and checks the file it names (as a mounted secret is)', () => {
    const target = keyFile(`3 ${HEX_1}\n`, 0o644)
    const link = join(dir, 'link-to-open-file')
    symlinkSync(target, link)
    expect(refusal(() => readKeyFile(link)).message).toContain('chmod 600')
  })

  it('names the flag for a missing file, a directory and a file past the size limit', () => {
    const missing = join(dir, 'nope')
    expect(refusal(() => readKeyFile(missing, '--out-key-file')).message).toBe(
      `cannot read --out-key-file ${missing}: no such file`,
    )
    expect(refusal(() => readKeyFile(dir)).message).toMatch(
      /--key-file .* is not a regular file|is a directory/,
    )
    const big = keyFile(`1 ${HEX_1}\n${'#'.repeat(MAX_KEY_FILE_BYTES)}\n`)
    expect(refusal(() => readKeyFile(big)).message).toContain(`at most ${MAX_KEY_FILE_BYTES}`)
  })

  it('names FILE:LINE of a malformed line and never echoes it', () => {
    const short = HEX_2.slice(0, 63)
    const path = keyFile(`1 ${HEX_1}\n\n# next\n2 ${short}\n`)
    const error = refusal(() => readKeyFile(path), short)
    expect(error.message).toContain(`--key-file ${path}:4:`)
    expect(error.exitCode).toBe(2)
    const badId = keyFile(`x${HEX_1}\n`)
    expect(refusal(() => readKeyFile(badId)).message).toContain(`${badId}:1:`)
    expect(refusal(() => readKeyFile(keyFile('# nothing\n'))).message).toContain('no key')
  })
})

describe('writeNewKeyFile', () => {
  it('writes a 0600 key file with key id 1 that reads back', () => {
    const path = join(dir, 'new-1')
    expect(writeNewKeyFile(path)).toEqual({ path, keyId: 1 })
    expect(statSync(path).mode & 0o777).toBe(NEW_KEY_FILE_MODE)
    const ring = readKeyFile(path)
    expect(ring.ids()).toEqual([1])
    expect(readFileSync(path, 'utf8')).toMatch(/^1 [0-9a-f]{64}$/m)
  })

  it('takes another key id, and every key is new', () => {
    const a = join(dir, 'new-7a')
    const b = join(dir, 'new-7b')
    writeNewKeyFile(a, 7)
    writeNewKeyFile(b, 7)
    expect(readKeyFile(a).sealing()?.id).toBe(7)
    expect(readFileSync(a, 'utf8')).not.toBe(readFileSync(b, 'utf8'))
  })

  it('never overwrites an existing file (exit 2), and says why', () => {
    const path = keyFile(`1 ${HEX_1}\n`)
    const error = refusal(() => writeNewKeyFile(path))
    expect(error.exitCode).toBe(2)
    expect(error.flag).toBe('--new-key')
    expect(error.message).toContain(`--new-key ${path} exists`)
    expect(readFileSync(path, 'utf8')).toBe(`1 ${HEX_1}\n`)
    expect(refusal(() => writeNewKeyFile(join(dir, 'no-dir', 'k'))).message).toContain('no such file')
  })
})

describe('reloadKeysOnHangup', () => {
  function setup(path: string) {
    const events = new EventEmitter()
    const sink = new MemorySink()
    const logger = createLogger({ name: 't', destination: sink })
    const applied: Keyring[][] = []
    reloadKeysOnHangup(
      { logger, onReload: (listener) => events.on('SIGHUP', listener) },
      [{ flag: '--key-file', path }],
      (rings) => applied.push(rings),
    )
    return { events, sink, applied }
  }

  it('re-reads the file: a new keyring, and the ids in the log', () => {
    const path = keyFile(`1 ${HEX_1}\n`)
    const { events, sink, applied } = setup(path)
    writeFileSync(path, `1 ${HEX_1}\n2 ${HEX_2}\n`)
    events.emit('SIGHUP')
    expect(applied.map((rings) => rings.map((r) => r.ids()))).toEqual([[[1, 2]]])
    expect(sink.json().at(-1)).toMatchObject({ msg: 'keys reloaded: key ids 1, 2; sealing with 2' })
    expect(sink.text).not.toContain(HEX_1)
    expect(sink.text).not.toContain(HEX_2)
  })

  it('keeps the old keys when the file went bad, and logs why', () => {
    const path = keyFile(`1 ${HEX_1}\n`)
    const { events, sink, applied } = setup(path)
    writeFileSync(path, `1 ${HEX_1}\n2 ${HEX_2.slice(1)}\n`)
    events.emit('SIGHUP')
    chmodSync(path, 0o644)
    writeFileSync(path, `1 ${HEX_1}\n`)
    events.emit('SIGHUP')
    expect(applied).toEqual([])
    const errors = sink.json().filter((line) => line.level === 50)
    expect(errors.map((line) => line.msg)).toEqual([
      expect.stringMatching(
        new RegExp(`^keys not reloaded, keeping the old ones: invalid --key-file ${path}:2:`),
      ),
      expect.stringContaining(`chmod 600 ${path}`),
    ])
    expect(sink.text).not.toContain(HEX_2.slice(1))
  })
})

it('a keyring prints no key material, however it is printed', () => {
  const ring = Keyring.parse(`5 ${HEX_1}\n`)
  for (const shown of [String(ring), JSON.stringify(ring), ring.describe()])
    expect(shown).not.toContain(HEX_1)
})

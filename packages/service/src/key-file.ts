/**
 * A service's group key file (`--key-file`, the transport's keyring format: `KEY_ID HEX` lines),
 * read as ssh reads a private key: refused unless only its owner may read and write it, and never
 * larger than the transport's {@link MAX_KEY_FILE_BYTES}. Every message names the flag and the file
 * (and `FILE:LINE` for a malformed line) and never a byte of key material: the keyring's own errors
 * name ids and lines only, and nothing here prints what was read.
 *
 * A new key file (`--new-key`) is created with mode 0600 and `O_EXCL`: an existing file, a key
 * already in use perhaps, is never overwritten.
 */
import {
  closeSync,
  fchmodSync,
  fstatSync,
  fsyncSync,
  openSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { isTransportError, Keyring, MAX_KEY_FILE_BYTES } from '@shoal/transport'
import type { SealModeFlag } from './common-flags.js'
import { describeFsError } from './config-file.js'
import { ConfigError, conflict, formatValue } from './errors.js'
import type { Logger } from './logger.js'

export const KEY_FILE_FLAG = '--key-file'
export const NEW_KEY_FLAG = '--new-key'
/** The key id a new key file holds unless `--new-key-id` says otherwise. */
export const DEFAULT_NEW_KEY_ID = 1
/** Permission bits a key file may not have: any for group or others (what ssh refuses). */
export const KEY_FILE_FORBIDDEN_MODE = 0o077
/** Mode of a key file `--new-key` writes: read and write for its owner only. */
export const NEW_KEY_FILE_MODE = 0o600

function keyFileError(message: string, flag: string, cause?: unknown): ConfigError {
  return new ConfigError(message, { code: 'SHOAL_CONFIG_KEY_FILE', flag, cause })
}

/**
 * Reads and parses the key file at `path` (as given: relative to the working directory). Throws a
 * {@link ConfigError} (exit 2) naming `flag` and the file when it is missing or unreadable, not a
 * regular file, open to group or others, larger than {@link MAX_KEY_FILE_BYTES}, or malformed.
 */
export function readKeyFile(path: string, flag = KEY_FILE_FLAG): Keyring {
  const shown = formatValue(path)
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (error) {
    throw keyFileError(`cannot read ${flag} ${shown}: ${describeFsError(error)}`, flag, error)
  }
  let text: string
  try {
    // The file's own descriptor: what was checked is what is read, even if the path changes meanwhile.
    const stat = fstatSync(fd)
    if (!stat.isFile()) throw keyFileError(`${flag} ${shown} is not a regular file`, flag)
    const mode = stat.mode & 0o777
    if ((mode & KEY_FILE_FORBIDDEN_MODE) !== 0)
      throw keyFileError(
        `${flag} ${shown} is open to group or others (mode ${octal(mode)}); a key file must be private: chmod 600 ${shown}`,
        flag,
      )
    if (stat.size > MAX_KEY_FILE_BYTES)
      throw keyFileError(
        `${flag} ${shown} is ${stat.size} bytes; a key file holds at most ${MAX_KEY_FILE_BYTES}`,
        flag,
      )
    // At most one byte more than the limit, whatever the file grew to since fstat.
    const buffer = Buffer.alloc(MAX_KEY_FILE_BYTES + 1)
    let length = 0
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null)
      if (n === 0) break
      length += n
      if (length === buffer.length)
        throw keyFileError(`${flag} ${shown} is larger than ${MAX_KEY_FILE_BYTES} bytes`, flag)
    }
    text = buffer.toString('utf8', 0, length)
    buffer.fill(0)
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw keyFileError(`cannot read ${flag} ${shown}: ${describeFsError(error)}`, flag, error)
  } finally {
    closeSync(fd)
  }
  try {
    return Keyring.parse(text, path)
  } catch (error) {
    // `FILE:LINE: why`, never the line itself.
    if (isTransportError(error, 'SHOAL_BAD_KEY')) throw keyFileError(`invalid ${flag} ${error.message}`, flag)
    throw error
  }
}

export interface NewKeyFile {
  readonly path: string
  readonly keyId: number
}

/**
 * Writes a new key file holding one fresh random key under `keyId`: created with mode 0600 and
 * `O_EXCL`, so an existing file is never overwritten (a {@link ConfigError}, exit 2, instead).
 */
export function writeNewKeyFile(path: string, keyId = DEFAULT_NEW_KEY_ID, flag = NEW_KEY_FLAG): NewKeyFile {
  const shown = formatValue(path)
  let fd: number
  try {
    fd = openSync(path, 'wx', NEW_KEY_FILE_MODE)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      throw keyFileError(
        `${flag} ${shown} exists; a key file is never overwritten: choose another path, or remove it first`,
        flag,
        error,
      )
    throw keyFileError(`cannot create ${flag} ${shown}: ${describeFsError(error)}`, flag, error)
  }
  try {
    // The umask may only have taken bits away; say exactly 0600.
    fchmodSync(fd, NEW_KEY_FILE_MODE)
    writeSync(fd, Keyring.generate(keyId))
    fsyncSync(fd)
  } catch (error) {
    closeSync(fd)
    unlinkSync(path)
    throw keyFileError(`cannot write ${flag} ${shown}: ${describeFsError(error)}`, flag, error)
  }
  closeSync(fd)
  return { path, keyId }
}

/** A keyed service's sealing: its keyring, how it seals, and the file to re-read on SIGHUP. */
export interface SealSetup {
  readonly keyring: Keyring
  readonly mode: SealModeFlag
  readonly keyFile: string
}

/**
 * `--key-file` and `--seal` (keyFlags, sealFlags) resolved: the key file read (a ConfigError, exit 2,
 * when it cannot be), `encrypt` unless `--seal` says otherwise; undefined without a key. `--seal`
 * without a key exits 2: a user who asked for sealing gets it or a refusal, never plain frames.
 */
export function resolveSeal(values: {
  readonly keyFile?: string | undefined
  readonly seal?: SealModeFlag | undefined
}): SealSetup | undefined {
  if (values.keyFile === undefined) {
    if (values.seal !== undefined) throw conflict('--seal', `--seal ${values.seal} needs --key-file <file>`)
    return undefined
  }
  return { keyring: readKeyFile(values.keyFile), mode: values.seal ?? 'encrypt', keyFile: values.keyFile }
}

/** The startup line of a keyed service: `sealed: encrypt, key id 7` (never the key). */
export function sealedLine(mode: string, keyring: Keyring): string {
  return `sealed: ${mode}, key id ${keyring.sealing()?.id ?? 'none (every key expired)'}`
}

/** A key file a running service re-reads on SIGHUP. */
export interface KeyFileRef {
  /** The flag it was given with, for messages: `--key-file`. */
  readonly flag: string
  readonly path: string
}

export interface ReloadContext {
  readonly logger: Logger
  onReload(listener: () => void): void
}

/**
 * On every SIGHUP re-reads each of `files`; when all of them read, hands the new keyrings (in the
 * same order) to `apply` and logs `keys reloaded: key ids 1, 2; sealing with 2`. When one does not,
 * logs why and keeps every old keyring: a half-edited file never takes a service's keys away.
 */
export function reloadKeysOnHangup(
  ctx: ReloadContext,
  files: readonly KeyFileRef[],
  apply: (keyrings: Keyring[]) => void,
): void {
  if (files.length === 0) return
  ctx.onReload(() => {
    let keyrings: Keyring[]
    try {
      keyrings = files.map(({ flag, path }) => readKeyFile(path, flag))
    } catch (error) {
      ctx.logger.error(
        { signal: 'SIGHUP' },
        `keys not reloaded, keeping the old ones: ${error instanceof Error ? error.message : String(error)}`,
      )
      return
    }
    try {
      apply(keyrings)
    } catch (error) {
      ctx.logger.error(
        { signal: 'SIGHUP' },
        `keys not reloaded: ${error instanceof Error ? error.message : String(error)}`,
      )
      return
    }
    const described = keyrings.map((keyring, i) =>
      files.length === 1 ? keyring.describe() : `${keyring.describe()} (${files[i]!.flag})`,
    )
    ctx.logger.info(
      {
        signal: 'SIGHUP',
        keys: Object.fromEntries(
          keyrings.map((k, i) => [files[i]!.flag, { ids: k.ids(), sealing: k.sealing()?.id ?? null }]),
        ),
      },
      `keys reloaded: ${described.join('; ')}`,
    )
  })
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`
}

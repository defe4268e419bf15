/**
 * A group's keyring (WIRE.md “Sealing”): the 256-bit keys a group seals with, each under a
 * decimal u32 id. The highest id seals; every id opens, so a key rotates with no lost frame (add
 * the new key everywhere, then drop the old one).
 *
 * The text format, one key per line (`#` starts a comment, blank lines are skipped):
 *
 *     KEY_ID HEX [not-before=ISO-8601] [not-after=ISO-8601]
 *
 * `HEX` is 64 hex characters (as `openssl rand -hex 32` prints). A key past its `not-after` opens
 * nothing and seals nothing. A key before its `not-before` opens but does not seal yet: add it
 * everywhere with a `not-before` a little later than the last service will have re-read the
 * file, and no frame, not even a receiver's control frame, is sealed with a key a peer lacks. Key material never leaves this module as text: `describe()` and
 * errors name ids and line numbers only.
 */
import { randomBytes } from 'node:crypto'
import { transportError } from '../errors.js'

/** Bytes of a key: AES-256. */
export const KEY_BYTES = 32
/** Keys one ring holds, at most: rotation needs two; a site with many groups a few more. */
export const MAX_KEYS = 64
/** Longest line of a key file, characters (a key line is about 100). */
export const MAX_KEY_LINE = 512
/** Largest key file read, bytes. */
export const MAX_KEY_FILE_BYTES = MAX_KEYS * MAX_KEY_LINE

export interface GroupKey {
  readonly id: number
  /** The key itself: handed to node:crypto only, never printed. */
  readonly secret: Buffer
  /** Past this instant (ms since the epoch) the key opens and seals nothing. */
  readonly notAfter?: number
  /** Before this instant (ms since the epoch) the key opens but does not seal. */
  readonly notBefore?: number
}

export class Keyring {
  readonly #keys: ReadonlyMap<number, GroupKey>

  constructor(keys: Iterable<GroupKey>) {
    const map = new Map<number, GroupKey>()
    for (const key of keys) {
      if (!Number.isInteger(key.id) || key.id < 0 || key.id > 0xffff_ffff)
        throw transportError('SHOAL_BAD_KEY', `key id ${key.id} is not a u32`)
      if (key.secret.length !== KEY_BYTES)
        throw transportError(
          'SHOAL_BAD_KEY',
          `key ${key.id} is ${key.secret.length} bytes; a key is ${KEY_BYTES}`,
        )
      if (map.has(key.id)) throw transportError('SHOAL_BAD_KEY', `key id ${key.id} appears twice`)
      map.set(key.id, key)
    }
    if (map.size === 0) throw transportError('SHOAL_BAD_KEY', 'a keyring needs at least one key')
    if (map.size > MAX_KEYS) throw transportError('SHOAL_BAD_KEY', `a keyring holds at most ${MAX_KEYS} keys`)
    this.#keys = map
  }

  /** Parses a key file's text; a malformed line throws `SHOAL_BAD_KEY` naming `source:line`. */
  static parse(text: string, source = 'keyring'): Keyring {
    if (text.length > MAX_KEY_FILE_BYTES)
      throw transportError('SHOAL_BAD_KEY', `${source}: larger than ${MAX_KEY_FILE_BYTES} bytes`)
    const keys: GroupKey[] = []
    const seen = new Map<number, number>()
    const lines = text.split(/\r?\n/)
    for (let i = 0; i < lines.length; i++) {
      const where = `${source}:${i + 1}`
      const line = lines[i]!.replace(/#.*$/, '').trim()
      if (line === '') continue
      if (line.length > MAX_KEY_LINE) throw bad(where, `longer than ${MAX_KEY_LINE} characters`)
      const [idText, hex, ...rest] = line.split(/\s+/)
      if (!/^\d{1,10}$/.test(idText!) || Number(idText) > 0xffff_ffff)
        throw bad(where, 'expected `KEY_ID HEX`: KEY_ID is a decimal number 0-4294967295')
      const id = Number(idText)
      if (hex === undefined || !/^[0-9a-fA-F]{64}$/.test(hex))
        throw bad(
          where,
          `key ${id}: expected 64 hex characters (a 256-bit key, as \`openssl rand -hex 32\` makes)`,
        )
      if (seen.has(id)) throw bad(where, `key id ${id} already on line ${seen.get(id)}`)
      seen.set(id, i + 1)
      const times: { notBefore?: number; notAfter?: number } = {}
      for (const field of rest) {
        const match = /^(not-before|not-after)=(.+)$/.exec(field)
        const at = match === null ? Number.NaN : Date.parse(match[2]!)
        if (Number.isNaN(at))
          throw bad(
            where,
            `key ${id}: unknown field (expected not-before= or not-after= and an ISO-8601 date)`,
          )
        times[match![1] === 'not-before' ? 'notBefore' : 'notAfter'] = at
      }
      keys.push({ id, secret: Buffer.from(hex, 'hex'), ...times })
      if (keys.length > MAX_KEYS) throw bad(where, `more than ${MAX_KEYS} keys`)
    }
    if (keys.length === 0) throw transportError('SHOAL_BAD_KEY', `${source}: no key in it`)
    return new Keyring(keys)
  }

  /** A new key file's text: one fresh random key under `id`. */
  static generate(id = 1): string {
    return `# Shoal group key (WIRE.md “Sealing”): KEY_ID HEX. Keep it mode 0600.\n${id} ${randomBytes(KEY_BYTES).toString('hex')}\n`
  }

  /** The key that seals now: the highest id past its `not-before` and not past its `not-after`. */
  sealing(now = Date.now()): GroupKey | undefined {
    let best: GroupKey | undefined
    for (const key of this.#keys.values())
      if (usable(key, now) && !(now < (key.notBefore ?? 0)) && (best === undefined || key.id > best.id))
        best = key
    return best
  }

  /** When the sealing key may next change by the clock alone (a `not-before` or `not-after`). */
  nextChange(now = Date.now()): number {
    let next = Number.POSITIVE_INFINITY
    for (const { notBefore, notAfter } of this.#keys.values()) {
      if (notBefore !== undefined && notBefore > now) next = Math.min(next, notBefore)
      if (notAfter !== undefined && notAfter >= now) next = Math.min(next, notAfter + 1)
    }
    return next
  }

  /** The key `id`, when the ring has it and it is not past its `not-after`. */
  key(id: number, now = Date.now()): GroupKey | undefined {
    const key = this.#keys.get(id)
    return key !== undefined && usable(key, now) ? key : undefined
  }

  /** Ids in the ring, ascending. */
  ids(): number[] {
    return [...this.#keys.keys()].sort((a, b) => a - b)
  }

  /** For logs: ids and which seals, never a key. */
  describe(now = Date.now()): string {
    return `key ids ${this.ids().join(', ')}; sealing with ${this.sealing(now)?.id ?? 'none (every key expired)'}`
  }

  /** Never the key material, whatever prints a keyring. */
  toJSON(): { ids: number[] } {
    return { ids: this.ids() }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Keyring(${this.ids().join(', ')})`
  }
}

function usable(key: GroupKey, now: number): boolean {
  return key.notAfter === undefined || now <= key.notAfter
}

function bad(where: string, why: string) {
  return transportError('SHOAL_BAD_KEY', `${where}: ${why}`)
}

/**
 * Writes plain data as a Lua table constructor: the generated constants block of shoal.lua.
 * Only what the constants need: integers, ASCII strings, booleans, arrays and records with
 * identifier keys, and integer-keyed maps (written in hex, as fingerprints read best).
 */

export type LuaValue = number | string | boolean | readonly LuaValue[] | LuaRecord | LuaIntegerMap | LuaHex

export interface LuaRecord {
  readonly [key: string]: LuaValue
}

/** A table keyed by integers, e.g. fingerprint → type name. */
export class LuaIntegerMap {
  constructor(readonly entries: ReadonlyArray<readonly [number, LuaValue]>) {}
}

/** An integer written in hex with at least `digits` digits (magic numbers, flag bits). */
export class LuaHex {
  constructor(
    readonly value: number,
    readonly digits: number,
  ) {}
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/
const INDENT = '  '

function integer(value: number): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`not an integer for Lua: ${value}`)
  return String(value)
}

function hex(value: number, digits: number): string {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`not a non-negative integer for Lua: ${value}`)
  return `0x${value.toString(16).padStart(digits, '0')}`
}

function string(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value))
    throw new RangeError(`not printable ASCII for Lua: ${JSON.stringify(value)}`)
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

/** `value` as a Lua expression, nested tables indented from `depth`. */
export function toLua(value: LuaValue, depth = 0): string {
  if (typeof value === 'number') return integer(value)
  if (typeof value === 'string') return string(value)
  if (typeof value === 'boolean') return String(value)
  if (value instanceof LuaHex) return hex(value.value, value.digits)
  const pad = INDENT.repeat(depth + 1)
  const close = `${INDENT.repeat(depth)}}`
  if (value instanceof LuaIntegerMap) {
    const lines = value.entries.map(([key, item]) => `${pad}[${hex(key, 8)}] = ${toLua(item, depth + 1)},`)
    return lines.length === 0 ? '{}' : `{\n${lines.join('\n')}\n${close}`
  }
  if (Array.isArray(value)) {
    const items = value.map((item: LuaValue) => toLua(item, depth + 1))
    const inline = `{ ${items.join(', ')} }`
    if (!items.some((item) => item.includes('\n')) && inline.length <= 100) return inline
    return `{\n${items.map((item) => `${pad}${item},`).join('\n')}\n${close}`
  }
  const entries = Object.entries(value as LuaRecord).map(([key, item]) => {
    if (!IDENTIFIER.test(key)) throw new RangeError(`not a Lua identifier: ${key}`)
    return `${key} = ${toLua(item, depth + 1)}`
  })
  const inline = `{ ${entries.join(', ')} }`
  if (!entries.some((entry) => entry.includes('\n')) && inline.length <= 100) return inline
  return `{\n${entries.map((entry) => `${pad}${entry},`).join('\n')}\n${close}`
}

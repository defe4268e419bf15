/**
 * Generates tools/wireshark/shoal.lua: a constants block read from the real wire constants
 * (@shoal/transport/wire) and type registry (@shoal/schema), then the hand-written dissector parts
 * of src/lua/ in order. So the offsets, kinds, flags, payload layouts and type names the dissector
 * uses are the ones the transport uses, as of the last build.
 */
import { readFileSync } from 'node:fs'
import { registry } from '@shoal/schema'
import * as wire from '@shoal/transport/wire'
import { LuaHex, LuaIntegerMap, type LuaRecord, toLua } from './lua-literal.js'

/** The dissector parts, concatenated in this order (each uses what the ones before define). */
export const LUA_PARTS = [
  'fields.lua',
  'crc.lua',
  'header.lua',
  'control.lua',
  'reassembly.lua',
  'data.lua',
  'main.lua',
]

/** The oldest Wireshark the dissector is written for (its Lua API and the Protobuf dissector's pb_msg_type). */
export const MIN_WIRESHARK = [3, 6] as const

const LUA_DIR = new URL('../src/lua/', import.meta.url)

export interface HeaderField {
  readonly name: string
  readonly offset: number
  readonly width: number
}

/**
 * The fixed header fields in wire order with their widths: each runs to the next field's offset,
 * the last to the topic (which starts at FIXED_HEADER_LENGTH). Throws if the offsets do not tile
 * the fixed header, so a change to `Offset` cannot produce a dissector that reads past a field.
 */
export function headerFields(): HeaderField[] {
  const entries = Object.entries(wire.Offset).sort(([, a], [, b]) => a - b)
  const topic = entries.pop()
  if (topic?.[0] !== 'TOPIC' || topic[1] !== wire.FIXED_HEADER_LENGTH) {
    throw new Error(
      `Offset.TOPIC must be the last field, at FIXED_HEADER_LENGTH (${wire.FIXED_HEADER_LENGTH})`,
    )
  }
  return entries.map(([name, offset], i) => {
    const next = entries[i + 1]?.[1] ?? topic[1]
    const width = next - offset
    if (![1, 2, 4].includes(width))
      throw new Error(`header field ${name} at ${offset} is ${width} bytes wide`)
    return { name, offset, width }
  })
}

/** Everything the dissector reads from the wire constants, as one Lua table `W`. */
export function wireConstants(): LuaRecord {
  const header = headerFields()
  const sequence = header.find((field) => field.name === 'SEQUENCE')
  if (sequence === undefined) throw new Error('no SEQUENCE header field')
  const [wholeFirst, wholeCount] = wire.WHOLE_MESSAGE
  return {
    MAGIC: new LuaHex(wire.MAGIC, 4),
    WIRE_VERSION: wire.WIRE_VERSION,
    FIXED_HEADER_LENGTH: wire.FIXED_HEADER_LENGTH,
    CRC_LENGTH: wire.CRC_LENGTH,
    SEQUENCE_SPACE: 2 ** (8 * sequence.width),
    HEADER: header.map((field) => ({ ...field })),
    OFFSET: { ...wire.Offset },
    KINDS: Object.entries(wire.FrameKind).map(([name, value]) => ({ name, value })),
    KIND: { ...wire.FrameKind },
    FLAGS: Object.entries(wire.Flag).map(([name, bit]) => ({ name, bit: new LuaHex(bit, 4) })),
    KNOWN_FLAGS: new LuaHex(wire.KNOWN_FLAGS, 4),
    MUST_UNDERSTAND_FLAGS: new LuaHex(wire.MUST_UNDERSTAND_FLAGS, 4),
    TOPIC_ENTRY_OVERHEAD: wire.HEARTBEAT_ENTRY_OVERHEAD,
    ACK: {
      RECEIVER_OFFSET: wire.ACK_RECEIVER_OFFSET,
      NAME_OFFSET: wire.ACK_NAME_OFFSET,
      MAX_RECEIVER_NAME_BYTES: wire.MAX_RECEIVER_NAME_BYTES,
    },
    NACK: {
      RANGES_OFFSET: wire.NACK_RANGES_OFFSET,
      RANGE_BYTES: wire.NACK_RANGE_BYTES,
      MAX_RANGES: wire.MAX_NACK_RANGES,
      WHOLE_MESSAGE_FIRST: wholeFirst,
      WHOLE_MESSAGE_COUNT: wholeCount,
    },
    NACK_FRAMES: {
      RANGES_OFFSET: wire.NACK_FRAMES_RANGES_OFFSET,
      RANGE_BYTES: wire.NACK_FRAMES_RANGE_BYTES,
      MAX_RANGES: wire.MAX_NACK_FRAME_RANGES,
    },
    HEARTBEAT: { TOPIC: wire.HEARTBEAT_TOPIC, MAX_ENTRIES: wire.MAX_HEARTBEAT_ENTRIES },
    STATUS: {
      TOPIC: wire.STATUS_TOPIC,
      RECEIVER_OFFSET: wire.STATUS_RECEIVER_OFFSET,
      WINDOW_OFFSET: wire.STATUS_WINDOW_OFFSET,
      ENTRIES_OFFSET: wire.STATUS_ENTRIES_OFFSET,
      MAX_ENTRIES: wire.MAX_STATUS_ENTRIES,
    },
    BATCH: { TOPIC: wire.BATCH_TOPIC, LENGTH_PREFIX: wire.BATCH_LENGTH_PREFIX },
    SCHEMA: {
      MAX_BYTES: wire.SCHEMA_MAX_BYTES,
      REQUEST_RECEIVER_OFFSET: wire.SCHEMA_REQUEST_RECEIVER_OFFSET,
      REQUEST_PAYLOAD_BYTES: wire.SCHEMA_REQUEST_PAYLOAD_BYTES,
    },
    SEAL: {
      EXTENSION_LENGTH: wire.SEAL_EXTENSION_LENGTH,
      TAG_LENGTH: wire.TAG_LENGTH,
      KEY_ID: wire.SealOffset.KEY_ID,
      SENDER: wire.SealOffset.SENDER,
      SENDER_LENGTH: wire.SENDER_LENGTH,
      COUNTER: wire.SealOffset.COUNTER,
    },
    LIMITS: {
      MAX_MESSAGE_BYTES: wire.Limits.MAX_MESSAGE_BYTES,
      MAX_PARTIAL_MESSAGES: wire.Limits.MAX_PARTIAL_MESSAGES,
      MAX_PARTIAL_BYTES: wire.Limits.MAX_PARTIAL_BYTES,
      REASSEMBLY_TIMEOUT_MS: wire.Limits.REASSEMBLY_TIMEOUT_MS,
    },
  }
}

/** Type fingerprint → full message name, for every type of the schema's registry. */
export function messageTypes(): LuaIntegerMap {
  return new LuaIntegerMap(registry.all().map((type) => [type.fingerprint, type.typeName] as const))
}

const BANNER = `-- shoal.lua: a Wireshark (>= ${MIN_WIRESHARK.join('.')}) dissector for Shoal sensor frames over UDP.
--
-- GENERATED by tools/wireshark (pnpm build) from the wire constants of @shoal/transport and the
-- type registry of @shoal/schema, followed by tools/wireshark/src/lua/*.lua. DO NOT EDIT: change
-- those and rebuild. How to load it and set the Protobuf search path: tools/wireshark/README.md.
-- Wire format: packages/transport/WIRE.md.
`

/** The whole dissector, as written to shoal.lua. */
export function generateDissector(): string {
  const constants = [
    '-- ---------------------------------------------------------------------------------------------',
    '-- Generated constants: the wire format (W) and the schema (TYPES).',
    '-- ---------------------------------------------------------------------------------------------',
    '',
    `local MIN_WIRESHARK = ${toLua([...MIN_WIRESHARK])}`,
    '',
    `local W = ${toLua(wireConstants())}`,
    '',
    `local TYPES = ${toLua(messageTypes())}`,
  ].join('\n')
  const parts = LUA_PARTS.map((part) => readFileSync(new URL(part, LUA_DIR), 'utf8').trimEnd())
  return `${[BANNER, constants, ...parts].join('\n\n')}\n`
}

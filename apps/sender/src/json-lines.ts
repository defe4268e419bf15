/**
 * JSON lines: one frame per line, `{"topic":"imu","type":"shoal.v1.Imu","message":{...}}`, read from
 * a file or stdin and published through the schema. A bad line is reported on stderr with its
 * number and reason, counted, and skipped; the rest still goes out.
 */
import { defaultTopics, type MessageType, nowStampNs, registry, type TypeRegistry } from '@shoal/schema'
import { Limits } from '@shoal/transport'
import { type Line, readLines } from './line-reader.js'
import type { Source, SourceContext } from './source.js'

/**
 * Longest input line, bytes: room for the largest message receivers accept (64 MiB) written as
 * base64 (4/3 larger) plus the JSON around it.
 */
export const MAX_JSON_LINE_BYTES = Math.ceil((Limits.MAX_MESSAGE_BYTES * 4) / 3) + 1024 * 1024
/** Bad lines reported one by one; after that they are only counted. */
export const MAX_REPORTED_BAD_LINES = 100
/** Longest topic, bytes of UTF-8 (the wire's limit). */
const MAX_TOPIC_BYTES = 255
const KEYS = new Set(['topic', 'type', 'message'])
/**
 * Keys of shoal-recv's JSON lines that say how a frame arrived, not what it carries: accepted and
 * ignored, so `shoal-recv --full | shoal-send --input -` re-publishes what it received.
 */
const RECEIVER_KEYS = new Set(['receivedAt', 'fingerprint', 'source', 'sequence', 'hops', 'bytes'])

export interface ParsedFrame {
  readonly topic: string
  readonly type: MessageType
  /** The encoded message. */
  readonly payload: Uint8Array
}

export type ParseResult =
  | { readonly ok: true; readonly frame: ParsedFrame }
  | { readonly ok: false; readonly reason: string }

/**
 * Finds a type by its full name (`shoal.v1.Imu`) or its short name (`Imu`), in `types` (the
 * sender's: built-in and `--proto` ones). A short name two types share (`shoal.v1.Wind` and a
 * `--proto`'s `acme.v1.Wind`) picks neither: the types that share it.
 */
export function findType(
  name: string,
  types: TypeRegistry = registry,
): MessageType | readonly MessageType[] | undefined {
  const exact = types.byName(name)
  if (exact !== undefined) return exact
  const short = types.all().filter((type) => type.typeName.split('.').at(-1) === name)
  return short.length > 1 ? short : short[0]
}

/** `findType`'s answer for a short name several types share (Array.isArray keeps it readonly-blind). */
function isTypeList(found: ReturnType<typeof findType>): found is readonly MessageType[] {
  return Array.isArray(found)
}

/**
 * Parses and encodes one line, with a type of `types` (default: the built-in ones). When the type
 * has a `header` message field, `header.sourceId` and `header.stampNs` default to `sourceId` and the
 * current time if the message leaves them out.
 */
export function parseJsonLine(text: string, sourceId: string, types: TypeRegistry = registry): ParseResult {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return fail(`not JSON: ${(error as Error).message}`)
  }
  if (!isObject(value)) return fail('expected an object {"topic","type","message"}')
  const unknown = Object.keys(value).find((key) => !KEYS.has(key) && !RECEIVER_KEYS.has(key))
  if (unknown !== undefined)
    return fail(`unknown key ${JSON.stringify(unknown)}; expected topic, type, message`)

  const { topic, type: typeName, message } = value
  if (typeof topic !== 'string') return fail('"topic" must be a string')
  const topicBytes = Buffer.byteLength(topic)
  if (topicBytes === 0 || topicBytes > MAX_TOPIC_BYTES)
    return fail(`"topic" must be 1-${MAX_TOPIC_BYTES} bytes of UTF-8; it is ${topicBytes}`)

  const topicType = defaultTopics.typeFor(topic)
  let type: MessageType
  if (typeName === undefined) {
    if (topicType === undefined)
      return fail(`no "type", and topic ${JSON.stringify(topic)} has no default type; add "type"`)
    type = topicType
  } else {
    if (typeof typeName !== 'string') return fail('"type" must be a string')
    const found = findType(typeName, types)
    if (isTypeList(found))
      return fail(
        `type ${JSON.stringify(typeName)} is ambiguous: ${found.map((t) => t.typeName).join(', ')}; give the full name`,
      )
    if (found === undefined)
      return fail(
        `unknown type ${JSON.stringify(typeName)}; known: ${types
          .all()
          .map((t) => t.typeName)
          .join(', ')}`,
      )
    if (topicType !== undefined && topicType !== found)
      return fail(`topic ${JSON.stringify(topic)} carries ${topicType.typeName}, not ${found.typeName}`)
    type = found
  }

  if (!isObject(message)) return fail('"message" must be an object')
  let decoded: { header?: { sourceId?: string | null; stampNs?: unknown } | null }
  try {
    decoded = type.fromObject(message) as typeof decoded
  } catch (error) {
    return fail((error as Error).message)
  }
  // `in`: decoded messages keep unset fields on the prototype; a type without a header has none.
  if ('header' in decoded && typeof decoded.header === 'object') {
    const header = { ...(decoded.header ?? {}) }
    if (!header.sourceId) header.sourceId = sourceId
    if (isZero(header.stampNs)) header.stampNs = nowStampNs()
    decoded.header = header
  }

  let payload: Uint8Array
  try {
    payload = type.encode(decoded)
  } catch (error) {
    return fail(`cannot encode as ${type.typeName}: ${(error as Error).message}`)
  }
  if (payload.length > Limits.MAX_MESSAGE_BYTES)
    return fail(`message is ${payload.length} bytes; receivers accept at most ${Limits.MAX_MESSAGE_BYTES}`)
  return { ok: true, frame: { topic, type, payload } }
}

export interface JsonLinesOptions {
  /** `-` for stdin, or the file's name, for messages. */
  readonly name: string
  readonly input: NodeJS.ReadableStream
  readonly sourceId: string
  /** The types lines may name (built-in and `--proto` ones); default the built-in ones. */
  readonly types?: TypeRegistry
}

export function jsonLinesSource(options: JsonLinesOptions): Source {
  let lines = 0
  let badLines = 0
  return {
    kind: 'input',
    batched: true,
    describe: { input: options.name === '-' ? 'stdin' : options.name, format: 'JSON lines' },
    async run(context) {
      const where = options.name === '-' ? 'stdin' : options.name
      const report = (line: number, reason: string) => {
        badLines++
        if (badLines <= MAX_REPORTED_BAD_LINES)
          context.logger.warn({ line, reason }, `${where}:${line}: ${reason}`)
        if (badLines === MAX_REPORTED_BAD_LINES)
          context.logger.warn(`${MAX_REPORTED_BAD_LINES} bad lines reported; further ones are only counted`)
      }
      for await (const chunk of readLines(options.input, MAX_JSON_LINE_BYTES, context.signal)) {
        const sends: Promise<void>[] = []
        for (const line of chunk) {
          lines = line.number
          const sent = publishLine(line, options, context, report)
          if (sent === false) return undefined // --count reached
          if (sent !== undefined) sends.push(sent)
        }
        // Backpressure: the next chunk is read once this one's frames are with the kernel.
        await Promise.all(sends)
        if (context.signal.aborted) return undefined
      }
      return 'end of input'
    },
    summary: () => ({ lines, badLines }),
  }
}

/** Publishes one line; false when `--count` was reached, undefined when the line was skipped. */
function publishLine(
  line: Line,
  { sourceId, types }: JsonLinesOptions,
  { sink }: SourceContext,
  report: (line: number, reason: string) => void,
): Promise<void> | false | undefined {
  if (line.tooLong) {
    report(line.number, `line longer than ${MAX_JSON_LINE_BYTES} bytes`)
    return undefined
  }
  const text = decodeLine(line.bytes)
  if (!text.ok) {
    report(line.number, text.reason)
    return undefined
  }
  if (text.text.trim() === '') return undefined
  const parsed = parseJsonLine(text.text, sourceId, types)
  if (!parsed.ok) {
    report(line.number, parsed.reason)
    return undefined
  }
  const { topic, type, payload } = parsed.frame
  return sink.publishEncoded(topic, type.fingerprint, payload) ?? false
}

/** Decodes lines; never replaces a bad sequence with U+FFFD, and keeps a byte-order mark. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * A line's text, or why it is not text: input that is not valid UTF-8 is a bad line, never decoded
 * with replacement characters (which could turn two different topics into one).
 */
export function decodeLine(
  bytes: Uint8Array,
): { readonly ok: true; readonly text: string } | { readonly ok: false; readonly reason: string } {
  try {
    return { ok: true, text: utf8.decode(bytes) }
  } catch {
    const at = Math.max(0, invalidUtf8At(bytes))
    const shown = [...bytes.subarray(at, at + 4)].map((byte) => `0x${byte.toString(16).padStart(2, '0')}`)
    return { ok: false, reason: `not valid UTF-8 from byte ${at + 1} of the line (${shown.join(' ')})` }
  }
}

/**
 * Where the first sequence that is not well-formed UTF-8 starts (the Unicode standard's table 3-7:
 * no overlong forms, no surrogates, nothing past U+10FFFF, nothing cut short), or -1 when there is
 * none. Only for the message: whether a line is UTF-8 is the decoder's call.
 */
export function invalidUtf8At(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i]!
    if (lead < 0x80) {
      i++
      continue
    }
    let trailing: number
    let lo = 0x80
    let hi = 0xbf
    if (lead >= 0xc2 && lead <= 0xdf) trailing = 1
    else if (lead >= 0xe0 && lead <= 0xef) {
      trailing = 2
      if (lead === 0xe0) lo = 0xa0
      if (lead === 0xed) hi = 0x9f
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      trailing = 3
      if (lead === 0xf0) lo = 0x90
      if (lead === 0xf4) hi = 0x8f
    } else return i
    for (let k = 1; k <= trailing; k++) {
      const next = bytes[i + k]
      if (next === undefined || next < (k === 1 ? lo : 0x80) || next > (k === 1 ? hi : 0xbf)) return i
    }
    i += trailing + 1
  }
  return -1
}

function fail(reason: string): ParseResult {
  return { ok: false, reason }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isZero(stamp: unknown): boolean {
  if (stamp === undefined || stamp === null) return true
  if (typeof stamp === 'number') return stamp === 0
  if (typeof stamp === 'object' && 'isZero' in stamp && typeof stamp.isZero === 'function')
    return (stamp as { isZero(): boolean }).isZero()
  return false
}

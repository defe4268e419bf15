/**
 * The fields of a generated message type and what the generator writes from them: the .proto, a
 * sample (in `MessageType.toObject` form) and the same sample in protoc's text format.
 */
import type { NewType } from './message-type'

/** Scalar types a field may have, with a sample value as `toObject` writes it and as protoc prints it. */
const SCALARS: Readonly<Record<string, { readonly object: unknown; readonly text: string }>> = {
  double: { object: 0.5, text: '0.5' },
  float: { object: 0.5, text: '0.5' },
  int32: { object: -3, text: '-3' },
  sint32: { object: -3, text: '-3' },
  sfixed32: { object: -3, text: '-3' },
  uint32: { object: 7, text: '7' },
  fixed32: { object: 7, text: '7' },
  // 64-bit integers are strings in toObject form
  int64: { object: '-3', text: '-3' },
  sint64: { object: '-3', text: '-3' },
  sfixed64: { object: '-3', text: '-3' },
  uint64: { object: '7', text: '7' },
  fixed64: { object: '7', text: '7' },
  bool: { object: true, text: 'true' },
  string: { object: 'text', text: '"text"' },
  // 00 01 7f
  bytes: { object: 'AAF/', text: '"\\000\\001\\177"' },
}
/** Fields at most, besides the header (field numbers 2 to MAX_FIELDS + 1). */
export const MAX_FIELDS = 32
const FIELD_NAME = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/

export interface Field {
  readonly name: string
  readonly type: string
  readonly number: number
}

/** `value:double, unit:string` → fields numbered from 2 (1 is the header). */
export function parseFields(text: string): Field[] {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
  if (parts.length === 0) throw new Error('at least one field, e.g. value:double')
  if (parts.length > MAX_FIELDS) throw new Error(`at most ${MAX_FIELDS} fields`)
  const seen = new Set<string>(['header'])
  return parts.map((part, i) => {
    const [name = '', type = ''] = part.split(':').map((s) => s.trim())
    if (!FIELD_NAME.test(name))
      throw new Error(`field ${JSON.stringify(name)}: a snake_case name like celsius or frame_rate`)
    if (!(type in SCALARS))
      throw new Error(
        `field ${name}: type ${JSON.stringify(type)} is not one of ${Object.keys(SCALARS).join(', ')}`,
      )
    if (seen.has(name)) throw new Error(`field ${name} twice`)
    seen.add(name)
    return { name, type, number: i + 2 }
  })
}

const camelOf = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())

export function protoFile({ name, comment, fields }: NewType): string {
  const body = fields
    .map(
      (f) =>
        `  // ${f.name}: what it measures, in which unit (write it here: the .proto is the documentation).\n  ${f.type} ${f.name} = ${f.number};`,
    )
    .join('\n')
  return `syntax = "proto3";\n\npackage shoal.v1;\n\nimport "shoal/v1/header.proto";\n\n// ${comment}\nmessage ${name} {\n  Header header = 1;\n\n${body}\n}\n`
}

export function sampleObject({ name, snake, fields }: NewType): string {
  const values = fields.map(
    (f) => `${camelOf(f.name)}: ${JSON.stringify(SCALARS[f.type]?.object).replace(/"/g, "'")}`,
  )
  return `{ type: ${name}, object: { header: header('${snake}0'), ${values.join(', ')} } }`
}

export function fieldSamples(fields: readonly Field[]): string {
  return fields.map((f) => `${f.name}: ${SCALARS[f.type]?.text}`).join(', ')
}

export function textFormat({ name, snake, fields }: NewType): string {
  const lines = fields.map((f) => `${f.name}: ${SCALARS[f.type]?.text}`)
  return `# proto-file: shoal/v1/${snake}.proto\n# proto-message: shoal.v1.${name}\n# The sample of test/fixtures/samples.ts in protoc's text format, as \`protoc --decode\` prints it.\nheader {\n  source_id: "${snake}0"\n  stamp_ns: 1700000000123456789\n}\n${lines.join('\n')}\n`
}

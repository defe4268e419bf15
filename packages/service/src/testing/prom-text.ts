/**
 * A strict parser for the Prometheus text exposition format 0.0.4, for tests: every line must be a
 * `# HELP`, a `# TYPE`, a comment, blank, or a well-formed sample, or it throws naming the line.
 */

export type PromType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'

export interface PromSample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
  readonly timestamp?: number
}

export interface PromFamily {
  readonly name: string
  readonly help?: string
  readonly type: PromType
  readonly samples: PromSample[]
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const HELP = new RegExp(`^# HELP (${NAME}) (.*)$`)
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`)
const SAMPLE = new RegExp(`^(${NAME})(\\{.*\\})? (\\S+)(?: (-?\\d+))?$`)
/**
 * A sample value as Prometheus reads it (Go's `strconv.ParseFloat`): a decimal float, or NaN and
 * infinities in any letter case (`NaN`, `Nan`, `+Inf`, `inf`, `-Infinity`). prom-client writes
 * `Nan` for a gauge whose value is NaN, and Prometheus scrapes it, so a test must too.
 */
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf(?:inity)?|nan)$/i
const INFINITY = /^[+]?inf(?:inity)?$/i
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created']

function valueValue(text: string): number {
  if (/^nan$/i.test(text)) return Number.NaN
  if (INFINITY.test(text)) return Number.POSITIVE_INFINITY
  if (text[0] === '-' && INFINITY.test(text.slice(1))) return Number.NEGATIVE_INFINITY
  return Number(text)
}

export function parsePrometheusText(text: string): Map<string, PromFamily> {
  const families = new Map<string, { name: string; help?: string; type: PromType; samples: PromSample[] }>()
  const family = (name: string) => {
    let found = families.get(name)
    if (found === undefined) {
      found = { name, type: 'untyped', samples: [] }
      families.set(name, found)
    }
    return found
  }
  if (text !== '' && !text.endsWith('\n')) throw new Error('exposition does not end with a newline')
  const lines = text.split('\n').slice(0, -1)
  lines.forEach((line, index) => {
    const where = `line ${index + 1} ${JSON.stringify(line)}`
    if (line === '') return
    const help = HELP.exec(line)
    if (help) {
      family(help[1]!).help = help[2]!
      return
    }
    const type = TYPE.exec(line)
    if (type) {
      const found = family(type[1]!)
      if (found.samples.length > 0) throw new Error(`${where}: TYPE after samples`)
      found.type = type[2] as PromType
      return
    }
    if (line.startsWith('# HELP') || line.startsWith('# TYPE'))
      throw new Error(`${where}: malformed metadata`)
    if (line.startsWith('#')) return
    const sample = SAMPLE.exec(line)
    if (!sample) throw new Error(`${where}: not a sample`)
    const [, name, labelText, valueText, timestamp] = sample
    if (!VALUE.test(valueText!)) throw new Error(`${where}: bad value ${valueText}`)
    const base = SUFFIXES.map((suffix) =>
      name!.endsWith(suffix) ? name!.slice(0, -suffix.length) : undefined,
    ).find((candidate) => candidate !== undefined && families.has(candidate))
    family(families.has(name!) ? name! : (base ?? name!)).samples.push({
      name: name!,
      labels: labelText === undefined ? {} : parseLabels(labelText, where),
      value: valueValue(valueText!),
      ...(timestamp === undefined ? {} : { timestamp: Number(timestamp) }),
    })
  })
  return families
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {}
  let i = 1
  const end = text.length - 1
  while (i < end) {
    const eq = text.indexOf('=', i)
    if (eq === -1) throw new Error(`${where}: label without '='`)
    const name = text.slice(i, eq)
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name ${JSON.stringify(name)}`)
    if (text[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`)
    let value = ''
    let j = eq + 2
    for (; j < end; j++) {
      const c = text[j]!
      if (c === '"') break
      if (c === '\\') {
        const next = text[++j]
        if (next === 'n') value += '\n'
        else if (next === '\\' || next === '"') value += next
        else throw new Error(`${where}: bad escape \\${next ?? ''}`)
      } else value += c
    }
    if (text[j] !== '"') throw new Error(`${where}: unterminated label value`)
    if (name in labels) throw new Error(`${where}: duplicate label ${name}`)
    labels[name] = value
    i = j + 1
    if (text[i] === ',') i++
    else if (i !== end) throw new Error(`${where}: expected ',' or '}' after label ${name}`)
  }
  return labels
}

/** The value of the one sample of `name` whose labels include `labels`; throws if not exactly one. */
export function sampleValue(
  families: ReadonlyMap<string, PromFamily>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  const matches = [...families.values()]
    .flatMap((family) => family.samples)
    .filter(
      (sample) => sample.name === name && Object.entries(labels).every(([k, v]) => sample.labels[k] === v),
    )
  if (matches.length !== 1) {
    throw new Error(`expected one sample ${name}${JSON.stringify(labels)}, found ${matches.length}`)
  }
  return matches[0]!.value
}

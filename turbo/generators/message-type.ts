/**
 * `pnpm turbo gen message-type` (or `--args NAME`): a new frame message type in @shoal/schema, every
 * place at once — the .proto under proto/shoal/v1, the handle and the registry entry
 * (src/shoal-types.ts, src/index.ts), a default topic (src/topics.ts), and the tests that list
 * types (a sample and its protoc text format, the topics list, the pinned fingerprint) — then
 * builds the schema, so that `pnpm build` is all that is left (see packages/schema/README.md).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { PlopTypes } from '@turbo/gen'
import { firstPrompt, list } from './bypass'
import { type Field, fieldSamples, parseFields, protoFile, sampleObject, textFormat } from './message-fields'

/** A message name: PascalCase, as protobuf style has it. */
export const MESSAGE_NAME = /^[A-Z][a-z0-9]+([A-Z][a-z0-9]*)*$/
export const MAX_MESSAGE_NAME = 48
const DEFAULTS = { fields: 'value:double', comment: '' }

interface MessageAnswers {
  name: string
  comment: string
  fields: string
  topic: string
}

/** `LidarScan` → `lidar_scan`: the file name rule of the schema's tests (protoc-interop.test.ts). */
export const snakeOf = (name: string) => name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()

export function registerMessageTypeGenerator(plop: PlopTypes.NodePlopAPI): void {
  const root = plop.getDestBasePath()
  const schema = join(root, 'packages/schema')
  const later: PlopTypes.PromptQuestion[] = [
    { type: 'input', name: 'comment', message: 'What one message holds (a comment for the .proto)' },
    {
      type: 'input',
      name: 'fields',
      message: 'Fields after `Header header = 1`, as name:type, comma-separated (scalar types)',
      default: DEFAULTS.fields,
      validate: (value: string) => check(() => parseFields(value)),
    },
    {
      type: 'input',
      name: 'topic',
      message: 'Its default topic (empty: none; the default is the snake_case name)',
    },
  ]
  plop.setGenerator('message-type', {
    description: 'A new frame message type in @shoal/schema: .proto, registry, topic, tests',
    prompts: [
      firstPrompt(
        {
          type: 'input',
          name: 'name',
          message: 'Message name (PascalCase, e.g. LidarScan)',
          validate: (value: string) => checkName(schema, value),
        },
        later,
      ),
      ...later,
    ],
    actions: (raw) => {
      const answers = raw as Partial<MessageAnswers>
      const name = String(answers.name ?? '')
      const valid = checkName(schema, name)
      if (valid !== true) throw new Error(`message name ${JSON.stringify(name)}: ${valid}`)
      const snake = snakeOf(name)
      const fields = parseFields(String(answers.fields ?? DEFAULTS.fields))
      const topic = answers.topic === undefined ? snake : list(answers.topic)[0]
      const comment = String(answers.comment ?? '').trim() || `One ${name} reading.`
      const type = { name, snake, fields, topic, comment }
      return [
        () => write(schema, `proto/shoal/v1/${snake}.proto`, protoFile(type)),
        () => write(schema, `test/fixtures/${snake}.txtpb`, textFormat(type)),
        () => registerType(schema, type),
        () => addSample(schema, type),
        ...(topic === undefined ? [] : [() => addTopic(schema, name, topic)]),
        () => write(root, `.changeset/${snake}-message-type.md`, changeset(type)),
        () => pinFingerprint(root, schema, name),
        () => format(root, schema),
      ]
    },
  })
}

export interface NewType {
  readonly name: string
  readonly snake: string
  readonly fields: readonly Field[]
  readonly topic: string | undefined
  readonly comment: string
}

function check(run: () => unknown): true | string {
  try {
    run()
    return true
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}

function checkName(schema: string, name: string): true | string {
  if (!MESSAGE_NAME.test(name) || name.length > MAX_MESSAGE_NAME)
    return `a PascalCase name like LidarScan (letters and digits, at most ${MAX_MESSAGE_NAME})`
  if (existsSync(join(schema, `proto/shoal/v1/${snakeOf(name)}.proto`)))
    return `proto/shoal/v1/${snakeOf(name)}.proto exists already`
  const declared = readdirSync(join(schema, 'proto/shoal/v1')).some((file) =>
    new RegExp(`^\\s*(message|enum)\\s+${name}\\s*\\{`, 'm').test(
      readFileSync(join(schema, 'proto/shoal/v1', file), 'utf8'),
    ),
  )
  return declared ? `shoal.v1.${name} is declared already` : true
}

function write(base: string, path: string, text: string): string {
  writeFileSync(join(base, path), text, { flag: 'wx' })
  return `${path} (add)`
}

/** Replaces `search` in a file, failing (not silently doing nothing) when it is not there. */
function edit(base: string, path: string, search: string | RegExp, replace: (match: string) => string): void {
  const file = join(base, path)
  const text = readFileSync(file, 'utf8')
  const match =
    typeof search === 'string' ? (text.includes(search) ? search : undefined) : search.exec(text)?.[0]
  if (match === undefined)
    throw new Error(`${path}: ${String(search)} not found; has the file changed shape?`)
  writeFileSync(file, text.replace(match, replace(match)))
}

/** The handle and the registry entry (src/shoal-types.ts) and the export (src/index.ts). */
/** `{ A, B, }` (one line or several, a trailing comma or not) → `{ A, B, name }`; the formatter sorts. */
function withName(braced: string, name: string): string {
  return braced.replace(/\{([^}]*)\}/, (_, inner: string) => {
    const names = inner
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
    return `{ ${[...names, name].join(', ')} }`
  })
}

/** Inserts `text` before the first `closing` after `anchor` (a list in a test, say). */
function insertBefore(base: string, path: string, anchor: string, closing: string, text: string): void {
  const file = join(base, path)
  const source = readFileSync(file, 'utf8')
  const start = source.indexOf(anchor)
  const end = start < 0 ? -1 : source.indexOf(closing, start)
  if (end < 0)
    throw new Error(`${path}: ${anchor} … ${closing.trim()} not found; has the file changed shape?`)
  writeFileSync(file, `${source.slice(0, end).replace(/,?$/, ',')}${text}${source.slice(end)}`)
}

function registerType(schema: string, { name, comment }: NewType): string {
  edit(
    schema,
    'src/shoal-types.ts',
    '\n/** The frame message types by short name',
    (m) =>
      `/** \`shoal.v1.${name}\`: ${comment.replace(/\*\//g, '')} */\nexport const ${name}: MessageType<shoal.v1.${name}.$Properties> = define(shoal.v1.${name})\n${m}`,
  )
  edit(schema, 'src/shoal-types.ts', /export const types = Object\.freeze\(\{[^}]*\}/, (m) =>
    withName(m, name),
  )
  edit(schema, 'src/index.ts', /export \{([^}]*)\} from '\.\/shoal-types\.js'/, (m) => withName(m, name))
  return `src/shoal-types.ts, src/index.ts: shoal.v1.${name} registered`
}

function addSample(schema: string, type: NewType): string {
  edit(schema, 'test/fixtures/samples.ts', /import \{([^}]*)\} from '\.\.\/\.\.\/src\/index\.js'/, (m) =>
    withName(m, type.name),
  )
  edit(schema, 'test/fixtures/samples.ts', /\n\]\s*$/, (m) => `\n  ${sampleObject(type)},${m}`)
  return `test/fixtures/samples.ts: a ${type.name} sample (${fieldSamples(type.fields)})`
}

/** The default topic (src/topics.ts) and the test that lists them (src/topics.test.ts). */
function addTopic(schema: string, name: string, topic: string): string {
  edit(schema, 'src/topics.ts', /(export const DEFAULT_TOPICS[^{]*\{[^}]*?),?\n\}\)/, (m) =>
    m.replace(/,?\n\}\)$/, `,\n  '${topic}': 'shoal.v1.${name}',\n})`),
  )
  edit(schema, 'src/topics.test.ts', /import \{([^}]*)\} from '\.\/shoal-types\.js'/, (m) =>
    withName(m, name),
  )
  insertBefore(
    schema,
    'src/topics.test.ts',
    'expect(defaultTopics.entries()).toEqual([',
    '\n    ])',
    `\n      ['${topic}', ${name}],`,
  )
  edit(schema, 'src/topics.test.ts', /expect\(defaultTopics\.entries\(\)\)\.toHaveLength\((\d+)\)/, (m) =>
    m.replace(/\d+/, (n) => String(Number(n) + 1)),
  )
  return `src/topics.ts, src/topics.test.ts: topic ${topic} → shoal.v1.${name}`
}

/**
 * The fingerprint test pins every registered type's fingerprint: build the schema (generate:
 * src/gen from the new .proto), read the new type's, and pin it.
 */
function pinFingerprint(root: string, schema: string, name: string): string {
  execFileSync('pnpm', ['turbo', 'run', 'build', '--filter=@shoal/schema', '--output-logs=errors-only'], {
    cwd: root,
    stdio: 'inherit',
  })
  const script = `const { registry, formatFingerprint } = await import('./dist/index.js'); const t = registry.byName('shoal.v1.${name}'); if (!t) throw new Error('shoal.v1.${name} not registered'); console.log(formatFingerprint(t.fingerprint))`
  const fingerprint = execFileSync('node', ['--input-type=module', '-e', script], { cwd: schema })
    .toString()
    .trim()
  edit(schema, 'src/fingerprint.test.ts', /(expect\(pinned\)\.toEqual\(\{[^}]*?),?(\s*\}\))/, (m) =>
    m.replace(/,?(\s*\}\))$/, `,\n      'shoal.v1.${name}': '${fingerprint}',$1`),
  )
  return `src/fingerprint.test.ts: shoal.v1.${name} pinned at ${fingerprint}`
}

function changeset({ name, topic }: NewType): string {
  return `---\n"@shoal/schema": minor\n---\n\nA new frame message type, \`shoal.v1.${name}\` (\`${name}\`)${topic === undefined ? '' : `, on the default topic \`${topic}\``}, generated by \`pnpm turbo gen message-type\`. Existing fingerprints do not change; receivers built before it drop it as \`unknown-type\` until rebuilt.\n`
}

/** The project's formatter over what was written, so it lints clean. */
function format(root: string, schema: string): string {
  const touched = ['src', 'test'].map((d) => join(schema, d))
  execFileSync('pnpm', ['exec', 'biome', 'check', '--write', ...touched, join(root, '.changeset')], {
    cwd: root,
    stdio: 'inherit',
  })
  return 'formatted packages/schema/src, test and .changeset'
}

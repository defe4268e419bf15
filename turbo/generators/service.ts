/**
 * `pnpm turbo gen service`: apps/NAME, package @shoal/NAME, bin shoal-NAME, in the shape of the
 * other services (see templates/service/ and apps/NAME/README.md once generated).
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { PlopTypes } from '@turbo/gen'
import { camel, firstPrompt, list, pascal, snake } from './bypass'

/** Names: lower-case words joined by `-`, short enough for a systemd unit and a metric name. */
export const SERVICE_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/
export const MAX_SERVICE_NAME = 32
const DEFAULTS = { subscribes: '*', publishes: '', finish: true }

interface ServiceAnswers {
  name: string
  description: string
  subscribes: string
  publishes: string
  finish: boolean
}

export function registerServiceGenerator(plop: PlopTypes.NodePlopAPI): void {
  const root = plop.getDestBasePath()
  const later: PlopTypes.PromptQuestion[] = [
    { type: 'input', name: 'description', message: 'What does it do (one line)?' },
    {
      type: 'input',
      name: 'subscribes',
      message: "Topics it subscribes to (comma-separated; exact, prefix like sensors/*, or '*')",
      default: DEFAULTS.subscribes,
    },
    {
      type: 'input',
      name: 'publishes',
      message: 'Topic it publishes on (empty: each frame keeps its own topic)',
      default: DEFAULTS.publishes,
    },
    {
      type: 'confirm',
      name: 'finish',
      message: 'Run pnpm install and write the README flag table now?',
      default: DEFAULTS.finish,
    },
  ]
  plop.setGenerator('service', {
    description:
      'A new Shoal service in apps/NAME: flags, /metrics, a subscription and a publication, tests, deploy files',
    prompts: [
      firstPrompt(
        {
          type: 'input',
          name: 'name',
          message: 'Service name (apps/NAME, @shoal/NAME, shoal-NAME)',
          validate: (value: string) => checkName(root, value),
        },
        later,
      ),
      ...later,
    ],
    actions: (raw) => {
      const data = serviceData(root, raw as Partial<ServiceAnswers>)
      const base = join(__dirname, 'templates/service')
      const dest = `apps/${data.name}`
      const files: Array<[string, string]> = [
        ['package.json.hbs', 'package.json'],
        ['tsconfig.json.hbs', 'tsconfig.json'],
        ['vitest.config.ts.hbs', 'vitest.config.ts'],
        ['README.md.hbs', 'README.md'],
        ['Dockerfile.hbs', 'Dockerfile'],
        ['Dockerfile.dockerignore.hbs', 'Dockerfile.dockerignore'],
        ['deploy/service.hbs', `deploy/${data.bin}.service`],
        ['deploy/config.yaml.hbs', `deploy/${data.name}.yaml`],
        ...[
          'main',
          'config',
          'config.test',
          'handler',
          'handler.test',
          'pipeline',
          'metrics',
          'app',
          'doctor',
          'doctor.test',
        ].map((f): [string, string] => [`src/${f}.ts.hbs`, `src/${f}.ts`]),
        ...['loopback', 'cli', 'deploy', 'readme'].map((f): [string, string] => [
          `test/${f}.test.ts.hbs`,
          `test/${f}.test.ts`,
        ]),
      ]
      const actions: PlopTypes.ActionType[] = files.map(([from, to]) => ({
        type: 'add',
        path: `${root}/${dest}/${to}`,
        templateFile: `${base}/${from}`,
        data,
        abortOnFail: true,
      }))
      // bin/shoal-NAME, the command its README calls (the root README puts bin/ on PATH).
      const shim = `${root}/bin/${data.bin}`
      actions.push({ type: 'add', path: shim, templateFile: `${base}/bin.hbs`, data, abortOnFail: true })
      actions.push(() => {
        chmodSync(shim, 0o755)
        return `bin/${data.bin}: executable`
      })
      actions.push({
        type: 'add',
        path: `${root}/.changeset/${data.name}-service.md`,
        templateFile: `${base}/changeset.md.hbs`,
        data,
        abortOnFail: true,
      })
      // The project's formatter and safe fixes (import order follows the name), so it lints clean.
      actions.push(() => format(root, [dest, `.changeset/${data.name}-service.md`]))
      if (data.finish) actions.push(() => finish(root, data.packageName))
      else
        actions.push(() => `next: pnpm install && pnpm build && pnpm --filter ${data.packageName} run docs`)
      return actions
    },
  })
}

function checkName(root: string, value: string): true | string {
  if (!SERVICE_NAME.test(value) || value.length > MAX_SERVICE_NAME)
    return `a name like throttle or frame-counter: lower-case letters, digits and single dashes, at most ${MAX_SERVICE_NAME} characters`
  if (existsSync(join(root, 'apps', value))) return `apps/${value} exists already`
  return true
}

/** Every value the templates use, from the answers (the defaults for those not given). */
export function serviceData(root: string, answers: Partial<ServiceAnswers>) {
  const name = String(answers.name ?? '')
  const valid = checkName(root, name)
  if (valid !== true) throw new Error(`service name ${JSON.stringify(name)}: ${valid}`)
  const topics = list(answers.subscribes ?? DEFAULTS.subscribes)
  const outTopic = String(answers.publishes ?? DEFAULTS.publishes).trim()
  const bin = `shoal-${name}`
  const description =
    String(answers.description ?? '').trim() || `Subscribes to Shoal frames and republishes them (${bin})`
  return {
    name,
    packageName: `@shoal/${name}`,
    bin,
    camel: camel(name),
    pascal: pascal(name),
    snake: snake(name),
    title: pascal(name),
    // Goes into a TS string, JSON and a unit file: one line, no quotes or backslashes to escape.
    description: description
      .replace(/['"`\\]/g, '')
      .replace(/\s+/g, ' ')
      .replace(/\.$/, ''),
    topicList: (topics.length > 0 ? topics : ['*']).map((t) => `'${t.replace(/'/g, '')}'`).join(', '),
    topicText: (topics.length > 0 ? topics : ['*']).map((t) => `\`${t}\``).join(', '),
    outTopic,
    outTopicLiteral: outTopic === '' ? 'undefined' : `'${outTopic.replace(/'/g, '')}'`,
    turboVersion: turboVersion(root),
    finish: answers.finish ?? DEFAULTS.finish,
  }
}

/** The workspace's turbo (the catalog pins it), for the Dockerfile's `turbo prune`. */
function turboVersion(root: string): string {
  const workspace = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')
  const version = /^ {2}turbo: \^?~?(\S+)$/m.exec(workspace)?.[1]
  if (version === undefined) throw new Error('pnpm-workspace.yaml: no turbo in the catalog')
  return version
}

function format(root: string, paths: string[]): string {
  execFileSync('pnpm', ['exec', 'biome', 'check', '--write', ...paths], { cwd: root, stdio: 'inherit' })
  return `formatted ${paths.join(', ')}`
}

/**
 * Links the new package into the workspace and writes its README flag table from its flag table
 * (the docs script), so that it builds and passes its tests as generated.
 */
function finish(root: string, pkg: string): string {
  const run = (args: string[]) => execFileSync('pnpm', args, { cwd: root, stdio: 'inherit' })
  // A new package changes the lockfile; pnpm freezes it by default under CI=true.
  run(['install', '--prefer-offline', '--no-frozen-lockfile'])
  run(['turbo', 'run', 'build', `--filter=${pkg}^...`, '--output-logs=errors-only'])
  run(['--filter', pkg, 'run', 'docs'])
  return `${pkg}: installed, flag table written; next: pnpm --filter ${pkg} build && pnpm --filter ${pkg} test`
}

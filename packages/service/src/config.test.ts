import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { commonFlags, modeFlags } from './common-flags.js'
import { parseConfig } from './config.js'
import { ConfigError } from './errors.js'
import { defineFlags, flag } from './flags.js'
import { duration, identifier, multicastGroup, size, topicFilter } from './validators.js'

const flags = defineFlags({
  group: flag.list(multicastGroup(), { placeholder: 'address', default: ['239.255.0.1'], help: 'Groups' }),
  topic: flag.list(topicFilter(), { placeholder: 'filter', help: 'Topics' }),
  route: flag.list(identifier(), { placeholder: 'route', separator: /\s+/, help: 'Routes' }),
  'ack-timeout': flag.value(duration(), { placeholder: 'duration', default: '1s', help: 'Ack timeout' }),
  budget: flag.value(size({ min: 64, max: 65507 }), {
    placeholder: 'bytes',
    default: '1400',
    help: 'Budget',
  }),
  ack: flag.boolean({ help: 'Ack' }),
  name: flag.value(identifier(), { placeholder: 'name', help: 'Name' }),
  ...modeFlags,
  ...commonFlags,
})

const dir = mkdtempSync(join(tmpdir(), 'shoal-service-config-'))
const file = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function run(argv: readonly string[], env: Record<string, string> = {}) {
  const outcome = parseConfig(flags, { argv, env, cwd: dir })
  if (outcome.action !== 'run') throw new Error(`expected run, got ${outcome.action}`)
  return outcome
}

function configError(argv: readonly string[], env: Record<string, string> = {}): ConfigError {
  try {
    parseConfig(flags, { argv, env, cwd: dir })
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error(`no ConfigError for ${argv.join(' ')}`)
}

describe('parseConfig defaults and argv', () => {
  it('gives every flag its default when nothing is set', () => {
    const { values, sources } = run([])
    expect(values.group).toEqual(['239.255.0.1'])
    expect(values.topic).toEqual([])
    expect(values.ackTimeout).toBe(1000)
    expect(values.budget).toBe(1400)
    expect(values.ack).toBe(false)
    expect(values.name).toBeUndefined()
    expect(values.port).toBe(7400)
    expect(values.ttl).toBe(1)
    expect(values.mode).toBe('multicast')
    expect(values.logLevel).toBe('info')
    expect(values.http).toBeUndefined()
    expect(values.httpHost).toBe('127.0.0.1')
    expect(values.interface.addresses.some((a) => a.address === '127.0.0.1')).toBe(true)
    expect(sources.port).toBe('default')
  })

  it('reads --flag value, --flag=value, booleans and repeated lists', () => {
    const { values, sources } = run([
      '--port',
      '7500',
      '--ttl=4',
      '--ack',
      '--group',
      '239.1.1.1',
      '--group=239.1.1.2,ff15::1',
      '--topic',
      'sensors/*',
      '--ack-timeout',
      '250ms',
      '--budget',
      '32KiB',
      '--interface',
      'lo',
    ])
    expect(values.port).toBe(7500)
    expect(values.ttl).toBe(4)
    expect(values.ack).toBe(true)
    expect(values.group).toEqual(['239.1.1.1', '239.1.1.2', 'ff15::1'])
    expect(values.topic).toEqual(['sensors/*'])
    expect(values.ackTimeout).toBe(250)
    expect(values.budget).toBe(32768)
    expect(values.interface.name).toBe('lo')
    expect(sources.port).toBe('argv')
  })

  it('takes the last value of a repeated value flag and --no-<flag> for booleans', () => {
    expect(run(['--port', '1', '--port', '2']).values.port).toBe(2)
    expect(run(['--ack', '--no-ack']).values.ack).toBe(false)
    expect(run(['--ack=false']).values.ack).toBe(false)
    expect(run(['--ack=yes']).values.ack).toBe(true)
  })

  it('answers help and version before validating anything else', () => {
    expect(parseConfig(flags, { argv: ['--port', '70000', '--help'] }).action).toBe('help')
    expect(parseConfig(flags, { argv: ['-h'] }).action).toBe('help')
    expect(parseConfig(flags, { argv: ['--bogus', '--version'] }).action).toBe('version')
  })

  it('splits a list on its own separator', () => {
    expect(run(['--route', 'a b', '--route', 'c']).values.route).toEqual(['a', 'b', 'c'])
    expect(run([], { SHOAL_ROUTE: 'a  b' }).values.route).toEqual(['a', 'b'])
  })
})

describe('parseConfig errors', () => {
  it.each([
    [['--group', '10.0.0.1'], '--group', 'invalid --group 10.0.0.1: not a multicast address'],
    [['--port', '70000'], '--port', 'invalid --port 70000: expected an integer 1-65535'],
    [['--port', 'abc'], '--port', 'invalid --port abc: expected an integer 1-65535'],
    [['--ttl', '300'], '--ttl', 'invalid --ttl 300: expected an integer 0-255'],
    [
      ['--interface', 'nosuch0'],
      '--interface',
      'invalid --interface nosuch0: no such interface on this host',
    ],
    [
      ['--mode', 'anycast'],
      '--mode',
      'invalid --mode anycast: expected one of multicast, broadcast, unicast',
    ],
    [
      ['--log-level', 'loud'],
      '--log-level',
      'expected one of fatal, error, warn, info, debug, trace, silent',
    ],
    [['--ack-timeout', '2 weeks'], '--ack-timeout', 'invalid --ack-timeout "2 weeks": expected a duration'],
    [['--budget', '1MiB'], '--budget', 'invalid --budget 1MiB: expected 64B to 65507B'],
    [['--topic', 'a/*/b'], '--topic', 'expected a topic like sensors/imu'],
    [['--ack=maybe'], '--ack', 'invalid --ack maybe: expected true or false'],
    [['--port'], '--port', '--port needs a value'],
    [['--port', '--ttl', '3'], '--port', '--port needs a value'],
    [['--bogus'], '--bogus', 'unknown flag --bogus'],
    [['--prot', '7400'], '--prot', 'unknown flag --prot; did you mean --port?'],
    [['-p', '7400'], '-p', 'unknown flag -p'],
    [['--no-port'], '--no-port', 'unknown flag --no-port'],
    [['--config', '/nonexistent.json'], '--config', 'cannot read --config /nonexistent.json: no such file'],
    [
      ['--config', 'settings.toml'],
      '--config',
      'invalid --config settings.toml: expected a .json, .yaml or .yml file',
    ],
  ])('%j fails naming %s', (argv, flagName, message) => {
    const error = configError(argv)
    expect(error.flag).toBe(flagName)
    expect(error.message).toContain(message)
    expect(error.exitCode).toBe(2)
  })

  it('rejects positional arguments', () => {
    expect(configError(['extra']).code).toBe('SHOAL_CONFIG_UNEXPECTED_ARGUMENT')
    expect(configError(['--', 'extra']).code).toBe('SHOAL_CONFIG_UNEXPECTED_ARGUMENT')
  })

  it('names the environment variable a bad value came from', () => {
    expect(configError([], { SHOAL_PORT: '0' }).message).toBe(
      'invalid --port 0 (from SHOAL_PORT): expected an integer 1-65535',
    )
  })
})

describe('precedence: flags > env > file > defaults', () => {
  const yaml = file(
    'settings.yaml',
    'port: 7600\nttl: 3\nlog-level: debug\ngroup:\n  - 239.2.2.2\n  - 239.2.2.3\nack: true\n',
  )

  it('reads a YAML file over the defaults', () => {
    const { values, sources, configFile } = run(['--config', yaml])
    expect(configFile).toBe(yaml)
    expect(values.port).toBe(7600)
    expect(values.ttl).toBe(3)
    expect(values.logLevel).toBe('debug')
    expect(values.group).toEqual(['239.2.2.2', '239.2.2.3'])
    expect(values.ack).toBe(true)
    expect(sources.port).toBe('file')
  })

  it('lets the environment override the file and flags override both', () => {
    const { values, sources } = run(['--config', yaml, '--ttl', '5'], { SHOAL_PORT: '7700', SHOAL_TTL: '6' })
    expect(values.port).toBe(7700)
    expect(sources.port).toBe('env')
    expect(values.ttl).toBe(5)
    expect(sources.ttl).toBe('argv')
    expect(values.logLevel).toBe('debug')
  })

  it('replaces a whole list from the higher source rather than merging', () => {
    expect(run(['--config', yaml], { SHOAL_GROUP: '239.9.9.9' }).values.group).toEqual(['239.9.9.9'])
  })

  it('takes the config path from SHOAL_CONFIG, relative to cwd', () => {
    expect(run([], { SHOAL_CONFIG: 'settings.yaml' }).values.port).toBe(7600)
  })

  it('treats an empty environment variable as unset', () => {
    expect(run([], { SHOAL_PORT: '' }).values.port).toBe(7400)
  })

  it('reads JSON with camelCase or flag-style keys', () => {
    const json = file('settings.json', JSON.stringify({ logLevel: 'warn', 'ack-timeout': '3s', http: 0 }))
    const { values } = run(['--config', json])
    expect(values.logLevel).toBe('warn')
    expect(values.ackTimeout).toBe(3000)
    expect(values.http).toBe(0)
  })

  it('accepts an empty file', () => {
    expect(run(['--config', file('empty.yml', '')]).values.port).toBe(7400)
  })

  it.each([
    ['bad.json', '{"port": ', 'not valid JSON'],
    ['bad.yaml', 'port: [1,\n', 'not valid YAML'],
    ['list.yaml', '- 1\n- 2\n', 'expected a mapping'],
    ['unknown.yaml', 'prot: 1\n', 'unknown option "prot"; did you mean port?'],
    ['nested.yaml', 'port:\n  a: 1\n', 'option port: expected a string'],
    ['self.yaml', 'config: other.yaml\n', 'cannot name another config file'],
    ['twice.json', '{"log-level":"info","logLevel":"warn"}', 'set twice'],
  ])('%s fails naming --config and the path', (name, text, reason) => {
    const path = file(name, text)
    const error = configError(['--config', path])
    expect(error.flag).toBe('--config')
    expect(error.code).toBe('SHOAL_CONFIG_FILE')
    expect(error.message).toContain(`--config ${path}`)
    expect(error.message).toContain(reason)
  })

  it('names the file a bad value came from', () => {
    const path = file('badport.yaml', 'port: 70000\n')
    expect(configError(['--config', path]).message).toBe(
      `invalid --port 70000 (from ${path}): expected an integer 1-65535`,
    )
  })

  it('rejects a list for a single-valued flag', () => {
    const path = file('portlist.yaml', 'port: [1, 2]\n')
    expect(configError(['--config', path]).message).toContain('expected one value, not a list')
  })
})

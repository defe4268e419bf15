import { describe, expect, it } from 'vitest'
import { commonFlags } from './common-flags.js'
import { defineFlags, flag } from './flags.js'
import { renderFlagsMarkdown, renderHelp } from './help.js'
import { multicastGroup, text } from './validators.js'

const flags = defineFlags({
  group: flag.list(multicastGroup(), {
    placeholder: 'address',
    default: ['239.255.0.1'],
    help: 'Groups to join',
  }),
  name: flag.value(text(), {
    placeholder: 'name',
    default: () => 'computed',
    defaultText: 'the host name',
    help: 'Name | with a pipe',
  }),
  secret: flag.value(text(), { placeholder: 'token', env: false, help: 'Not from the environment' }),
  ack: flag.boolean({ help: 'Acknowledge' }),
  ...commonFlags,
})

describe('renderHelp', () => {
  const help = renderHelp({ name: 'shoal-test', description: 'Tests help.', flags })

  it('starts with usage and the description', () => {
    expect(help.split('\n').slice(0, 3)).toEqual(['Usage: shoal-test [options]', '', 'Tests help.'])
  })

  it('lists every flag with its placeholder, default and environment variable', () => {
    for (const name of Object.keys(flags)) expect(help).toMatch(new RegExp(`^  --${name}\\b`, 'm'))
    expect(help).toMatch(
      /^ {2}--group <address>\.\.\. +Groups to join\n +\(default 239\.255\.0\.1; repeatable; env SHOAL_GROUP\)$/m,
    )
    expect(help).toMatch(
      /^ {2}--port <port> +UDP port of the data stream\n +\(default 7400; env SHOAL_PORT\)$/m,
    )
    expect(help).toMatch(
      /^ {2}--name <name> +Name \| with a pipe\n +\(default the host name; env SHOAL_NAME\)$/m,
    )
    expect(help).toMatch(/^ {2}--ack +Acknowledge\n +\(env SHOAL_ACK\)$/m)
    expect(help).toMatch(/^ {2}--http-host <address> .*\n +\(default 127\.0\.0\.1; env SHOAL_HTTP_HOST\)$/m)
    expect(help).not.toContain('SHOAL_SECRET')
    expect(help).toMatch(/^ {2}--help, -h +Show this help and exit$/m)
    expect(help).toMatch(/^ {2}--version +Print the version and exit$/m)
  })

  it('aligns descriptions in one column', () => {
    const starts = help
      .split('\n')
      .filter((line) => line.startsWith('  --'))
      .map((line) => line.search(/ {2}[A-Z]/))
    expect(starts.length).toBeGreaterThan(5)
    expect(new Set(starts).size).toBe(1)
  })
})

describe('renderFlagsMarkdown', () => {
  const markdown = renderFlagsMarkdown(flags)

  it('is a table with one row per flag plus help and version', () => {
    const rows = markdown.trimEnd().split('\n')
    expect(rows[0]).toBe('| Flag | Environment | Default | Description |')
    expect(rows).toHaveLength(2 + Object.keys(flags).length + 2)
    expect(rows).toContain('| `--port <port>` | `SHOAL_PORT` | `7400` | UDP port of the data stream |')
    expect(rows).toContain(
      '| `--group <address>...` | `SHOAL_GROUP` | `239.255.0.1` | Groups to join (repeatable) |',
    )
    expect(rows).toContain('| `--secret <token>` |  |  | Not from the environment |')
  })

  it('escapes pipes so the table keeps its columns', () => {
    expect(markdown).toContain('Name \\| with a pipe')
  })
})

import { describe, expect, it } from 'vitest'
import { ConfigError } from '../errors.js'
import { defineFlags, flag } from '../flags.js'
import { port } from '../validators.js'
import { configHarness } from './config-harness.js'

const flags = defineFlags({
  port: flag.value(port(), { placeholder: 'port', default: '7400', help: 'Port' }),
  ack: flag.boolean({ help: 'Ack' }),
})

const { resolve, refusal } = configHarness(flags, (values, { sources }) => {
  if (values.ack && values.port === 1) throw new Error('not a config error')
  if (values.ack && sources.port === 'default')
    throw new ConfigError('--ack needs --port', {
      code: 'SHOAL_CONFIG_CONFLICT',
      flag: '--ack',
    })
  return { port: values.port, from: sources.port }
})

describe('configHarness', () => {
  it('resolves flags, then the environment it is given, never the process’s own', () => {
    expect(resolve(['--port', '7500'])).toEqual({ port: 7500, from: 'argv' })
    expect(resolve([], { SHOAL_PORT: '7600' })).toEqual({ port: 7600, from: 'env' })
    process.env.SHOAL_PORT = '7700'
    try {
      expect(resolve([])).toEqual({ port: 7400, from: 'default' })
    } finally {
      delete process.env.SHOAL_PORT
    }
  })

  it('throws for --help and --version, which resolve to no config', () => {
    expect(() => resolve(['--help'])).toThrow('help')
    expect(() => resolve(['--version'])).toThrow('version')
  })

  it('refusal returns the ConfigError of a bad flag or of the resolve step', () => {
    expect(refusal(['--port', '0'])).toMatchObject({ code: 'SHOAL_CONFIG_INVALID_VALUE', flag: '--port' })
    expect(refusal(['--ack'])).toMatchObject({ code: 'SHOAL_CONFIG_CONFLICT', flag: '--ack' })
  })

  it('refusal throws when the command line is accepted, or fails with another error', () => {
    expect(() => refusal(['--port', '7500'])).toThrow('--port 7500 was accepted')
    expect(() => refusal(['--ack', '--port', '1'])).toThrow('not a config error')
  })
})

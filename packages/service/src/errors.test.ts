import { describe, expect, it } from 'vitest'
import {
  CONFIG_EXIT_CODE,
  ConfigError,
  type ConfigErrorCode,
  conflict,
  invalidValue,
  isConfigError,
} from './errors.js'

const CODES: Record<ConfigErrorCode, true> = {
  SHOAL_CONFIG_INVALID_VALUE: true,
  SHOAL_CONFIG_UNKNOWN_FLAG: true,
  SHOAL_CONFIG_MISSING_VALUE: true,
  SHOAL_CONFIG_UNEXPECTED_ARGUMENT: true,
  SHOAL_CONFIG_FILE: true,
  SHOAL_CONFIG_KEY_FILE: true,
  SHOAL_CONFIG_PROTO: true,
  SHOAL_CONFIG_CONFLICT: true,
}

describe('ConfigError', () => {
  it.each(Object.keys(CODES) as ConfigErrorCode[])(
    '%s carries its code, flag, cause and exit code 2',
    (code) => {
      const cause = new Error('underneath')
      const error = new ConfigError('message', { code, flag: '--port', cause })
      expect(error.code).toBe(code)
      expect(error.flag).toBe('--port')
      expect(error.cause).toBe(cause)
      expect(error.exitCode).toBe(CONFIG_EXIT_CODE)
      expect(error.name).toBe('ConfigError')
      expect(isConfigError(error)).toBe(true)
    },
  )

  it('isConfigError rejects other errors', () => {
    expect(isConfigError(new Error('x'))).toBe(false)
    expect(isConfigError({ code: 'SHOAL_CONFIG_FILE' })).toBe(false)
  })

  it('invalidValue names the flag, the value, the origin and what is valid', () => {
    expect(invalidValue('--port', '70000', 'expected an integer 1-65535').message).toBe(
      'invalid --port 70000: expected an integer 1-65535',
    )
    expect(invalidValue('--name', 'a b', 'expected a name', 'SHOAL_NAME').message).toBe(
      'invalid --name "a b" (from SHOAL_NAME): expected a name',
    )
    expect(invalidValue('--name', '', 'expected a name').message).toBe('invalid --name "": expected a name')
  })

  it('conflict names the first flag', () => {
    const error = conflict('--address', '--mode broadcast needs --address')
    expect(error.code).toBe('SHOAL_CONFIG_CONFLICT')
    expect(error.flag).toBe('--address')
  })
})

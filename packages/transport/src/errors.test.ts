import { describe, expect, it } from 'vitest'
import { isTransportError, TRANSPORT_ERROR_CODES, TransportError, transportError } from './errors.js'

describe('TransportError', () => {
  it.each(TRANSPORT_ERROR_CODES)('%s carries its code, message and cause, and is recognised', (code) => {
    const cause = new Error('root cause')
    const error = transportError(code, `something about ${code}`, cause)
    expect(error).toBeInstanceOf(TransportError)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('TransportError')
    expect(error.code).toBe(code)
    expect(error.message).toContain(code)
    expect(error.cause).toBe(cause)
    expect(isTransportError(error)).toBe(true)
    expect(isTransportError(error, code)).toBe(true)
    const other = TRANSPORT_ERROR_CODES.find((c) => c !== code)!
    expect(isTransportError(error, other)).toBe(false)
  })

  it('is not fooled by look-alikes', () => {
    expect(isTransportError(Object.assign(new Error('x'), { code: 'SHOAL_BAD_PORT' }))).toBe(false)
    expect(isTransportError(undefined)).toBe(false)
    expect(new TransportError({ code: 'SHOAL_BAD_TTL', message: 'm' }).cause).toBeUndefined()
  })
})

import { describe, expect, it } from 'vitest'
import { decideNetns } from './capability.js'
import { isNetnsError } from './errors.js'

describe('decideNetns (what requireNetns does)', () => {
  const missing = { ok: false, reason: 'missing root (running as uid 1000)' }

  it('runs the suite when the capability is there, CI or not', () => {
    const warnings: string[] = []
    expect(decideNetns({ ok: true }, { CI: 'true' }, (l) => warnings.push(l))).toEqual({ skip: false })
    expect(decideNetns({ ok: true }, {}, (l) => warnings.push(l))).toEqual({ skip: false })
    expect(warnings).toEqual([])
  })

  it('skips with the reason on stderr outside CI', () => {
    const warnings: string[] = []
    expect(decideNetns(missing, { CI: 'false' }, (l) => warnings.push(l))).toEqual({
      skip: true,
      reason: missing.reason,
    })
    expect(warnings.join('')).toContain('uid 1000')
  })

  it('throws under CI=true, naming what is missing, so a broken runner fails instead of skipping', () => {
    let caught: unknown
    try {
      decideNetns(missing, { CI: 'true' }, () => {})
    } catch (error) {
      caught = error
    }
    expect(isNetnsError(caught) && caught.code).toBe('NETNS_UNAVAILABLE')
    expect((caught as Error).message).toContain('missing root (running as uid 1000)')
  })
})

import { describe, expect, it } from 'vitest'
import { hostNsName, isRunId, newRunId, parseNsName, switchNsName } from './names.js'

describe('namespace names', () => {
  it('round-trips host and switch names of pid-owned and cli runs', () => {
    for (const owner of [4242, 'cli'] as const) {
      const runId = newRunId(owner)
      expect(isRunId(runId)).toBe(true)
      expect(parseNsName(hostNsName(runId, 'a'))).toEqual({ runId, owner, role: 'host', host: 'a' })
      expect(parseNsName(hostNsName(runId, 'sw'))).toEqual({ runId, owner, role: 'host', host: 'sw' })
      expect(parseNsName(switchNsName(runId, 'lan'))).toEqual({
        runId,
        owner,
        role: 'switch',
        segment: 'lan',
      })
    }
  })

  it('makes a different run id each time', () => {
    expect(newRunId(1)).not.toBe(newRunId(1))
  })

  it.each([
    'shoal',
    'shoal-12-abc-a',
    'shoal-12-1a2b3c',
    'shoal-x-1a2b3c-a',
    'other-12-1a2b3c-a',
    'shoal-12-1a2b3c-A',
  ])('does not claim %s', (name) => {
    expect(parseNsName(name)).toBeUndefined()
  })
})

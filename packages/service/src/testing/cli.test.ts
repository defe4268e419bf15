import { describe, expect, it } from 'vitest'
import { requireBuilt } from './cli.js'

describe('requireBuilt', () => {
  it('passes when every file exists, and names only the missing ones otherwise', () => {
    expect(() => requireBuilt(process.execPath)).not.toThrow()
    expect(() => requireBuilt(process.execPath, '/nonexistent/a.js', '/nonexistent/b.js')).toThrow(
      /^\/nonexistent\/a\.js, \/nonexistent\/b\.js missing: run pnpm build/,
    )
  })
})

import { fileURLToPath } from 'node:url'
import { renderFlagsMarkdown } from '@shoal/service'
import { syncGeneratedSection } from '@shoal/service/testing'
import { expect, it } from 'vitest'
import { throttleFlags } from '../src/config.js'

it('README flags table matches the flag table (`pnpm --filter @shoal/throttle run docs` regenerates it)', () => {
  const readme = fileURLToPath(new URL('../README.md', import.meta.url))
  const section = syncGeneratedSection(readme, 'flags', renderFlagsMarkdown(throttleFlags), {
    write: process.env.SHOAL_UPDATE_DOCS === '1',
  })
  if (!section.written) expect(section.actual).toBe(section.expected)
})

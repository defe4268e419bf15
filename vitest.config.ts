import { defineConfig } from 'vitest/config'

// One vitest project per workspace package; `pnpm test` runs them all.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'tools/netns', 'tools/packaging', 'tools/wireshark'],
  },
})

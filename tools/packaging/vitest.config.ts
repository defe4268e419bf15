import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'packaging',
    include: ['test/**/*.test.ts'],
    // Packing, two installs (npm and pnpm, from the registry on a cold cache) and two builds.
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
})

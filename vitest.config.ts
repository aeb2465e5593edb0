import { defineConfig } from 'vitest/config'

export default defineConfig({
  cacheDir: '.cache/vite',
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/fixtures/**', 'test/.tmp/**'],
    // Real bundler builds and real servers: generous, but never unbounded.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'] },
  },
})

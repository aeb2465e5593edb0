// Builds the playground with Vite: the browser app into dist/, its Node entry into dist/node/. Used by `npm run demo` and its test.
import { join } from 'node:path'

/** @param {string} dir the playground's root (it holds vite.config.ts) */
export async function buildPlayground(dir, { logLevel = 'warn' } = {}) {
  const { build } = await import('vite')
  const config = { configFile: join(dir, 'vite.config.ts'), root: dir, logLevel }
  await build(config)
  await build({ ...config, build: { ssr: 'src/node.ts', outDir: 'dist/node', sourcemap: true } })
  return { nodeEntry: join(dir, 'dist/node/node.js'), lockFile: join(dir, '.poet/lock.json') }
}

// Bundles the runtime the way a user's bundler would (esbuild, platform neutral), for the edge and browser tests.
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const entry = fileURLToPath(new URL('../../src/runtime/index.ts', import.meta.url))

export async function bundleRuntime(format: 'esm' | 'iife'): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format,
    globalName: format === 'iife' ? 'Poet' : undefined,
    platform: 'neutral',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
  })
  return out.outputFiles[0].text
}

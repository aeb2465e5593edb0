// A library that uses poet, built with the plugin in Vite library mode, consumed from its dist/ by a workspace app: built by each bundler with the plugin, and without it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LockFile } from '../../src/generators/lock'
import { createMonorepo, LIB_TOTAL, type Monorepo } from '../helpers/monorepo'
import { build, loadPlugin, run, type Project } from '../helpers/project'

interface App {
  total(order: unknown): number
  count(xs: unknown): number
  onEvent(listener: (event: { functionId: string }) => void): () => void
}

const CONSUMERS = ['vite', 'rolldown', 'esbuild', 'webpack', 'rspack'] as const

describe('a library built with the plugin, consumed from its dist/ by a workspace app', () => {
  let repo: Monorepo
  let lib: Project
  let web: Project

  beforeAll(async () => {
    repo = createMonorepo()
    lib = repo.addPackage('lib', { name: '@acme/lib', exports: { '.': './dist/index.js' } })
    lib.write('src/index.ts', LIB_TOTAL)
    web = repo.addPackage('web', { name: 'web', private: true, dependencies: { '@acme/lib': '*' } })
    web.write(
      'src/main.ts',
      [
        "import { poet } from 'unplugin-poet/runtime'",
        "export { onEvent } from 'unplugin-poet/runtime'",
        "export { total } from '@acme/lib'",
        'export const count = poet()((xs: number[]): number => xs.length)',
      ].join('\n'),
    )
  })
  afterAll(() => repo.remove())

  // Built as its README says: ESM, the runtime external, so that the app's build brings the one runtime.
  async function buildLibrary(preserveModules: boolean, external = true): Promise<string[]> {
    const { build: viteBuild } = await import('vite')
    const poet = await loadPlugin(lib, 'vite')
    const warnings: string[] = []
    await viteBuild({
      configFile: false,
      root: lib.dir,
      logLevel: 'silent',
      plugins: [poet()],
      build: {
        lib: { entry: 'src/index.ts', formats: ['es'], fileName: 'index' },
        emptyOutDir: true,
        minify: !preserveModules,
        rolldownOptions: {
          external: external ? [/^unplugin-poet\//] : [],
          output: preserveModules ? { preserveModules: true } : {},
          onwarn: (w) => void warnings.push(w.message),
        },
      },
    })
    return warnings
  }

  it('a library build that bundles the runtime says that its functions would run in a runtime apart from the app\'s', async () => {
    expect(await buildLibrary(false)).toEqual([])
    const warnings = await buildLibrary(false, false)
    expect(warnings).toEqual([expect.stringContaining('this library bundles its own copy of unplugin-poet/runtime')])
    expect(warnings[0]).toContain("rolldownOptions: { external: [/^unplugin-poet\\//] }")
  })

  // As tsup builds a library: esbuild, the runtime external.
  async function buildWithEsbuild(minify: boolean): Promise<void> {
    const esbuild = await import('esbuild')
    const poet = await loadPlugin(lib, 'esbuild')
    await esbuild.build({
      absWorkingDir: lib.dir,
      entryPoints: ['src/index.ts'],
      outfile: 'dist/index.js',
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      external: ['unplugin-poet/*'],
      minify,
      logLevel: 'silent',
      plugins: [poet()],
    })
  }

  describe.each([
    ['bundled and minified by Vite', 'vite-min'],
    ['built by Vite, its modules kept apart', 'vite-modules'],
    ['bundled by esbuild', 'esbuild'],
    ['bundled and minified by esbuild', 'esbuild-min'],
  ] as const)('the library %s', (_, how) => {
    const preserveModules = how === 'vite-modules'
    beforeAll(() => (how.startsWith('esbuild') ? buildWithEsbuild(how === 'esbuild-min') : buildLibrary(preserveModules).then(() => {})))

    it.each(CONSUMERS)('%s: the app builds, the library runs its own phases in the one runtime, and the app locks only its own functions', async (bundler) => {
      const app = await run<App>(await build(web, bundler, { entry: 'src/main.ts', outDir: `dist-${bundler}-${how}` }))
      const seen: string[] = []
      const stop = app.onEvent((event) => void seen.push(event.functionId))
      expect(app.total({ items: [{ price: 2 }, { price: 3 }] })).toBe(5)
      expect(() => app.total({ items: [{ price: '3' }] })).toThrow(/invalid input of src\/index\.ts#total:\n\s+args\[0\]\.items\[0\]\.price: expected number, received string/)
      expect(() => app.count('abc')).toThrow(/args\[0\]: expected number\[\], received string/)
      stop()
      expect(seen).toEqual(['src/index.ts#total', 'src/index.ts#total', 'src/main.ts#count'])
      expect(Object.keys((JSON.parse(web.read('.poet/lock.json')) as LockFile).functions)).toEqual(['src/main.ts#count'])
    })
  })

  it('runs the phases the library was built with in an app built without the plugin', async () => {
    await buildLibrary(false)
    const { build: viteBuild } = await import('vite')
    const outDir = web.path('dist-plain')
    await viteBuild({
      configFile: false,
      root: web.dir,
      logLevel: 'silent',
      build: { ssr: 'src/main.ts', outDir, rolldownOptions: { output: { entryFileNames: 'main.mjs' } } },
    })
    const app = await run<App>({ file: `${outDir}/main.mjs`, map: '', warnings: [] })
    expect(() => app.total({ items: [{ price: '3' }] })).toThrow(/args\[0\]\.items\[0\]\.price: expected number, received string/)
  })
})

// A minifier inlines a require() used once: `(0, require('unplugin-poet/runtime').poet)(opts, { id, version, … })`.
describe('a CommonJS library built with the plugin, consumed from its dist/ by a workspace app', () => {
  let repo: Monorepo
  let web: Project
  let libVersion: string

  beforeAll(async () => {
    repo = createMonorepo()
    const lib = repo.addPackage('lib', { name: '@acme/lib', type: 'commonjs', main: './dist/index.cjs' })
    // Its phases need no issue helper, so poet is all the build takes from the runtime.
    lib.write('src/index.ts', "import { poet } from 'unplugin-poet/runtime'\nexport const echo = poet({ attempts: 1 })((x: unknown): unknown => x)\n")
    web = repo.addPackage('web', { name: 'web', private: true, dependencies: { '@acme/lib': '*' } })
    web.write('src/main.ts', "export { onEvent } from 'unplugin-poet/runtime'\nexport { echo } from '@acme/lib'\n")
    const { build: viteBuild } = await import('vite')
    const poet = await loadPlugin(lib, 'vite')
    await viteBuild({
      configFile: false,
      root: lib.dir,
      logLevel: 'silent',
      plugins: [poet()],
      build: { lib: { entry: 'src/index.ts', formats: ['cjs'], fileName: () => 'index.cjs' }, rolldownOptions: { external: [/^unplugin-poet\//] } },
    })
    expect(lib.read('dist/index.cjs')).toContain('require("unplugin-poet/runtime").poet')
    libVersion = (JSON.parse(lib.read('.poet/lock.json')) as LockFile).functions['src/index.ts#echo']!.current
  })
  afterAll(() => repo.remove())

  it.each(CONSUMERS)('%s: the app builds without a warning, and the library runs with the phases it was built with', async (bundler) => {
    const result = await build(web, bundler, { entry: 'src/main.ts', outDir: `dist-${bundler}-cjs` })
    expect(result.warnings.filter((w) => w.includes('poet'))).toEqual([])
    const app = await run<{ echo(x: unknown): unknown; onEvent(listener: (event: { functionId: string; version: string }) => void): () => void }>(result)
    const seen: string[] = []
    const stop = app.onEvent((event) => void seen.push(`${event.functionId}@${event.version}`))
    expect(app.echo(7)).toBe(7)
    stop()
    expect(seen).toEqual([`src/index.ts#echo@${libVersion}`])
  })
})

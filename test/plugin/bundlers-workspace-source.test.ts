// An app importing a sibling workspace package that ships its TypeScript sources, by its name through the node_modules link: transformed by the app's build, with ids relative to the app, however the link is followed.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { LockFile } from '../../src/generators/lock'
import { createMonorepo, LIB_TOTAL, type Monorepo } from '../helpers/monorepo'
import { build, loadPlugin, run, type Project } from '../helpers/project'

interface App {
  total(order: unknown): number
}

const IDS = ['../lib/src/index.ts#total', 'src/main.ts#count']

describe('an app importing a sibling package that ships its sources', () => {
  let repo: Monorepo
  let web: Project
  const lockIds = () => Object.keys((JSON.parse(web.read('.poet/lock.json')) as LockFile).functions).sort()

  beforeAll(() => {
    repo = createMonorepo()
    const lib = repo.addPackage('lib', { name: '@acme/lib', exports: { '.': './src/index.ts' } })
    lib.write('src/index.ts', LIB_TOTAL)
    web = repo.addPackage('web', { name: 'web', private: true, dependencies: { '@acme/lib': '*' } })
    web.write(
      'src/main.ts',
      ["import { poet } from 'unplugin-poet/runtime'", "export { total } from '@acme/lib'", 'export const count = poet()((xs: number[]): number => xs.length)'].join('\n'),
    )
  })
  afterAll(() => repo.remove())
  beforeEach(() => rmSync(web.lockDir, { recursive: true, force: true }))

  const checks = (app: App) => {
    expect(app.total({ items: [{ price: 2 }, { price: 3 }] })).toBe(5)
    expect(() => app.total({ items: [{ price: '3' }] })).toThrow(/invalid input of \.\.\/lib\/src\/index\.ts#total:\n\s+args\[0\]\.items\[0\]\.price: expected number, received string/)
    expect(lockIds()).toEqual(IDS)
  }

  it.each(['vite', 'rolldown', 'esbuild', 'webpack', 'rspack'] as const)('%s (links followed): its functions are checked, locked in the app under ids relative to it', async (bundler) => {
    checks(await run<App>(await build(web, bundler, { entry: 'src/main.ts' })))
  })

  it('vite with resolve.preserveSymlinks (the package reached at node_modules/@acme/lib): the same', async () => {
    const { build: viteBuild } = await import('vite')
    const poet = await loadPlugin(web, 'vite')
    const outDir = web.path('dist-preserved')
    await viteBuild({
      configFile: false,
      root: web.dir,
      logLevel: 'silent',
      plugins: [poet()],
      resolve: { preserveSymlinks: true },
      build: { ssr: 'src/main.ts', outDir, rolldownOptions: { output: { entryFileNames: 'main.mjs' } } },
    })
    checks(await run<App>({ file: join(outDir, 'main.mjs'), map: '', warnings: [] }))
  })

  it('rolldown with resolve.symlinks false: the same', async () => {
    const { rolldown } = await import('rolldown')
    const poet = await loadPlugin(web, 'rolldown')
    const bundle = await rolldown({ input: web.path('src/main.ts'), cwd: web.dir, platform: 'node', resolve: { symlinks: false }, plugins: [poet()] })
    const file = web.path('dist-rolldown-links/main.mjs')
    await bundle.write({ file, format: 'es' })
    await bundle.close()
    checks(await run<App>({ file, map: '', warnings: [] }))
  })
})

// Types imported through tsconfig.json `paths` aliases (`@/types`, as most Vite apps write them) and package.json
// subpath imports (`#types/order`): checked in a real build, not accepted as unknown.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LockFile } from '../../src/generators/lock'
import { PoetContext } from '../../src/plugin/context'
import { build, createProject, loadPlugin, PACKAGE_ROOT, run, viteDevServer, type Project } from '../helpers/project'

interface Fixture {
  total(order: unknown): number
  count(order: unknown): number
}

describe.each(['vite', 'esbuild'] as const)('%s with tsconfig paths', (bundler) => {
  let project: Project
  let app: Fixture

  beforeAll(async () => {
    project = createProject(`${bundler}-paths`)
    // The fixture's deliberately wrong module would fail `poet status`, which reads every module.
    rmSync(project.path('src/broken.ts'))
    // Vite's template: a solution-style tsconfig.json whose app config holds the alias.
    project.write('tsconfig.json', '{ "files": [], "references": [{ "path": "./tsconfig.app.json" }] }')
    project.write(
      'tsconfig.app.json',
      `{
        "compilerOptions": {
          "target": "ES2022", "module": "ESNext", "moduleResolution": "Bundler", "strict": true,
          // the alias vite.config.ts repeats in resolve.alias
          "paths": { "@/*": ["./src/*"] },
        },
        "include": ["src"],
      }`,
    )
    project.write('src/types/order.ts', 'export interface Order { items: { price: number }[] }\n')
    project.write('src/types/index.ts', "export * from './order'\n")
    project.write('package.json', JSON.stringify({ name: 'paths', private: true, type: 'module', imports: { '#types/*': './src/types/*.ts' } }))
    project.write(
      'src/count.ts',
      [
        "import { poet } from 'unplugin-poet/runtime'",
        "import type { Order } from '#types/order'",
        'export const count = poet()((order: Order): number => order.items.length)',
      ].join('\n'),
    )
    project.write('src/entry.ts', "export { total } from './total'\nexport { count } from './count'\n")
    project.write(
      'src/total.ts',
      [
        "import { poet } from 'unplugin-poet/runtime'",
        "import type { Order } from '@/types'",
        'export const total = poet()((order: Order): number => order.items.reduce((s, i) => s + i.price, 0))',
      ].join('\n'),
    )
    app = await run<Fixture>(await build(project, bundler, { entry: 'src/entry.ts' }))
  })
  afterAll(() => project.remove())

  it('checks the aliased type: a wrong argument is rejected with its path', () => {
    expect(app.total({ items: [{ price: 2 }, { price: 3 }] })).toBe(5)
    expect(() => app.total({ items: [{ price: '3' }] })).toThrow(/args\[0\]\.items\[0\]\.price: expected number, received string/)
    expect(() => app.count({ items: {} })).toThrow(/args\[0\]\.items: expected object\[\], received object/)
    const lock = JSON.parse(project.read('.poet/lock.json')) as LockFile
    expect(Object.keys(lock.functions).sort()).toEqual(['src/count.ts#count', 'src/total.ts#total'])
  })

  it('poet status reads the alias as the build did: the entry the build locked is fresh, nothing unresolved', () => {
    // The other fixture functions are not in this build's lock: only the aliased one is checked.
    const out = execFileSync(process.execPath, [join(PACKAGE_ROOT, 'dist/cli.mjs'), 'status', '--json'], { cwd: project.dir, encoding: 'utf8' })
    const { functions } = JSON.parse(out) as { functions: { id: string; state: string; unresolved: { path: string }[] }[] }
    for (const id of ['src/count.ts#count', 'src/total.ts#total']) {
      expect(functions.find((f) => f.id === id)).toMatchObject({ state: 'fresh', unresolved: [] })
    }
  })
})

/**
 * A monorepo package built with its own root (`packages/web`) and no tsconfig.json of its own: the repository's
 * tsconfig.json governs it, as TypeScript finds it by walking up. Made outside the worktree (whose own tsconfig.json
 * would be found above it otherwise).
 */
function monorepo(withRepoConfig: boolean): { repo: string; web: Project } {
  const repo = realpathSync(mkdtempSync(join(tmpdir(), 'poet-monorepo-')))
  const dir = join(repo, 'packages/web')
  const path = (rel: string) => join(dir, rel)
  const write = (file: string, content: string) => {
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, content)
  }
  if (withRepoConfig) {
    write(
      join(repo, 'tsconfig.json'),
      '{ "compilerOptions": { "strict": true, "moduleResolution": "Bundler", "paths": { "@shared/*": ["./shared/*"] } } }',
    )
  }
  write(join(repo, 'shared/order.ts'), 'export interface Order { items: { price: number }[] }\n')
  write(path('package.json'), JSON.stringify({ name: 'web', private: true, type: 'module' }))
  write(
    path('src/total.ts'),
    [
      "import { poet } from 'unplugin-poet/runtime'",
      "import type { Order } from '@shared/order'",
      'export const total = poet()((order: Order): number => order.items.reduce((s, i) => s + i.price, 0))',
    ].join('\n'),
  )
  mkdirSync(path('node_modules'))
  symlinkSync(PACKAGE_ROOT, path('node_modules/unplugin-poet'), 'dir')
  return {
    repo,
    web: {
      dir,
      lockDir: path('.poet'),
      path,
      read: (rel) => readFileSync(path(rel), 'utf8'),
      write: (rel, content) => write(path(rel), content),
      remove: () => rmSync(repo, { recursive: true, force: true }),
    },
  }
}

describe('a monorepo package without a tsconfig.json of its own', () => {
  let repo: string
  let web: Project
  let app: { total(order: unknown): number }

  beforeAll(async () => {
    ;({ repo, web } = monorepo(true))
    app = await run(await build(web, 'vite', { entry: 'src/total.ts' }))
  })
  afterAll(() => web.remove())

  it("is governed by the repository's tsconfig.json above its root: the aliased type is checked", () => {
    expect(app.total({ items: [{ price: 2 }, { price: 3 }] })).toBe(5)
    expect(() => app.total({ items: [{ price: '3' }] })).toThrow(/args\[0\]\.items\[0\]\.price: expected number, received string/)
  })

  it('poet status run from the package reads it too: the entry is fresh, nothing unresolved', () => {
    const out = execFileSync(process.execPath, [join(PACKAGE_ROOT, 'dist/cli.mjs'), 'status', '--json'], { cwd: web.dir, encoding: 'utf8' })
    const { functions } = JSON.parse(out) as { functions: { id: string; state: string; unresolved: { path: string }[] }[] }
    expect(functions.find((f) => f.id === 'src/total.ts#total')).toMatchObject({ state: 'fresh', unresolved: [] })
  })

  it("watches the repository's tsconfig.json, and no tsconfig.json missing between it and the package", async () => {
    const ctx = new PoetContext({ root: web.dir, cache: false })
    const out = await ctx.transformAsync(web.read('src/total.ts'), web.path('src/total.ts'), () => {})
    expect(out!.watchFiles).toContain(join(repo, 'tsconfig.json'))
    expect(out!.watchFiles).toContain(join(repo, 'shared/order.ts'))
    expect(out!.watchFiles).not.toContain(join(repo, 'packages/tsconfig.json'))
  })
})

describe('a package with no tsconfig.json anywhere above it', () => {
  it('watches no tsconfig.json missing above its root, up to the filesystem root', async () => {
    const { web } = monorepo(false)
    try {
      const ctx = new PoetContext({ root: web.dir, cache: false })
      const out = await ctx.transformAsync(web.read('src/total.ts'), web.path('src/total.ts'), () => {})
      const outside = out!.watchFiles.filter((f) => !f.startsWith(web.dir + '/'))
      expect(outside).toEqual([])
      // Inside the root a missing one is watched, as before: creating it there changes the types.
      expect(out!.watchFiles).toContain(web.path('tsconfig.json'))
    } finally {
      web.remove()
    }
  })
})

describe('vite dev server with tsconfig paths', () => {
  let project: Project
  let server: import('vite').ViteDevServer

  beforeAll(async () => {
    project = createProject('vite-dev-paths')
    rmSync(project.path('src/broken.ts'))
    project.write('tsconfig.json', '{ "compilerOptions": { "strict": true, "paths": { "@/*": ["./src/*"] } } }')
    project.write('src/types/index.ts', 'export interface Order { items: { price: number }[] }\n')
    // In a directory without a tsconfig.json of its own: the resolver looks for one there before it finds the root's.
    project.write(
      'src/orders/total.ts',
      [
        "import { poet } from 'unplugin-poet/runtime'",
        "import type { Order } from '@/types'",
        'export const total = poet()((order: Order): number => order.items.reduce((s, i) => s + i.price, 0))',
      ].join('\n'),
    )
    const poet = await loadPlugin(project, 'vite')
    server = await viteDevServer(project, { plugins: [poet()] })
  })
  afterAll(async () => {
    await server?.close()
    project?.remove()
  })

  it("serves the module and its phases to the page: the files the resolver did not find are not the page's imports", async () => {
    // The browser's environment: Vite's import analysis resolves a module's watched files as imports of it, and a
    // missing one (src/orders/tsconfig.json) failed the module with "Failed to resolve import".
    const client = server.environments.client
    const served = await client.transformRequest('/src/orders/total.ts')
    expect(served?.code).toContain('poet:src~2forders~2ftotal.ts~23total')
    const phases = await client.transformRequest('virtual:poet/src~2forders~2ftotal.ts~23total')
    expect(phases?.code).toContain('args[0].items')
  })
})

// Types imported from a sibling workspace package by its name (`import type { Order } from '@acme/types'`): read where its package.json points TypeScript, in a real build and in poet status.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main'
import type { UnresolvedType } from '../../src/generators/spec'
import { createMonorepo, type Monorepo } from '../helpers/monorepo'
import { build, PACKAGE_ROOT, run, type Project } from '../helpers/project'

interface App {
  total(order: unknown): number
  ship(parcel: unknown): string
  byRef(line: unknown): number
  pnpm(order: unknown): number
  vendored(x: unknown): string
  unbuilt(x: unknown): string
}

describe('types from sibling workspace packages', () => {
  let repo: Monorepo
  let web: Project
  let app: App

  beforeAll(async () => {
    repo = createMonorepo()
    // Sources exported for TypeScript by a `types` condition, with a subpath pattern.
    const types = repo.addPackage('types', { name: '@acme/types', exports: { '.': { types: './src/index.ts', default: './src/index.ts' }, './*': './src/*.ts' } })
    types.write('src/index.ts', "export interface Order { items: { price: number }[] }\nexport type { Line } from './line'\n")
    types.write('src/line.ts', 'export interface Line { qty: number }\n')
    // Built declarations, found through `types` (no exports).
    const models = repo.addPackage('models', { name: '@acme/models', main: './dist/index.js', types: './dist/index.d.ts' })
    models.write('dist/index.d.ts', "export interface Parcel { weight: number; to: 'home' | 'shop' }\n")
    // Its declarations not built yet.
    repo.addPackage('api', { name: '@acme/api', types: './dist/index.d.ts' })
    repo.write('packages/api/src/index.ts', 'export interface Reply { ok: boolean }\n')
    // Linked only into the app's own node_modules, as pnpm does.
    const pnpm = repo.addPackage('pnpm-only', { name: '@acme/pnpm-only', exports: './src/index.ts' }, { hoisted: false })
    pnpm.write('src/index.ts', 'export interface Basket { items: string[] }\n')
    web = repo.addPackage('web', { name: 'web', private: true })
    repo.linkInto('web', '@acme/pnpm-only', 'pnpm-only')
    // An installed package (a real directory under node_modules, not a link into the workspace): its types stay unchecked.
    mkdirSync(join(repo.dir, 'node_modules/vendored'), { recursive: true })
    writeFileSync(join(repo.dir, 'node_modules/vendored/package.json'), JSON.stringify({ name: 'vendored', types: './index.d.ts' }))
    writeFileSync(join(repo.dir, 'node_modules/vendored/index.d.ts'), 'export type Code = number\n')
    web.write(
      'src/main.ts',
      [
        "import { poet } from 'unplugin-poet/runtime'",
        "import type { Order } from '@acme/types'",
        "import type { Line } from '@acme/types/line'",
        "import type { Parcel } from '@acme/models'",
        "import type { Reply } from '@acme/api'",
        "import type { Basket } from '@acme/pnpm-only'",
        "import type { Code } from 'vendored'",
        'export const total = poet()((order: Order): number => order.items.reduce((s, i) => s + i.price, 0))',
        'export const byRef = poet()((line: Line): number => line.qty)',
        'export const ship = poet()((parcel: Parcel): string => parcel.to)',
        'export const pnpm = poet()((basket: Basket): number => basket.items.length)',
        "export const vendored = poet()((code: Code): string => 'ok')",
        "export const unbuilt = poet()((reply: Reply): string => 'ok')",
      ].join('\n'),
    )
    app = await run<App>(await build(web, 'vite', { entry: 'src/main.ts' }))
  })
  afterAll(() => repo.remove())

  it('checks a type from the package sources its exports point TypeScript at, by name and by subpath', () => {
    expect(app.total({ items: [{ price: 2 }] })).toBe(2)
    expect(() => app.total({ items: [{ price: '2' }] })).toThrow(/args\[0\]\.items\[0\]\.price: expected number, received string/)
    expect(() => app.byRef({ qty: 'one' })).toThrow(/args\[0\]\.qty: expected number, received string/)
  })

  it("checks a type from a package's built declarations, and from a package linked into the app alone (pnpm)", () => {
    expect(app.ship({ weight: 1, to: 'home' })).toBe('home')
    expect(() => app.ship({ weight: 1, to: 'moon' })).toThrow(/args\[0\]\.to: expected "home" \| "shop", received "moon"/)
    expect(() => app.pnpm({ items: [1] })).toThrow(/args\[0\]\.items\[0\]: expected string, received number/)
  })

  it('leaves an installed package unchecked, and says why a workspace package whose declarations are not built is', async () => {
    expect(app.vendored('any')).toBe('ok')
    expect(app.unbuilt({ ok: 'yes' })).toBe('ok')
    const out: string[] = []
    const code = await main(['status', '--json'], { out: (l) => out.push(l), err: () => {}, cwd: web.dir, tty: false, env: {}, write: () => {} })
    expect(code).toBe(0)
    const { functions } = JSON.parse(out.join('\n')) as { functions: { id: string; state: string; unresolved: UnresolvedType[] }[] }
    const unresolved = (name: string) => functions.find((f) => f.id === `src/main.ts#${name}`)!.unresolved
    for (const name of ['total', 'byRef', 'ship', 'pnpm']) expect(unresolved(name), name).toEqual([])
    expect(unresolved('vendored')).toEqual([{ path: 'args[0]', text: 'Code', reason: 'type from package "vendored"' }])
    expect(unresolved('unbuilt')).toEqual([
      {
        path: 'args[0]',
        text: 'Reply',
        reason:
          'cannot find the types of "@acme/api": the package.json of the workspace package (../api/package.json) points to ../api/dist/index.d.ts, not there (build that package, or point its "types" at its sources)',
      },
    ])
    expect(functions.every((f) => f.state === 'fresh')).toBe(true)
  })

  it("says in poet status's table why a type is unresolved, in a few words", () => {
    const out = execFileSync(process.execPath, [join(PACKAGE_ROOT, 'dist/cli.mjs'), 'status'], { cwd: web.dir, encoding: 'utf8' })
    expect(out).toMatch(/^src\/main\.ts#unbuilt +[0-9a-f]{10} +builtin +no +1: args\[0\] \(Reply: \.\.\/api not built \(dist\/index\.d\.ts missing\)\)$/m)
    expect(out).toMatch(/^src\/main\.ts#vendored +[0-9a-f]{10} +builtin +no +1: args\[0\] \(Code: type from package "vendored"\)$/m)
    expect(out).toMatch(/^src\/main\.ts#total +[0-9a-f]{10} +builtin +no +—$/m)
  })
})

describe('a workspace package linked after a build that cached the transform of its importer', () => {
  let repo: Monorepo

  beforeAll(() => {
    repo = createMonorepo()
  })
  afterAll(() => repo.remove())

  it('has its type checked by the next build, the importer unchanged', async () => {
    const types = repo.addPackage('types', { name: '@acme/types', exports: './src/index.ts' }, { hoisted: false })
    types.write('src/index.ts', 'export interface Order { items: { price: number }[] }\n')
    const web = repo.addPackage('web', { name: 'web', private: true })
    web.write(
      'src/main.ts',
      [
        "import { poet } from 'unplugin-poet/runtime'",
        "import type { Order } from '@acme/types'",
        'export const count = poet()((order: Order): number => order.items.length)',
      ].join('\n'),
    )
    const bad = { items: [{ price: '2' }] }
    // Added to the workspace, not yet linked by an install: a type from a package, unchecked.
    const before = await run<{ count(order: unknown): number }>(await build(web, 'vite', { entry: 'src/main.ts', outDir: 'dist-unlinked' }))
    expect(before.count(bad)).toBe(1)
    expect(existsSync(web.path('node_modules/.cache/unplugin-poet'))).toBe(true)
    repo.linkInto('web', '@acme/types', 'types')
    const after = await run<{ count(order: unknown): number }>(await build(web, 'vite', { entry: 'src/main.ts', outDir: 'dist-linked' }))
    expect(() => after.count(bad)).toThrow(/args\[0\]\.items\[0\]\.price: expected number, received string/)
  })
})

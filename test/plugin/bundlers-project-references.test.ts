// TypeScript project references: a sibling package whose `types` point at declarations `tsc -b` has not written yet is read from its sources, as TypeScript's editors read it, in a real build and in poet status.
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { UnresolvedType } from '../../src/generators/spec'
import { createMonorepo, type Monorepo } from '../helpers/monorepo'
import { build, PACKAGE_ROOT, run, type Project } from '../helpers/project'

interface App {
  total(order: unknown): number
  ship(parcel: unknown): string
  reply(reply: unknown): string
}

const composite = (options: Record<string, unknown>, references: { path: string }[] = []) =>
  JSON.stringify({ compilerOptions: { composite: true, ...options }, include: ['src'], references })

describe('a workspace package referenced by the app\'s tsconfig.json, its declarations not built', () => {
  let repo: Monorepo
  let web: Project
  let app: App

  beforeAll(async () => {
    repo = createMonorepo()
    // `rootDir` and `outDir`, as `tsc --init` and most monorepo templates write them.
    const types = repo.addPackage('types', { name: '@acme/types', types: './dist/index.d.ts', main: './dist/index.js' })
    types.write('src/index.ts', "export type { Order } from './order.js'\n")
    types.write('src/order.ts', 'export interface Order { items: { price: number }[] }\n')
    // `declarationDir` apart from `outDir`, set in a base config it extends, reached through its exports; referenced
    // by the referenced package, not by the app itself (TypeScript follows the whole graph).
    const models = repo.addPackage('models', { name: '@acme/models', exports: { '.': { types: './types/index.d.ts', default: './dist/index.js' } } })
    models.write('tsconfig.base.json', JSON.stringify({ compilerOptions: { declarationDir: 'types', outDir: 'dist' } }))
    models.write('tsconfig.json', JSON.stringify({ extends: './tsconfig.base.json', compilerOptions: { composite: true }, references: [] }))
    models.write('index.ts', "export interface Parcel { weight: number; to: 'home' | 'shop' }\n")
    types.write('tsconfig.json', composite({ rootDir: 'src', outDir: 'dist' }, [{ path: '../models' }]))
    // Not referenced: still reported as not built.
    repo.addPackage('api', { name: '@acme/api', types: './dist/index.d.ts' })
    repo.write('packages/api/tsconfig.json', composite({ rootDir: 'src', outDir: 'dist' }))
    repo.write('packages/api/src/index.ts', 'export interface Reply { ok: boolean }\n')
    web = repo.addPackage('web', { name: 'web', private: true })
    // Solution-style, as Vite's templates write it: the app's own config is referenced, and references the packages.
    web.write('tsconfig.json', JSON.stringify({ files: [], references: [{ path: './tsconfig.app.json' }] }))
    web.write('tsconfig.app.json', JSON.stringify({ compilerOptions: { composite: true }, include: ['src'], references: [{ path: '../types' }] }))
    web.write(
      'src/main.ts',
      [
        "import { poet } from 'unplugin-poet/runtime'",
        "import type { Order } from '@acme/types'",
        "import type { Parcel } from '@acme/models'",
        "import type { Reply } from '@acme/api'",
        'export const total = poet()((order: Order): number => order.items.reduce((s, i) => s + i.price, 0))',
        'export const ship = poet()((parcel: Parcel): string => parcel.to)',
        "export const reply = poet()((reply: Reply): string => 'ok')",
      ].join('\n'),
    )
    app = await run<App>(await build(web, 'vite', { entry: 'src/main.ts' }))
  })
  afterAll(() => repo.remove())

  it('checks the types from the sources of the referenced projects, directly and through another reference', () => {
    expect(app.total({ items: [{ price: 2 }] })).toBe(2)
    expect(() => app.total({ items: [{ price: '2' }] })).toThrow(/args\[0\]\.items\[0\]\.price: expected number, received string/)
    expect(app.ship({ weight: 1, to: 'home' })).toBe('home')
    expect(() => app.ship({ weight: 1, to: 'moon' })).toThrow(/args\[0\]\.to: expected "home" \| "shop", received "moon"/)
    // Not referenced, not built: unchecked.
    expect(app.reply({ ok: 'yes' })).toBe('ok')
  })

  it('poet status finds them resolved, and the package no reference names not built', () => {
    const out = execFileSync(process.execPath, [join(PACKAGE_ROOT, 'dist/cli.mjs'), 'status', '--json'], { cwd: web.dir, encoding: 'utf8' })
    const { functions } = JSON.parse(out) as { functions: { id: string; state: string; unresolved: UnresolvedType[] }[] }
    const unresolved = (name: string) => functions.find((f) => f.id === `src/main.ts#${name}`)!.unresolved
    expect(unresolved('total')).toEqual([])
    expect(unresolved('ship')).toEqual([])
    expect(unresolved('reply')).toEqual([expect.objectContaining({ path: 'args[0]', text: 'Reply', reason: expect.stringContaining('points to ../api/dist/index.d.ts, not there') })])
    expect(functions.every((f) => f.state === 'fresh')).toBe(true)
  })

  it('reads the sources rather than declarations built earlier, which may be stale', async () => {
    web.write('src/main.ts', web.read('src/main.ts').replace('(order: Order): number => order.items.reduce((s, i) => s + i.price, 0)', '(order: Order): number => order.items.length'))
    repo.write('packages/types/dist/index.d.ts', 'export interface Order { items: string[] }\n')
    const rebuilt = await run<App>(await build(web, 'vite', { entry: 'src/main.ts', outDir: 'dist-stale' }))
    expect(rebuilt.total({ items: [{ price: 2 }] })).toBe(1)
    expect(() => rebuilt.total({ items: ['a'] })).toThrow(/args\[0\]\.items\[0\]: expected object, received string/)
  })
})

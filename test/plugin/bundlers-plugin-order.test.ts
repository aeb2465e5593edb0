// Rollup and Rolldown run plugins in the order listed and ignore `enforce`: poet() listed after a TS plugin must still read the types.
import { join } from 'node:path'
import { transform } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LockFile } from '../../src/generators/lock'
import { createProject, FIXTURE_FUNCTIONS, loadPlugin, run, type Project } from '../helpers/project'

/** A TypeScript plugin as users list them (rollup-plugin-esbuild, @rollup/plugin-typescript): types and decorators gone. */
const stripTs = {
  name: 'strip-ts',
  async transform(code: string, id: string) {
    if (!id.endsWith('.ts')) return null
    const out = await transform(code, { loader: 'ts', format: 'esm', target: 'es2022', sourcemap: 'external', sourcefile: id })
    return { code: out.code, map: out.map }
  },
}

interface Fixture {
  priceOrder(order: unknown): number
  Pricing: new (rate: number) => { quote(amount: unknown): number }
  events: { functionId: string }[]
}

describe.each(['rollup', 'rolldown'] as const)('%s with the TS plugin listed before poet()', (bundler) => {
  let project: Project
  let app: Fixture

  beforeAll(async () => {
    project = createProject(`${bundler}-order`)
    const poet = await loadPlugin(project, bundler)
    const file = join(project.dir, `dist-${bundler}`, 'main.mjs')
    const input = {
      input: project.path('src/main.ts'),
      external: (id: string) => id.startsWith('unplugin-poet/'),
      plugins: [stripTs, poet({ root: project.dir })],
    }
    if (bundler === 'rollup') {
      const { rollup } = await import('rollup')
      const bundle = await rollup({ ...input, onwarn: () => {} })
      await bundle.write({ file, format: 'es' })
      await bundle.close()
    } else {
      const { rolldown } = await import('rolldown')
      const bundle = await rolldown({ ...input, cwd: project.dir, platform: 'node', onLog: () => {} })
      await bundle.write({ file, format: 'es' })
      await bundle.close()
    }
    app = await run<Fixture>({ file, map: '', warnings: [] })
  })
  afterAll(() => project.remove())

  it('validates from the TypeScript signature (it saw stripped code and accepted anything)', () => {
    expect(() => app.priceOrder({ items: [{ name: 'tea', price: '3' }] })).toThrow('args[0].items[0].price: expected number, received string')
  })

  it('lowers @poet itself, with the method\'s id (the TS plugin lowered it first, and it ran as "quote" without phases)', () => {
    expect(() => new app.Pricing(2).quote('3')).toThrow('args[0]: expected number, received string')
    expect(app.events.map((e) => e.functionId)).toContain('src/pricing.ts#Pricing.quote')
    expect(Object.keys((JSON.parse(project.read('.poet/lock.json')) as LockFile).functions)).toEqual(FIXTURE_FUNCTIONS)
  })
})

describe('rollup with @rollup/plugin-typescript', () => {
  it('warns that it compiles .ts files in its load hook, before poet() can read their types (the build went on without validation)', async () => {
    const project = createProject('rollup-plugin-typescript')
    try {
      const poet = await loadPlugin(project, 'rollup')
      // Its shape as far as poet is concerned: named `typescript`, emitting JavaScript from `load` (see rollup/plugins'
      // packages/typescript/src/index.ts), so no transform ever sees the TypeScript source.
      const typescript = {
        name: 'typescript',
        async load(id: string) {
          if (!id.endsWith('.ts')) return null
          const { readFileSync } = await import('node:fs')
          return (await transform(readFileSync(id, 'utf8'), { loader: 'ts', format: 'esm', target: 'es2022' })).code
        },
      }
      const warnings: string[] = []
      const { rollup } = await import('rollup')
      const bundle = await rollup({
        input: project.path('src/orders.ts'),
        external: (id) => id.startsWith('unplugin-poet/'),
        onwarn: (w) => void warnings.push(w.message),
        plugins: [poet({ root: project.dir }), typescript],
      })
      await bundle.close()
      const said = warnings.filter((w) => w.includes('@rollup/plugin-typescript'))
      expect(said, warnings.join('\n')).toHaveLength(1)
      expect(said[0]).toContain('compiles .ts files in its load hook')
      expect(said[0]).toContain('rollup-plugin-esbuild')
    } finally {
      project.remove()
    }
  })
})

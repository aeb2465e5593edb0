// The persistent transform cache: a warm build never parses, a changed type file or option misses, a corrupt entry is ignored, output is identical.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { DomainPack } from '../../src/generators/builtin/domain'
import { PoetContext } from '../../src/plugin/context'
import { phaseInputHash } from '../../src/generators'
import { resolveOptions, type Options } from '../../src/plugin/options'
import { build, createProject, PACKAGE_ROOT, run, type Project } from '../helpers/project'

// @babel/parser is CommonJS and src/generators/parser.ts reads `.parse` from this same object on every call:
// wrapping it here counts every parse the plugin makes.
const babel = createRequire(import.meta.url)('@babel/parser') as { parse: (...args: unknown[]) => unknown }
const realParse = babel.parse
let parses = 0
babel.parse = (...args) => {
  parses++
  return realParse(...args)
}
afterAll(() => {
  babel.parse = realParse
})

const ORDER = `import { poet } from 'unplugin-poet/runtime'
import type { Order } from './types'

export const total = poet({ attempts: 2, timeout: 50 })(function total(order: Order): number {
  return order.qty * 2
})
`
const TYPES = 'export interface Order {\n  qty: number\n}\n'

let dir: string
beforeAll(() => {
  mkdirSync(join(PACKAGE_ROOT, 'test/.tmp'), { recursive: true })
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

function project(): { order: string; types: string } {
  dir = mkdtempSync(join(PACKAGE_ROOT, 'test/.tmp/cache-'))
  mkdirSync(join(dir, 'src'))
  writeFileSync(join(dir, 'src/order.ts'), ORDER)
  writeFileSync(join(dir, 'src/types.ts'), TYPES)
  return { order: join(dir, 'src/order.ts'), types: join(dir, 'src/types.ts') }
}

/** One transform by a fresh plugin instance, as a new build process would make it (through the transform hook's path). */
async function transform(file: string, options: Options = {}) {
  const ctx = new PoetContext({ root: dir, ...options })
  const warnings: string[] = []
  const before = parses
  const out = await ctx.transformAsync(readFileSync(file, 'utf8'), file, (m) => warnings.push(m))
  return { out, warnings, parses: parses - before, stats: ctx.cacheStats, spec: ctx.found.values().next().value }
}

const cacheDir = () => join(dir, 'node_modules/.cache/unplugin-poet')

describe('transform cache', () => {
  it('serves a second build from the cache without parsing, with the same code, map, specs, warnings and watch files', async () => {
    const { order, types } = project()
    const cold = await transform(order)
    expect(cold.parses).toBeGreaterThan(0)
    expect(cold.stats).toEqual({ hits: 0, misses: 1, writes: 1 })
    expect(cold.warnings.join('\n')).toContain("'timeout' has no effect on src/order.ts#total")

    const warm = await transform(order)
    expect(warm.parses).toBe(0)
    expect(warm.stats).toEqual({ hits: 1, misses: 0, writes: 0 })
    expect(warm.out!.code).toBe(cold.out!.code)
    expect(JSON.parse(JSON.stringify(warm.out!.map))).toEqual(JSON.parse(JSON.stringify(cold.out!.map)))
    expect(warm.out!.watchFiles).toEqual([types])
    expect(warm.warnings).toEqual(cold.warnings)
    expect(warm.spec).toEqual(cold.spec)
  })

  it('misses when a type file the specs read changes, and the new spec has the new type', async () => {
    const { order, types } = project()
    await transform(order)
    writeFileSync(types, 'export interface Order {\n  qty: number\n  note: string\n}\n')
    const after = await transform(order)
    expect(after.parses).toBeGreaterThan(0)
    expect(after.stats.hits).toBe(0)
    expect(JSON.stringify(after.spec!.types)).toContain('note')
  })

  it('misses when a type file the resolver looked for and did not find appears', async () => {
    const { order, types } = project()
    // './types' first resolves to types.ts; moving it to types/index.ts changes which candidates exist.
    rmSync(types)
    mkdirSync(join(dir, 'src/types'))
    writeFileSync(join(dir, 'src/types/index.ts'), TYPES)
    await transform(order)
    writeFileSync(types, 'export interface Order {\n  qty: string\n}\n')
    const after = await transform(order)
    expect(after.stats.hits).toBe(0)
    expect(after.out!.watchFiles).toEqual([types])
  })

  it('misses when the domain packs change: a domain no longer known fails the build instead of replaying', async () => {
    const { order } = project()
    const acme: DomainPack = { name: 'acme', version: '1', description: 'test pack' }
    writeFileSync(order, ORDER.replace('attempts: 2,', "attempts: 2, domain: 'acme',"))
    expect((await transform(order, { domains: [acme] })).stats.writes).toBe(1)
    await expect(transform(order)).rejects.toThrow(/acme/)
  })

  it('misses when the generator or a pack version changes: the input hash it records is the new one', async () => {
    const { order } = project()
    writeFileSync(order, ORDER.replace('attempts: 2,', "attempts: 2, domain: 'acme',"))
    const v1: DomainPack = { name: 'acme', version: '1', description: 'test pack' }
    const v2: DomainPack = { ...v1, version: '2' }
    const llm: Options['generator'] = { provider: 'openai', model: 'gpt-test', apiKey: 'k' }
    const first = await transform(order, { domains: [v1] })
    const again = await transform(order, { domains: [v1] })
    expect(again.stats.hits).toBe(1)
    expect(again.spec!.inputHash).toBe(first.spec!.inputHash)
    const newPack = await transform(order, { domains: [v2] })
    const newGenerator = await transform(order, { domains: [v1], generator: llm })
    for (const after of [newPack, newGenerator]) {
      expect(after.stats.hits).toBe(0)
      expect(after.spec!.inputHash).not.toBe(first.spec!.inputHash)
    }
    // What was recorded is what hashing the spec now gives.
    expect(newPack.spec!.inputHash).toBe(phaseInputHash(newPack.spec!, { provider: 'builtin' }, v2))
    const { dependencies: _deps, inputHash: _hash, ...spec } = newGenerator.spec!
    expect((await transform(order, { domains: [v1], generator: llm })).spec!.inputHash).toBe(
      phaseInputHash(spec, resolveOptions({ generator: llm }, { root: dir }).generator, v1),
    )
  })

  it('remembers a module that imports the runtime but marks nothing, so a warm build does not parse it either', async () => {
    const { order } = project()
    writeFileSync(order, "import { configure, poet } from 'unplugin-poet/runtime'\nconfigure({ sample: 0.5 })\nexport const later = poet()\n")
    const cold = await transform(order)
    expect(cold.out).toBeNull()
    expect(cold.warnings.join('\n')).toContain('is not applied directly to a function')
    const warm = await transform(order)
    expect(warm.out).toBeNull()
    expect(warm.parses).toBe(0)
    expect(warm.stats).toEqual({ hits: 1, misses: 0, writes: 0 })
    expect(warm.warnings).toEqual(cold.warnings)
  })

  it('ignores a corrupt entry, transforms again and replaces it', async () => {
    const { order } = project()
    const cold = await transform(order)
    const [entry] = readdirSync(cacheDir())
    writeFileSync(join(cacheDir(), entry!), '{"format":1,"file":')
    const again = await transform(order)
    expect(again.parses).toBeGreaterThan(0)
    expect(again.out!.code).toBe(cold.out!.code)
    expect((await transform(order)).stats.hits).toBe(1)
  })

  it('with cache: false, parses every time and writes nothing', async () => {
    const { order } = project()
    await transform(order, { cache: false })
    expect((await transform(order, { cache: false })).parses).toBeGreaterThan(0)
    expect(() => readdirSync(cacheDir())).toThrow(/ENOENT/)
  })
})

describe('transform cache in a real vite build', () => {
  let p: Project
  beforeAll(() => {
    p = createProject('cache-vite')
  })
  afterAll(() => p.remove())

  it('a warm build emits the same bundle as a build without the cache, and it runs', async () => {
    const uncached = await build(p, 'vite', { outDir: 'dist-uncached', options: { cache: false } })
    const cold = await build(p, 'vite', { outDir: 'dist-cold' })
    const warm = await build(p, 'vite', { outDir: 'dist-warm' })
    const bundle = (f: string) => readFileSync(f, 'utf8')
    expect(readdirSync(p.path('node_modules/.cache/unplugin-poet')).length).toBeGreaterThan(0)
    expect(bundle(warm.file)).toBe(bundle(uncached.file))
    expect(bundle(cold.file)).toBe(bundle(uncached.file))
    expect(bundle(warm.map)).toBe(bundle(uncached.map))
    expect(warm.warnings).toEqual(uncached.warnings)
    const mod = await run<{ double: (n: number) => Promise<number> | number }>(warm)
    expect(await mod.double(21)).toBe(42)
  })
})

// What a Vite build with the plugin loads: a warm one (lock and transform cache filled) loads no unplugin, parser, transformer, generator or domain pack.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProject, PACKAGE_ROOT, run, type Project } from '../helpers/project'

// An app's setup module imports the runtime too, without marking anything.
const SETUP = `
import { configure } from 'unplugin-poet/runtime'
configure({ sample: 1 })
`

const SOURCE = `
import { poet } from 'unplugin-poet/runtime'
import './setup'

export const total = poet({ attempts: 1 })(function total(items: { qty: number; price: number }[]): number {
  return items.reduce((sum, it) => sum + it.qty * it.price, 0)
})

export const cleanRows = poet({ domain: 'data_processing' })(function cleanRows(rows: { id: string }[]): { id: string }[] {
  return rows.filter((r) => r.id !== '')
})
`

// One build in a fresh Node process, as \`vite build\` runs: every ES module it loads is reported by a loader hook,
// every CommonJS one (@babel/parser is required) is read from the require cache at the end.
const BUILD_SCRIPT = `
import { createRequire, register } from 'node:module'
register('data:text/javascript,' + encodeURIComponent(
  'export async function load(url, context, next) { process.stderr.write("LOADED " + url + "\\\\n"); return next(url, context) }',
))
const { build } = await import('vite')
const { default: poet } = await import('unplugin-poet/vite')
const plugin = poet()
const transform = plugin.transform.handler
plugin.transform.handler = async function (...args) {
  const out = await transform.apply(this, args)
  if (out?.map) process.stderr.write('MAP ' + args[1] + '\\n')
  return out
}
await build({
  configFile: false,
  root: process.cwd(),
  logLevel: 'silent',
  plugins: [plugin],
  build: { ssr: 'src/startup.ts', outDir: 'dist-startup', minify: false, rolldownOptions: { output: { entryFileNames: 'main.mjs' } } },
})
for (const file of Object.keys(createRequire(import.meta.url).cache)) process.stderr.write('LOADED ' + file + '\\n')
`

/**
 * What one build loaded: package names from node_modules, and the text of each file of this package's dist/; and how
 * many source maps the plugin's transform handed to the bundler.
 */
function buildAndList(project: Project): { packages: Set<string>; plugin: string; maps: number } {
  const out = spawnSync(process.execPath, [project.path('build.mjs')], { cwd: project.dir, encoding: 'utf8' })
  expect(out.status, out.stderr).toBe(0)
  const loaded = out.stderr
    .split('\n')
    .filter((l) => l.startsWith('LOADED '))
    .map((l) => l.slice('LOADED '.length))
    .map((u) => (u.startsWith('file:') ? fileURLToPath(u) : u))
  const packages = new Set(loaded.map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1]).filter((p) => p !== undefined))
  const dist = `${PACKAGE_ROOT}dist/`
  const plugin = loaded.filter((f) => f.startsWith(dist)).map((f) => readFileSync(f, 'utf8')).join('\n')
  return { packages, plugin, maps: out.stderr.split('\n').filter((l) => l.startsWith('MAP ')).length }
}

describe('vite build startup', () => {
  let project: Project
  let cold: ReturnType<typeof buildAndList>
  let warm: ReturnType<typeof buildAndList>

  beforeAll(() => {
    project = createProject('startup')
    project.write('src/startup.ts', SOURCE)
    project.write('src/setup.ts', SETUP)
    project.write('build.mjs', BUILD_SCRIPT)
    cold = buildAndList(project)
    warm = buildAndList(project)
  })
  afterAll(() => project.remove())

  it('loads the parser, transformer and generator for a cold build, which has to generate', () => {
    expect(cold.packages).toContain('@babel/parser')
    expect(cold.packages).toContain('magic-string')
    expect(cold.plugin).toContain('function scanPoetCalls(')
    expect(cold.plugin).toContain('var ValidatorCompiler = class')
  })

  it('loads none of them for a warm build, nor unplugin or the domain packs (a function has one), and its bundle still validates', async () => {
    for (const pkg of ['unplugin', '@babel/parser', 'magic-string']) expect(warm.packages, pkg).not.toContain(pkg)
    expect(warm.plugin).not.toContain('function scanPoetCalls(')
    expect(warm.plugin).not.toContain('var ValidatorCompiler = class')
    expect(warm.plugin).not.toContain('name: "financial_services"')
    // Vite builds without source maps by default: a map per module would only be converted and dropped.
    expect(warm.maps).toBe(0)
    expect(cold.maps).toBe(0)
    const app = await run<{ total(items: unknown): number; cleanRows(rows: unknown): unknown }>({
      file: project.path('dist-startup/main.mjs'),
      map: '',
      warnings: [],
    })
    expect(app.total([{ qty: 2, price: 3 }])).toBe(6)
    expect(app.cleanRows([{ id: 'a' }, { id: '' }])).toEqual([{ id: 'a' }])
    expect(() => app.cleanRows([{ id: 1 }])).toThrow(/args\[0\]\[0\]\.id: expected string, received number/)
    expect(() => app.total([{ qty: '2', price: 3 }])).toThrow(/args\[0\]\[0\]\.qty: expected number, received string/)
  })
})

// Transform fixtures (input → output, specs, warnings, idempotence), source maps, and the transform's edge cases.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { originalPositionFor, TraceMap, type EncodedSourceMap } from '@jridgewell/trace-mapping'
import { describe, expect, it } from 'vitest'
import { DomainRegistry } from '../../src/generators/builtin/domains'
import { POET_CODE_FILTER, transformPoet } from '../../src/plugin/transform'
import { context, fixtureDir, inputFile, updating } from './fixtures'

const root = fixtureDir('transform')

/** Compares `actual` with the stored expected file; writes it only when updating deliberately. */
function expectFile(path: string, actual: string) {
  if (updating) writeFileSync(path, actual)
  else if (!existsSync(path)) throw new Error(`missing ${path}: run with UPDATE_FIXTURES=1 and review the result`)
  expect(actual).toBe(readFileSync(path, 'utf8'))
}

describe('transform fixtures', () => {
  for (const name of readdirSync(root).sort()) {
    const dir = join(root, name)
    const input = inputFile(dir)
    const file = join(dir, input)
    const code = readFileSync(file, 'utf8')

    if (name.startsWith('unchanged-')) {
      it(`${name}: comes back null, so the module stays byte-identical`, () => {
        const warnings: string[] = []
        expect(transformPoet(code, file, context(root, warnings))).toBeNull()
        expect(warnings).toEqual([])
      })
      continue
    }

    if (name.startsWith('unmarked-')) {
      it(`${name}: comes back null, with a warning at each place that hands poet on unmarked`, () => {
        const warnings: string[] = []
        expect(transformPoet(code, file, context(root, warnings))).toBeNull()
        expectFile(join(dir, 'warnings.txt'), warnings.join('\n') + '\n')
      })
      continue
    }

    it(`${name}: rewrites as expected, and a second pass changes nothing`, () => {
      const warnings: string[] = []
      const result = transformPoet(code, file, context(root, warnings))
      expect(result).not.toBeNull()
      expectFile(join(dir, input.replace('input', 'output')), result!.code)
      const specs = result!.specs.map(({ id, name, kind, async, options }) => ({ id, name, kind, async, options }))
      expectFile(join(dir, 'specs.json'), JSON.stringify(specs, null, 2) + '\n')
      const warningsFile = join(dir, 'warnings.txt')
      if (warnings.length || existsSync(warningsFile)) expectFile(warningsFile, warnings.join('\n') + '\n')

      const again: string[] = []
      expect(transformPoet(result!.code, file, context(root, again))).toBeNull()
      // Only calls the plugin cannot rewrite are reported again (one import line lower each); the rest is left alone.
      const notApplied = (ws: string[]) => ws.filter((w) => w.includes('is not applied directly') || w.includes('no generated phases')).length
      expect(again.length).toBe(notApplied(again))
      expect(notApplied(again)).toBe(notApplied(warnings))
    })
  }
})

/** 1-based line, 0-based column of the first occurrence of `needle` (source-map convention). */
function positionOf(text: string, needle: string) {
  const index = text.indexOf(needle)
  if (index < 0) throw new Error(`'${needle}' not found`)
  const before = text.slice(0, index).split('\n')
  return { line: before.length, column: before[before.length - 1]!.length }
}

describe('source map', () => {
  const cases: [string, string][] = [
    ['named-import', 'async (symbol: string)'],
    ['named-import', 'Math.abs(mean(current)'],
    ['option-forms', ')((x: number) => x)\n\nexport const d'],
    ['class-methods', 'return this.base * units'],
    ['class-methods', "'price-of'(units"],
    ['directives', '(name: string)'],
    ['component-vue', 'const props = defineProps'],
    ['component-vue', 'function count(lines'],
    ['component-svelte', 'function double(w'],
  ]
  for (const [name, needle] of cases) {
    it(`${name}: '${needle.split('\n')[0]}' after a rewrite maps back to where it was written`, () => {
      const dir = join(root, name)
      const file = join(dir, inputFile(dir))
      const code = readFileSync(file, 'utf8')
      const result = transformPoet(code, file, context(root))!
      const map = new TraceMap(result.map as unknown as EncodedSourceMap)
      const generated = positionOf(result.code, needle)
      const original = positionOf(code, needle)
      // A component's rewrite moves nothing the user wrote (its framework would not map it back); a module's moves
      // what follows an insertion.
      if (name.startsWith('component-')) expect(generated).toEqual(original)
      else expect(generated).not.toEqual(original)
      expect(originalPositionFor(map, generated)).toEqual({ source: file, name: null, ...original })
    })
  }

  it('embeds the original source', () => {
    const dir = join(root, 'named-import')
    const file = join(dir, inputFile(dir))
    const code = readFileSync(file, 'utf8')
    const { map } = transformPoet(code, file, context(root))!
    expect(map.sources).toEqual([file])
    expect(map.sourcesContent).toEqual([code])
  })
})

describe('transformPoet', () => {
  const file = join(root, 'inline/src/report.ts')

  it('never parses a module without the runtime import (a syntax error there goes unnoticed)', () => {
    expect(transformPoet('export const broken = poet()((', file, context(root))).toBeNull()
    expect(POET_CODE_FILTER.test('export const broken = poet()((')).toBe(false)
    expect(POET_CODE_FILTER.test("import { poet } from 'unplugin-poet/runtime'")).toBe(true)
  })

  it("reads the tsconfig.json governing a module's functions once, however many it holds", () => {
    const config = join(root, 'inline/tsconfig.json')
    const read: string[] = []
    const ctx = {
      ...context(root),
      readFile: (abs: string) => {
        read.push(abs)
        return abs === config ? '{ "compilerOptions": { "exactOptionalPropertyTypes": true } }' : undefined
      },
    }
    const fn = (i: number) => `export const f${i} = poet()(function f${i}(o: { nick?: string }, t: [string, number?]): number { return ${i} })`
    const code = ["import { poet } from 'unplugin-poet/runtime'", ...[0, 1, 2, 3].map(fn), ''].join('\n')
    const result = transformPoet(code, file, ctx)!
    expect(result.specs).toHaveLength(4)
    // Each function's optional members follow the option (a present nick must be a string)...
    for (const spec of result.specs) expect(JSON.stringify(spec.params)).toContain('"exact":true')
    // ...looked up once: each directory from the module's up to the config, each once.
    const lookups = read.filter((f) => f.endsWith('tsconfig.json'))
    expect(lookups, JSON.stringify(read)).toEqual([...new Set(lookups)])
    expect(lookups).toContain(config)
  })

  it('builds specs with resolved types, including types from relatively imported files', () => {
    const types = join(root, 'inline/src/types.ts')
    const read: string[] = []
    const ctx = {
      ...context(root),
      readFile: (abs: string) => {
        read.push(abs)
        return abs === types ? 'export interface Report { drift: boolean; score: number }\n' : undefined
      },
    }
    const code = [
      "import { poet } from 'unplugin-poet/runtime'",
      "import type { Report } from './types'",
      '',
      "export const detect = poet({ domain: 'ml_monitoring' })(",
      '  async (current: number[], label?: string): Promise<Report> => ({ drift: current.length > 0, score: 0 }),',
      ')',
      '',
    ].join('\n')
    const result = transformPoet(code, file, ctx)!
    expect(read).toContain(types)
    expect(result.dependencies).toEqual([types])
    const [spec] = result.specs
    expect(spec).toMatchObject({
      id: 'inline/src/report.ts#detect',
      file,
      name: 'detect',
      kind: 'function',
      async: true,
      options: { domain: 'ml_monitoring' },
      signature: '(current: number[], label?: string): Promise<Report>',
      source: 'async (current: number[], label?: string): Promise<Report> => ({ drift: current.length > 0, score: 0 })',
      unresolved: [],
    })
    expect(spec!.params).toEqual([
      { name: 'current', type: { kind: 'array', element: { kind: 'number' } }, optional: false, rest: false },
      { name: 'label', type: { kind: 'string' }, optional: true, rest: false },
    ])
    // The return type is the awaited Report, resolved from the other file.
    const returned = spec!.returns.kind === 'ref' ? spec!.types[spec!.returns.name] : spec!.returns
    expect(returned).toMatchObject({ kind: 'objectType', properties: [{ name: 'drift' }, { name: 'score' }] })
  })

  it('takes a method spec from the method itself, without its decorators', () => {
    const code = [
      "import { poet } from 'unplugin-poet/runtime'",
      'export class Pricing {',
      "  @poet({ domain: 'financial_services' })",
      '  static async quote(units: number): Promise<number> {',
      '    return units * 2',
      '  }',
      '}',
    ].join('\n')
    const [spec] = transformPoet(code, file, context(root))!.specs
    expect(spec).toMatchObject({
      id: 'inline/src/report.ts#Pricing.quote',
      kind: 'method',
      async: true,
      source: 'static async quote(units: number): Promise<number> {\n    return units * 2\n  }',
      params: [{ name: 'units', type: { kind: 'number' } }],
      returns: { kind: 'number' },
    })
  })

  it('ignores a bundler query string in the id and the import keys', () => {
    const code = "import { poet } from 'unplugin-poet/runtime'\nexport const f = poet()((x: number) => x)\n"
    const result = transformPoet(code, `${file}?v=3f2a`, context(root))!
    expect(result.specs[0]!.id).toBe('inline/src/report.ts#f')
    expect(result.specs[0]!.file).toBe(file)
    expect(result.code).toContain("from 'virtual:poet/inline~2fsrc~2freport.ts~23f';")
  })

  it('numbers new phase bindings above the ones an earlier pass left', () => {
    const code = [
      "import __poet_phases_0 from 'virtual:poet/inline~2fsrc~2freport.ts~23f';",
      "import { poet } from 'unplugin-poet/runtime'",
      'export const f = poet(undefined, __poet_phases_0)((x: number) => x)',
      'export const g = poet()((x: number) => x)',
    ].join('\n')
    const result = transformPoet(code, file, context(root))!
    expect(result.specs.map((s) => s.id)).toEqual(['inline/src/report.ts#g'])
    expect(result.code).toContain('export const g = poet(undefined, __poet_phases_1)((x: number) => x)')
    expect(result.code).toContain("import __poet_phases_1 from 'virtual:poet/inline~2fsrc~2freport.ts~23g';")
  })

  it('gives functions sharing a name and a line their column too', () => {
    const code = "import { poet } from 'unplugin-poet/runtime'\nexport const f = poet()(() => 1); { const f = poet()(() => 2) }\n"
    expect(transformPoet(code, file, context(root))!.specs.map((s) => s.name)).toEqual(['f@2:18', 'f@2:47'])
  })
})

describe('Vue and Svelte components', () => {
  const vue = join(root, 'inline/src/Cart.vue')
  const svelte = join(root, 'inline/src/Badge.svelte')
  const read = (name: string) => {
    const dir = join(root, name)
    const file = join(dir, inputFile(dir))
    return { file, code: readFileSync(file, 'utf8') }
  }

  it('keeps every line and column of the component where it was: callees renamed in place, the rest after the last statement of their block', () => {
    for (const name of ['component-vue', 'component-svelte', 'component-plain-js']) {
      const { file, code } = read(name)
      const out = transformPoet(code, file, context(root))!.code.split('\n')
      const lines = code.split('\n')
      expect(out.length).toBe(lines.length)
      lines.forEach((line, i) => {
        const kept = out[i]!.slice(0, line.length).replace(/(?<![\w$])_p(?:oet)?\d+_*(?=\()/g, (renamed, at: number) => line.slice(at, at + renamed.length))
        expect(kept).toBe(line)
      })
    }
  })

  it('keeps the lines and columns of a component whose class methods carry @poet, alone or beside another decorator', () => {
    const file = join(root, 'inline/src/Methods.vue')
    const code = [
      '<script setup lang="ts">',
      "import { poet as p } from 'unplugin-poet/runtime'",
      'const logged = (f: unknown) => f',
      'class Pricing {',
      '  @p({ attempts: 1 })',
      '  quote(n: number): number { return n * 2 }',
      '  @logged @p() other(n: number): number { return n + 1 }',
      '}',
      'const result = new Pricing().quote(2)',
      '</script>',
      '',
    ].join('\n')
    const result = transformPoet(code, file, context(root))!
    expect(result.code.split('\n').length).toBe(code.split('\n').length)
    const map = new TraceMap(result.map as unknown as EncodedSourceMap)
    for (const needle of ['quote(n', 'return n * 2', 'other(n', 'return n + 1', 'new Pricing']) {
      const at = positionOf(code, needle)
      expect(positionOf(result.code, needle)).toEqual(at)
      expect(originalPositionFor(map, at)).toEqual({ source: file, name: null, ...at })
    }
    expect(transformPoet(result.code, file, context(root))).toBeNull()
  })

  it('keeps the lines of a component whose poet callee spans two lines, passing its phases as a second argument there', () => {
    const file = join(root, 'inline/src/Split.svelte')
    const code = "<script lang=\"ts\">\nimport * as rt from 'unplugin-poet/runtime'\nconst twice = rt\n  .poet()(function twice(n: number): number { return n * 2 })\n</script>\n"
    const result = transformPoet(code, file, context(root))!
    expect(result.code.split('\n').length).toBe(code.split('\n').length)
    expect(result.code).toContain('const twice = rt\n  .poet(undefined, __poet_phases_0)(function twice(')
    const map = new TraceMap(result.map as unknown as EncodedSourceMap)
    expect(originalPositionFor(map, positionOf(result.code, 'return n * 2'))).toEqual({ source: file, name: null, ...positionOf(code, 'return n * 2') })
  })

  it('gives every poet call of a component a name of its callee\'s length, for a one-letter alias and past ten calls of a three-letter one', () => {
    const file = join(root, 'inline/src/Many.svelte')
    const calls = Array.from({ length: 12 }, (_, i) => `export const f${i} = poe()(function f${i}(n: number): number { return n + ${i} })`)
    const code = [
      '<script lang="ts">',
      "import { poet as poe, poet as p } from 'unplugin-poet/runtime'",
      'const _p0 = 1',
      ...calls,
      'export const g = p()(function g(n: number): number { return n }), h = p()(function h(n: number): number { return n })',
      '</script>',
      '',
    ].join('\n')
    const result = transformPoet(code, file, context(root))!
    const lines = code.split('\n')
    result.code.split('\n').forEach((line, i) => expect(line.slice(0, lines[i]!.length).replace(/[\w$]+(?=\(\)\()/g, (name) => ['', 'p', '', 'poe'][name.length] || name)).toBe(lines[i]))
    const names = [...result.code.matchAll(/function ([\w$]+)\(o = \{\}\)/g)].map((m) => m[1]!)
    expect(names).toHaveLength(14)
    expect(new Set(names).size).toBe(14)
    expect(names).not.toContain('_p0')
    expect(transformPoet(result.code, file, context(root))).toBeNull()
  })

  it("reads the types of a function from every script block: Vue's <script> declares what <script setup> uses, Svelte's module script what its instance uses", () => {
    const { file, code } = read('component-vue')
    const count = transformPoet(code, file, context(root))!.specs.find((s) => s.name === 'count')!
    expect(count.unresolved).toEqual([])
    expect(JSON.stringify(count.types)).toContain('"qty"')
    const other = read('component-svelte')
    const convert = transformPoet(other.code, other.file, context(root))!.specs.find((s) => s.name === 'convert')!
    expect(convert.unresolved).toEqual([])
    expect(JSON.stringify(convert.types)).toContain('"lb"')
  })

  it('reads types a component imports from another component', () => {
    const child = [
      '<script lang="ts">',
      'export interface Line { sku: string; qty: number }',
      '</script>',
      '<script setup lang="ts">',
      "import type { Line } from './Other.vue'",
      'defineProps<{ line: Line }>()',
      '</script>',
      '<template><p>{{ line.sku }}</p></template>',
      '',
    ].join('\n')
    const code = [
      '<script setup lang="ts">',
      "import { poet } from 'unplugin-poet/runtime'",
      "import type { Line } from './Child.vue'",
      'const qty = poet()((line: Line): number => line.qty)',
      '</script>',
      '',
    ].join('\n')
    const childFile = join(root, 'inline/src/Child.vue')
    const result = transformPoet(code, vue, { ...context(root), readFile: (abs) => (abs === childFile ? child : undefined) })!
    expect(result.specs[0]!.unresolved).toEqual([])
    expect(JSON.stringify(result.specs[0]!.types)).toContain('"sku"')
    expect(result.dependencies).toEqual([childFile])
  })

  it('warns once about poet() in a template or markup expression, at its place in the component', () => {
    const code = [
      '<script setup lang="ts">',
      "import { poet as mark } from 'unplugin-poet/runtime'",
      'const f = mark()((n: number) => n)',
      '</script>',
      '',
      '<template>',
      '  <p title="a mark (of respect)">The mark (or poet) of a poet (1795–1821)</p>',
      '  <p>{{ mark()((n: number) => n + 1)(2) }}</p>',
      '  <p>{{ mark()((n: number) => n + 2)(2) }}</p>',
      '</template>',
      '',
    ].join('\n')
    const warnings: string[] = []
    expect(transformPoet(code, vue, context(root, warnings))!.specs.map((s) => s.id)).toEqual(['inline/src/Cart.vue#f'])
    expect(warnings).toEqual([
      'inline/src/Cart.vue:8:9: poet() in a template or markup expression is not transformed: the framework compiles it ' +
        'after this plugin ran, so it would run with the runtime policy only, without generated validation. Mark the ' +
        'function with poet() in the script block and call it from here.',
    ])
    const markup = `<script>\n  import * as rt from 'unplugin-poet/runtime'\n</script>\n\n{rt.poet()((x) => x)(1)}\n`
    const svelteWarnings: string[] = []
    expect(transformPoet(markup, svelte, context(root, svelteWarnings))).toBeNull()
    expect(svelteWarnings).toEqual([expect.stringMatching(/^inline\/src\/Badge\.svelte:5:2: poet\(\) in a template or markup expression/)])
    const directive = `<script setup>\nimport { poet } from 'unplugin-poet/runtime'\n</script>\n<template><button @click="poet()(go)()">go</button></template>\n`
    const directiveWarnings: string[] = []
    expect(transformPoet(directive, vue, context(root, directiveWarnings))).toBeNull()
    expect(directiveWarnings).toEqual([expect.stringMatching(/^inline\/src\/Cart\.vue:4:27: poet\(\) in a template/)])
  })

  it('says that a script block in another language is not scanned, and leaves the rest of the component alone', () => {
    const code = `<script lang="coffee">\nimport { poet } from 'unplugin-poet/runtime'\n</script>\n\n<template><p>hi</p></template>\n`
    const warnings: string[] = []
    expect(transformPoet(code, vue, context(root, warnings))).toBeNull()
    expect(warnings).toEqual([
      'inline/src/Cart.vue:1:23: this <script lang="coffee"> block is not scanned for poet(): only TypeScript and ' +
        'JavaScript blocks (lang "ts", "tsx", "js", "jsx", or none) are. Its poet functions run with the runtime policy ' +
        'only, without generated validation.',
    ])
  })

  it("takes a page script in Svelte's <svelte:head> that is not a module for what it is, not for a poet error", () => {
    const code = [
      '<script module lang="ts">',
      "  import { poet } from 'unplugin-poet/runtime'",
      '  export const half = poet()((n: number): number => n / 2)',
      '</script>',
      '',
      '<svelte:head>',
      '  <script>{"@context": "https://schema.org"}</script>',
      '</svelte:head>',
      '',
    ].join('\n')
    expect(transformPoet(code, svelte, context(root))!.specs.map((s) => s.id)).toEqual(['inline/src/Badge.svelte#half'])
  })

  it('leaves a component alone when only a comment, a style or a <script src> mentions the runtime', () => {
    const code = [
      "<!-- <script setup lang=\"ts\">import { poet } from 'unplugin-poet/runtime'; poet()(function f() {})</script> -->",
      '<script setup lang="ts" src="./cart.ts"></script>',
      "<style>p::after { content: \"import { poet } from 'unplugin-poet/runtime'\" }</style>",
      '',
    ].join('\n')
    const warnings: string[] = []
    expect(transformPoet(code, vue, context(root, warnings))).toBeNull()
    expect(warnings).toEqual([])
  })
})

describe('domains come from the registry the plugin was given', () => {
  const file = join(root, 'inline/src/pay.ts')
  const code = "import { poet } from 'unplugin-poet/runtime'\nexport const pay = poet({ domain: 'financial_services:payments' })((cents: number) => cents)\n"

  it('accepts a custom pack registered through the domains option', () => {
    const pack = { name: 'financial_services:payments', version: '1', description: 'card payments', parent: 'financial_services' }
    const result = transformPoet(code, file, { ...context(root), domains: new DomainRegistry([pack]) })!
    expect(result.specs[0]!.options).toEqual({ domain: 'financial_services:payments' })
  })

  it('rejects it, saying how to register it, when it is not registered', () => {
    expect(() => transformPoet(code, file, context(root))).toThrow(
      'inline/src/pay.ts:2:35: unknown domain "financial_services:payments". A custom pack extending ' +
        '"financial_services" must be passed to the plugin\'s `domains` option. [POET_UNKNOWN_DOMAIN]',
    )
  })

  it("suggests the registry's names, custom packs included, as the registry itself does", () => {
    const pack = { name: 'financial_services:payments', version: '1', description: 'card payments', parent: 'financial_services' }
    const domains = new DomainRegistry([pack])
    const typo = code.replace('financial_services:payments', 'financial_services:payment')
    expect(() => transformPoet(typo, file, { ...context(root), domains })).toThrow(
      `inline/src/pay.ts:2:35: ${domains.unknownMessage('financial_services:payment').replace(/^poet: /, '')} [POET_UNKNOWN_DOMAIN]`,
    )
    expect(() => transformPoet(typo, file, { ...context(root), domains })).toThrow(
      'unknown domain "financial_services:payment" — did you mean "financial_services:payments"? Known domains: ml_monitoring,',
    )
  })
})

describe('function ids', () => {
  const file = join(root, 'inline/src/ids.tsx')
  const ids = (code: string, warnings: string[] = []) => transformPoet(code, file, context(root, warnings))!.specs.map((s) => s.name)

  it('do not move with their line: a function without a name of its own is named by what holds it', () => {
    const code = readFileSync(join(root, 'context-names/input.tsx'), 'utf8')
    const moved = code.replace('export function makeLoader', '// a comment\n\n/** and its doc */\nexport function makeLoader')
    const warnings: string[] = []
    expect(ids(moved, warnings)).toEqual(ids(code))
    expect(warnings).toEqual([])
  })

  it('given in the code stay as they were: a name from a place steps aside for one the code gives', () => {
    const code = [
      "import { poet } from 'unplugin-poet/runtime'",
      'export const handlers = [poet()((a: number) => a), poet()((a: number) => a)]',
      'export function make() {',
      '  const handlers = poet()((a: number) => a)',
      '  return handlers',
      '}',
    ].join('\n')
    expect(ids(code)).toEqual(['handlers.1', 'handlers.2', 'handlers'])
  })

  it('keep their line where nothing around names them, and the build says so once per module, with the cure', () => {
    const code = "import { poet } from 'unplugin-poet/runtime'\n;[poet()(() => 1), poet()(() => 2)].map((f) => f())\nvoid poet()(() => 3)\n"
    const warnings: string[] = []
    expect(ids(code, warnings)).toEqual(['anonymous@2:3', 'anonymous@2:20', 'anonymous@3'])
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('inline/src/ids.tsx#anonymous@2:3, inline/src/ids.tsx#anonymous@2:20 and inline/src/ids.tsx#anonymous@3')
    expect(warnings[0]).toContain('poet()(function name(')
  })
})

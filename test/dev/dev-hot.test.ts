// The dev transform that makes poet function bodies hot-swappable: its output, which modules accept their own updates, exact source maps, and the stable functions it hands out.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { originalPositionFor, TraceMap, type EncodedSourceMap } from '@jridgewell/trace-mapping'
import { describe, expect, it } from 'vitest'
import { hotExports, hotExportsChange, hotModule, hotSwappable } from '../../src/plugin/dev-hot'
import { transformPoet } from '../../src/plugin/transform'
import { poet } from '../../src/runtime'
import { context, fixtureDir, inputFile } from '../plugin/fixtures'
import { PACKAGE_ROOT } from './app'

const root = fixtureDir('transform')
const file = join(root, 'inline/src/units.ts')

/** The dev output of `code`: the plugin's transform, then the hot-swap wrapping the dev server adds. */
function devTransform(code: string, at = file) {
  const base = transformPoet(code, at, context(root))!
  return { base, ...hotSwappable(base.code, base.map, at) }
}

const header = "import { poet } from 'unplugin-poet/runtime'\n"

describe('dev transform', () => {
  it('wraps each poet call so that its function stays one object across edits, and a module of poet functions accepts itself', () => {
    const code = `${header}\nexport const scale = poet({ attempts: 1 })(function scale(n: number): number {\n  return n * 2\n})\n`
    const out = devTransform(code)
    expect(out.code).toContain(
      'export const scale = __poet_hot(import.meta.hot, "inline~2fsrc~2funits.ts~23scale", poet({ attempts: 1 }, __poet_phases_0))(function scale',
    )
    expect(out.code.endsWith(`\nimport { hot as __poet_hot } from "virtual:poet/~~hot"\nif (import.meta.hot) import.meta.hot.accept()\n`)).toBe(true)
    expect(out.exports).toBe('scale=inline~2fsrc~2funits.ts~23scale')
    // The build's output is the same as before, but for the insertions.
    expect(out.code.replace(/__poet_hot\(import\.meta\.hot, "[^"]+", /g, '').replace(/__poet_phases_0\)\)/, '__poet_phases_0)')).toBe(
      out.base.code + `\nimport { hot as __poet_hot } from "virtual:poet/~~hot"\nif (import.meta.hot) import.meta.hot.accept()\n`,
    )
  })

  it('leaves a module to Vite when it exports anything but poet functions: it still wraps, but does not accept itself', () => {
    const code = `${header}\nexport const LABEL = 'v1'\nexport const shout = poet()((s: string): string => s.toUpperCase())\n`
    const out = devTransform(code)
    expect(out.code).toContain('__poet_hot(import.meta.hot, "inline~2fsrc~2funits.ts~23shout", poet(undefined, __poet_phases_0))')
    expect(out.code).not.toContain('accept(')
    expect(out.exports).toBeUndefined()
  })

  it('leaves a module without rewritten calls untouched', () => {
    const code = `${header}\nimport { other } from './other'\nexport const wrapped = poet()(other)\n`
    const base = { code, map: { version: 3, file: undefined, sources: [], sourcesContent: [], names: [], mappings: '' } as never }
    expect(hotSwappable(base.code, base.map, file)).toEqual({ ...base, exports: undefined })
  })

  const accepting: [string, string, string | undefined][] = [
    ['a default export', 'export default poet()(function (n: number) { return n })', 'default=inline~2fsrc~2funits.ts~23default'],
    ['renamed exports', 'const a = poet()((n: number) => n)\nconst b = poet()((n: number) => n)\nexport { a as one, b }', 'b=inline~2fsrc~2funits.ts~23b one=inline~2fsrc~2funits.ts~23a'],
    ['a default export of a poet const', 'const a = poet()((n: number) => n)\nexport default a', 'default=inline~2fsrc~2funits.ts~23a'],
    ['type-only exports beside', "export type Unit = 'C' | 'F'\nexport interface R { v: number }\nexport type { R as Q }\nexport const a = poet()((r: R) => r.v)", 'a=inline~2fsrc~2funits.ts~23a'],
    ['a declared function applied by name', 'function f(n: number) { return n }\nexport const g = poet()(f)', 'g=inline~2fsrc~2funits.ts~23g'],
    ['a poet const beside a plain export', 'export const a = poet()((n: number) => n)\nexport const b = 1', undefined],
    ['a let', 'export let a = poet()((n: number) => n)', undefined],
    ['an exported function', 'export const a = poet()((n: number) => n)\nexport function f() {}', undefined],
    ['a class with a poet method', 'export class C {\n  @poet() m(n: number) { return n }\n}', undefined],
    ['a re-export', "export const a = poet()((n: number) => n)\nexport { x } from './x'", undefined],
    ['a star re-export', "export const a = poet()((n: number) => n)\nexport * from './x'", undefined],
    ['an enum', 'export const a = poet()((n: number) => n)\nexport enum E { A }', undefined],
    ['no exports at all', 'const a = poet()((n: number) => n)\na(1)', undefined],
  ]
  for (const [what, body, exports] of accepting) {
    it(`${exports ? 'accepts' : 'does not accept'} its own updates with ${what}`, () => {
      const out = devTransform(`${header}\n${body}\n`)
      expect(out.exports).toBe(exports)
      expect(out.code.includes('import.meta.hot.accept()')).toBe(exports !== undefined)
      expect(hotExports(out.base.code, file)).toBe(exports)
    })
  }

  it('says why an edit ends the hot swap of a module', () => {
    const before = hotExports(devTransform(`${header}\nexport const a = poet()((n: number) => n)\nexport const b = poet()((n: number) => n)\n`).base.code, file)!
    const after = (body: string) => hotExports(devTransform(`${header}\n${body}\n`).base.code, file)
    expect(hotExportsChange(before, after('export const a = poet()((n: number) => n)\nexport const c = poet()((n: number) => n)'))).toBe(
      'it no longer exports b; it now exports c',
    )
    expect(hotExportsChange(before, after('export const a = poet()((n: number) => n)\nconst d = poet()((n: number) => n)\nexport { d as b }'))).toBe(
      'b is now inline/src/units.ts#d',
    )
    expect(hotExportsChange(before, after('export const a = poet()((n: number) => n)\nexport const b = 2'))).toBe(
      'it now exports something other than poet functions',
    )
  })

  it('wraps a lowered @poet method and a @poet beside other decorators', () => {
    const code = `${header}\nfunction log(m: unknown) { return m }\nclass C {\n  @poet() a(n: number) { return n }\n  @log @poet() b(n: number) { return n }\n}\nexport const c = new C()\n`
    const out = devTransform(code)
    expect(out.code).toContain('value: __poet_hot(import.meta.hot, "inline~2fsrc~2funits.ts~23C.a", poet(undefined, __poet_phases_0))(this.prototype["a"])')
    expect(out.code).toContain('@log @__poet_hot(import.meta.hot, "inline~2fsrc~2funits.ts~23C.b", poet(undefined, __poet_phases_1)) b(')
  })
})

describe('dev transform source maps', () => {
  /** Identifiers written once in `code` and found once in `out`, with where they are in each. */
  function uniqueWords(code: string, out: string) {
    const count = (text: string, word: string) => text.split(new RegExp(`(?<![\\w$])${word.replace(/\$/g, '\\$')}(?![\\w$])`)).length - 1
    const words = new Set(code.match(/[A-Za-z_$][\w$]{2,}/g) ?? [])
    return [...words].filter((w) => count(code, w) === 1 && count(out, w) === 1)
  }
  function position(text: string, word: string) {
    const index = new RegExp(`(?<![\\w$])${word.replace(/\$/g, '\\$')}(?![\\w$])`).exec(text)!.index
    const before = text.slice(0, index).split('\n')
    return { line: before.length, column: before[before.length - 1]!.length }
  }

  // A Vue or Svelte component is not made hot-swappable: its framework's plugin compiles it and updates it.
  // `unchanged-` and `unmarked-` fixtures come back null: there is no rewrite to map.
  for (const name of readdirSync(root).sort().filter((n) => !n.startsWith('unchanged-') && !n.startsWith('unmarked-') && !n.startsWith('component-'))) {
    it(`${name}: every word maps back exactly as in the build's transform, after the hot-swap insertions`, () => {
      const dir = join(root, name)
      const at = join(dir, inputFile(dir))
      const code = readFileSync(at, 'utf8')
      const out = devTransform(code, at)
      const map = new TraceMap(out.map as unknown as EncodedSourceMap)
      const baseMap = new TraceMap(out.base.map as unknown as EncodedSourceMap)
      const words = uniqueWords(code, out.code)
      expect(words.length).toBeGreaterThan(2)
      let written = 0
      for (const word of words) {
        const mapped = originalPositionFor(map, position(out.code, word))
        expect({ word, ...mapped }).toEqual({ word, ...originalPositionFor(baseMap, position(out.base.code, word)) })
        // Options of a lowered @poet are written back as JSON: those words are the plugin's text, not the user's.
        if (mapped.line === position(code, word).line && mapped.column === position(code, word).column) written++
      }
      expect(written).toBeGreaterThan(words.length / 2)
    })
  }

  it('shifts what follows each insertion on its line, two calls on one line and options over several lines included', () => {
    const code =
      `${header}\nexport const p = poet()((x: number) => x + alpha), q = poet()((y: number) => y + beta)\n` +
      `export const r = poet({\n  attempts: 1,\n})((z: number) => z + gamma)\nconst alpha = 1, beta = 2, gamma = 3\n`
    const out = devTransform(code)
    const map = new TraceMap(out.map as unknown as EncodedSourceMap)
    for (const word of ['alpha', 'beta', 'gamma', 'attempts']) {
      expect(originalPositionFor(map, position(out.code, word))).toEqual({ source: file, name: null, ...position(code, word) })
    }
    expect(position(out.code, 'gamma').column).toBeGreaterThan(position(out.base.code, 'gamma').column)
    expect(position(out.code, 'beta').column - position(out.base.code, 'beta').column).toBeGreaterThan(position(out.code, 'alpha').column - position(out.base.code, 'alpha').column)
  })
})

describe('the hot module', () => {
  /** The module as the page runs it, imported from a file: a fresh instance each time. */
  async function load(): Promise<{ hot: (meta: unknown, key: string, decorate: ReturnType<typeof poet>) => ReturnType<typeof poet> }> {
    const tmp = join(PACKAGE_ROOT, 'test/.tmp')
    mkdirSync(tmp, { recursive: true })
    const dir = mkdtempSync(join(tmp, 'hot-'))
    try {
      writeFileSync(join(dir, 'hot.mjs'), hotModule())
      return await import(pathToFileURL(join(dir, 'hot.mjs')).href)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  /** What Vite gives each evaluation of one module: a new `import.meta.hot`, sharing that module's `data`. */
  const evaluation = (data: Record<string, unknown>) => ({ data })

  it('hands out one function per key across evaluations, which runs the newest body through poet', async () => {
    const { hot } = await load()
    const data = {}
    const first = hot(evaluation(data), 'k', poet({ attempts: 1 }))(function scale(n: number) {
      return n * 2
    })
    expect(first(2)).toBe(4)
    expect(first.name).toBe('scale')
    const second = hot(evaluation(data), 'k', poet({ attempts: 1 }))(function scale(n: number) {
      return n * 3
    })
    expect(second).toBe(first)
    expect(first(2)).toBe(6)
    // Another key is another function; another module (its own data) starts afresh.
    const other = hot(evaluation(data), 'j', poet())((n: number) => n)
    expect(other).not.toBe(first)
    expect(hot(evaluation({}), 'k', poet())((n: number) => n)).not.toBe(first)
  })

  it('keeps `this`, errors and async results of the body', async () => {
    const { hot } = await load()
    const data = {}
    const fail = hot(evaluation(data), 'e', poet({ attempts: 1 }))(() => {
      throw new RangeError('out of range')
    })
    expect(() => fail()).toThrow(RangeError)
    const obj = { base: 10, add: hot(evaluation(data), 'm', poet({ attempts: 1 }))(function (this: { base: number }, n: number) {
      return this.base + n
    }) }
    expect(obj.add(1)).toBe(11)
    const later = hot(evaluation(data), 'a', poet({ attempts: 1 }))(async (n: number) => n + 1)
    await expect(later(1)).resolves.toBe(2)
  })

  it('works as a method decorator, legacy and standard, and old instances run the new method body', async () => {
    const { hot } = await load()
    const data = {}
    const define = (factor: number) => {
      class C {
        m(n: number) {
          return n * factor
        }
      }
      const d = Object.getOwnPropertyDescriptor(C.prototype, 'm')!
      Object.defineProperty(C.prototype, 'm', hot(evaluation(data), 'C.m', poet({ attempts: 1 }))(C.prototype, 'm', d) as PropertyDescriptor)
      return C
    }
    const before = new (define(2))()
    expect(before.m(1)).toBe(2)
    const after = new (define(5))()
    expect(after.m(1)).toBe(5)
    expect(before.m(1)).toBe(5)
    const standard = hot(evaluation(data), 'C.s', poet())((n: number) => n + 1, { kind: 'method', name: 's' } as never) as unknown as (n: number) => number
    expect(standard(1)).toBe(2)
  })

  it('passes the decorator through where there is no HMR (ssrLoadModule, a build that kept it)', async () => {
    const { hot } = await load()
    const decorate = poet()
    expect(hot(undefined, 'k', decorate)).toBe(decorate)
  })
})

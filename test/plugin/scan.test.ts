// Random modules mixing every import form, marked form, shadowed use and unrelated code: exactly the marked functions are found.
import { transformSync } from 'esbuild'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { transformPoet } from '../../src/plugin/transform'
import { context } from './fixtures'

type ImportForm = 'named' | 'alias' | 'namespace'
type Snippet = 'arrow' | 'function' | 'identifier' | 'methods' | 'shadowed' | 'unrelated'

const header: Record<ImportForm, string> = {
  named: "import { poet } from 'unplugin-poet/runtime'",
  alias: "import { poet as reliable } from 'unplugin-poet/runtime'",
  namespace: "import * as rt from 'unplugin-poet/runtime'",
}
const callee: Record<ImportForm, string> = { named: 'poet', alias: 'reliable', namespace: 'rt.poet' }

/** One snippet's source and the function names it marks. */
function snippet(kind: Snippet, i: number, form: ImportForm): [string, string[]] {
  const P = callee[form]
  switch (kind) {
    case 'arrow':
      return [`export const f${i} = ${P}({ attempts: 2 })((x: number) => x + ${i})`, [`f${i}`]]
    case 'function':
      return [`export const g${i} = ${P}()(async function g${i}(s: string): Promise<string> {\n  return s\n})`, [`g${i}`]]
    case 'identifier':
      return [`function h${i}(a: number) {\n  return a\n}\nexport const hh${i} = ${P}()(h${i})`, [`hh${i}`]]
    case 'methods':
      return [
        `export class C${i} {\n  @${P}() m(x: number) {\n    return x\n  }\n\n  @${P}({ attempts: 1 })\n  static s(x: number) {\n    return x\n  }\n}`,
        [`C${i}.m`, `C${i}.s`],
      ]
    case 'shadowed': {
      const local = form === 'namespace' ? 'rt' : P
      return [`export function k${i}(${local}: any) {\n  return ${P}()((x: number) => x)\n}`, []]
    }
    case 'unrelated':
      return [`export const u${i} = [1, 2, 3].map((n) => n * ${i})`, []]
  }
}

const modules = fc.record({
  form: fc.constantFrom<ImportForm>('named', 'alias', 'namespace'),
  snippets: fc.array(fc.constantFrom<Snippet>('arrow', 'function', 'identifier', 'methods', 'shadowed', 'unrelated'), {
    minLength: 1,
    maxLength: 8,
  }),
})

describe('scan on random modules', () => {
  it('marks exactly the functions of non-shadowed poet uses, in order; output is valid and a second pass is null', () => {
    fc.assert(
      fc.property(modules, ({ form, snippets }) => {
        const parts = snippets.map((s, i) => snippet(s, i, form))
        const code = [header[form], ...parts.map(([src]) => src)].join('\n\n') + '\n'
        const expected = parts.flatMap(([, names]) => names.map((n) => `src/m.ts#${n}`))
        const result = transformPoet(code, '/p/src/m.ts', context('/p'))
        if (expected.length === 0) {
          expect(result).toBeNull()
          return
        }
        expect(result!.specs.map((s) => s.id)).toEqual(expected)
        expect(result!.code.match(/^import __poet_phases_\d+ from 'virtual:poet\/[\w.~-]+';$/gm)).toHaveLength(expected.length)
        // Valid TypeScript for any downstream tool, and nothing left for a second pass.
        expect(() => transformSync(result!.code, { loader: 'ts', target: 'node20' })).not.toThrow()
        expect(transformPoet(result!.code, '/p/src/m.ts', context('/p'))).toBeNull()
      }),
      { numRuns: 150 },
    )
  })
})

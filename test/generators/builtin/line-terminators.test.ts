// Names and type texts from the source that hold line breaks (U+2028 and U+2029 too, which end a JavaScript line) stay inside the comments of the generated module.
import { afterEach, describe, expect, it } from 'vitest'
import { renderPhaseModule } from '../../../src/generators/render'
import { phasesFor, perceive, importModule } from './harness'

/** What a broken-out comment would run: a flag on globalThis, so a test sees it. */
const RAN = '__poetCommentRan'
const ran = () => (globalThis as Record<string, unknown>)[RAN]
afterEach(() => {
  delete (globalThis as Record<string, unknown>)[RAN]
})

const POLICY = { attempts: 1, timeout: 1000, backoff: { initial: 1, max: 1, factor: 2, jitter: false }, retryOn: 'any', repair: false, sample: 1 } as const

/** `text` as a TypeScript string literal written with escapes, so the fixture source itself holds no raw break. */
const ts = (text: string) => JSON.stringify(text).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')

describe('generated comments with line terminators from the source', () => {
  for (const [label, brk] of [
    ['U+2028', '\u2028'],
    ['U+2029', '\u2029'],
    ['a newline', '\n'],
    ['a carriage return', '\r'],
  ] as const) {
    const evil = `x${brk}globalThis.${RAN} = 1 //`

    it(`a property name holding ${label} is checked, and nothing of it runs`, async () => {
      const m = await phasesFor(`interface A { ${ts(evil)}: number }\nexport function f(a: A) { return 1 }`, 'f')
      expect(perceive(m, [{ [evil]: 1 }])).toBeUndefined()
      expect(perceive(m, [{ [evil]: 'one' }])).toHaveLength(1)
      expect(ran()).toBeUndefined()
    })

    it(`a string literal type holding ${label} is checked, and nothing of it runs`, async () => {
      const m = await phasesFor(`export function f(a: ${ts(evil)} | "y") { return 1 }`, 'f')
      expect(perceive(m, [evil])).toBeUndefined()
      expect(perceive(m, ['z'])).toHaveLength(1)
      expect(ran()).toBeUndefined()
    })

    it(`a discriminant property holding ${label} picks the member, and nothing of it runs`, async () => {
      const m = await phasesFor(`type U = { ${ts(evil)}: "a"; v: number } | { ${ts(evil)}: "b"; w: string }\nexport function f(u: U) { return 1 }`, 'f')
      expect(perceive(m, [{ [evil]: 'a', v: 1 }])).toBeUndefined()
      expect(perceive(m, [{ [evil]: 'b', w: 1 }])).toHaveLength(1)
      expect(ran()).toBeUndefined()
    })

    it(`a generic argument holding ${label} is checked, and nothing of it runs`, async () => {
      const m = await phasesFor(`interface Box<T> { v: T }\nexport function f(b: Box<${ts(evil)}>) { return 1 }`, 'f')
      expect(perceive(m, [{ v: evil }])).toBeUndefined()
      expect(perceive(m, [{ v: 'z' }])).toHaveLength(1)
      expect(ran()).toBeUndefined()
    })

    it(`a function id holding ${label} (a file name) stays in the header`, async () => {
      const id = `src/${evil}.ts#f`
      const m = await importModule(renderPhaseModule(id, { generator: 'builtin', policy: POLICY }).source)
      expect(m.id).toBe(id)
      expect(ran()).toBeUndefined()
    })
  }

  it('a template literal type written over two lines builds and is checked', async () => {
    const m = await phasesFor('type T = `a\nb-${number}`\nexport function f(t: T) { return 1 }', 'f')
    expect(perceive(m, ['a\nb-1'])).toBeUndefined()
    expect(perceive(m, ['ab-1'])).toHaveLength(1)
  })
})

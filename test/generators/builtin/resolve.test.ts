import { describe, expect, it } from 'vitest'
import { parse } from '@babel/parser'
import { unresolvedReport } from '../../../src/generators/builtin'
import { resolveSignature } from '../../../src/generators/builtin/resolve'
import { parseTs, perceive, phasesFor, resolveIn } from './harness'
import type { FunctionNode } from '../../../src/generators/builtin/resolve'

const FILES = {
  '/project/src/models.ts': `
export interface Money { amount: number; currency: string }
export type Id = string
export enum Side { Buy = 'buy', Sell = 'sell' }
interface Hidden { x: number }
`,
  '/project/src/barrel/index.ts': `
export * from '../models.js'
export { Money as Price, type Id as Key } from '../models'
export type { Leg } from './leg'
`,
  '/project/src/barrel/leg.ts': `
import type { Money } from '../models.js'
export interface Leg { price: Money; qty: number }
`,
  '/project/src/types.d.ts': `
export interface Declared { when: Date }
`,
}

describe('resolveSignature', () => {
  it('follows relative imports: import type, .js specifiers, index files, re-exports and renames', () => {
    const r = resolveIn(
      `import type { Money } from './models.js'
       import { Price, Key, Side, Leg } from './barrel'
       import type { Declared } from './types'
       function f(a: Money, b: Price, c: Key, d: Side, e: Leg, g: Declared) {}`,
      'f',
      { files: FILES },
    )
    expect(r.unresolved).toEqual([{ path: 'result', text: '', reason: 'no return type annotation' }])
    expect(r.params.map((p) => p.type)).toEqual([
      { kind: 'ref', name: 'Money' },
      { kind: 'ref', name: 'Money' },
      { kind: 'ref', name: 'Id' },
      { kind: 'ref', name: 'Side' },
      { kind: 'ref', name: 'Leg' },
      { kind: 'ref', name: 'Declared' },
    ])
    expect(r.types.Leg).toEqual({
      kind: 'objectType',
      name: 'Leg',
      properties: [
        { name: 'price', type: { kind: 'ref', name: 'Money' }, optional: false },
        { name: 'qty', type: { kind: 'number' }, optional: false },
      ],
    })
    expect(r.types.Side).toEqual({ kind: 'enum', name: 'Side', members: [{ name: 'Buy', value: 'buy' }, { name: 'Sell', value: 'sell' }] })
    expect(r.dependencies).toEqual(['/project/src/barrel/index.ts', '/project/src/barrel/leg.ts', '/project/src/models.ts', '/project/src/types.d.ts'])
  })

  it('follows namespaces a barrel re-exports (export * as models), also through a namespace import', () => {
    const files = {
      ...FILES,
      '/project/src/index.ts': `export * as models from './models'\nimport * as barrel from './barrel'\nexport { barrel }\n`,
    }
    const r = resolveIn(
      `import type { models, barrel } from './index'
       import type * as root from './index'
       function f(a: models.Money, b: root.models.Side, c: barrel.Leg, d: models.Nope) {}`,
      'f',
      { files },
    )
    expect(r.params.map((p) => p.type)).toEqual([
      { kind: 'ref', name: 'Money' },
      { kind: 'ref', name: 'Side' },
      { kind: 'ref', name: 'Leg' },
      { kind: 'unknown', reason: '"Nope" is not exported by models', text: 'models.Nope' },
    ])
  })

  it('reports an overloaded function whose implementation signature says any: its overloads are not what is checked', () => {
    const code = `export function parse(input: string): number
       export function parse(input: number[]): number
       export function parse(input: any): any { return 1 }
       function precise(input: string): number
       function precise(input: string | number[]): number { return 1 }
       class K {
         static m(a: string): string
         static m(a: any) { return a }
         m(a: any) { return a }
       }`
    const reason = 'an overloaded function is checked against its implementation signature, not its overloads'
    expect(resolveIn(code, 'parse').unresolved).toEqual([
      { path: 'args[0]', text: 'any', reason },
      { path: 'result', text: 'any', reason },
    ])
    expect(resolveIn(code, 'precise').unresolved).toEqual([])
    const ast = parseTs(code)
    const methods: FunctionNode[] = []
    const visit = (n: unknown): void => {
      if (!n || typeof n !== 'object') return
      if ((n as { type?: string }).type === 'ClassMethod') methods.push(n as FunctionNode)
      for (const v of Object.values(n)) if (v && typeof v === 'object') Array.isArray(v) ? v.forEach(visit) : visit(v)
    }
    visit(ast.program)
    const [overloaded, plain] = methods.map((fn) => resolveSignature({ file: '/project/src/main.ts', code, ast, fn, readFile: () => undefined }).unresolved)
    expect(overloaded).toContainEqual({ path: 'args[0]', text: 'any', reason })
    // The instance method of the same name has no overloads: its `any` is the author's choice.
    expect(plain!.map((u) => u.reason)).not.toContain(reason)
  })

  it('reports what it cannot resolve, with machine-readable reasons', () => {
    const r = resolveIn(
      `import type { Ext } from 'some-package'
       import type { Nope } from './missing'
       import type { Hidden } from './models'
       type Cond<T> = T extends string ? 1 : 2
       function f<T>(a: T, b: Ext, c: Nope, d: Hidden, e: Cond<string>, g: { [K in 'a']: 1 }, h: typeof Math, i: Map<string, number>, j) {}`,
      'f',
      { files: FILES },
    )
    expect(r.unresolved.map((u) => [u.path, u.text, u.reason])).toEqual([
      ['args[0]', 'T', 'generic type parameter T'],
      ['args[1]', 'Ext', 'type from package "some-package"'],
      ['args[2]', 'Nope', 'cannot find module "./missing" from /project/src/main.ts'],
      ['args[3]', 'Hidden', '"Hidden" is not exported by "./models"'],
      ['Cond', 'T extends string ? 1 : 2', 'conditional types are not resolved'],
      ['args[5]', "{ [K in 'a']: 1 }", 'mapped types are not resolved (only Partial, Required, Readonly, Pick, Omit, Record)'],
      ['args[6]', 'typeof Math', 'Math is not a const of this file or a relative import'],
      ['args[7]', 'Map<string, number>', 'Map is a built-in class, which is not checked (TypeScript checks it by its members)'],
      ['args[8]', 'j', 'no type annotation'],
      ['result', '', 'no return type annotation'],
    ])
    expect(unresolvedReport([{ id: 'a.ts#f', unresolved: r.unresolved.slice(0, 1) }])).toEqual([
      { id: 'a.ts#f', path: 'args[0]', text: 'T', reason: 'generic type parameter T' },
    ])
  })

  it('merges interface declarations and inherits from extended interfaces', () => {
    const r = resolveIn(
      `interface Base { id: string; note?: string }
       interface Named { name: string }
       interface User extends Base, Named { age: number; note: string }
       interface User { admin?: boolean }
       function f(u: User) {}`,
      'f',
    )
    const user = r.types.User
    expect(user?.kind === 'objectType' && user.properties.map((p) => `${p.name}${p.optional ? '?' : ''}`)).toEqual(['id', 'note', 'name', 'age', 'admin?'])
  })

  it('applies Partial, Required, Pick, Omit, Readonly, keyof and indexed access to resolvable types', async () => {
    const m = await phasesFor(
      `interface P { a: number; b?: string; c: boolean }
       function f(x: Partial<P>, y: Required<P>, z: Pick<P, 'a' | 'b'>, w: Omit<P, 'a'>, k: keyof P, t: P['b']) {}`,
      'f',
    )
    expect(perceive(m, [{}, { a: 1, b: 'x', c: true }, { a: 1 }, { c: false }, 'c', undefined])).toBeUndefined()
    expect(perceive(m, [{ a: 'x' }, { a: 1, c: true }, { b: 'x' }, {}, 'd', 1])).toEqual([
      { path: 'args[0].a', expected: 'number', received: 'string' },
      { path: 'args[1].b', expected: 'string', received: 'undefined' },
      { path: 'args[2].a', expected: 'number', received: 'undefined' },
      { path: 'args[3].c', expected: 'boolean', received: 'undefined' },
      { path: 'args[4]', expected: '"a" | "b" | "c"', received: '"d"' },
      { path: 'args[5]', expected: 'string | undefined', received: 'number' },
    ])
  })

  it('instantiates generic declarations with their type arguments, and defaults', async () => {
    const m = await phasesFor(
      `interface Box<T> { value: T }
       type Pair<A, B = A> = [A, B]
       type List<T> = { head: T; tail: List<T> | null }
       function f(a: Box<number>, b: Box<string[]>, c: Pair<boolean>, d: List<string>) {}`,
      'f',
    )
    expect(m.spec.unresolved.filter((u) => u.path !== 'result')).toEqual([])
    expect(perceive(m, [{ value: 1 }, { value: ['x'] }, [true, false], { head: 'a', tail: { head: 'b', tail: null } }])).toBeUndefined()
    expect(perceive(m, [{ value: 'x' }, { value: [1] }, [true, 1], { head: 'a', tail: { head: 2, tail: null } }])).toEqual([
      { path: 'args[0].value', expected: 'number', received: 'string' },
      { path: 'args[1].value[0]', expected: 'string', received: 'number' },
      { path: 'args[2][1]', expected: 'boolean', received: 'number' },
      { path: 'args[3].tail.head', expected: 'string', received: 'number' },
    ])
  })

  it('evaluates enum members: auto-increment, const enums, computed constants', () => {
    const r = resolveIn(
      `const enum Bits { None, A = 1 << 0, B = 1 << 1, AB = A | B, Next }
       enum Words { Hello = 'hel' + 'lo', Neg = -3, After }
       function f(a: Bits, b: Words) {}`,
      'f',
    )
    expect(r.types.Bits).toMatchObject({ members: [{ value: 0 }, { value: 1 }, { value: 2 }, { value: 3 }, { value: 4 }] })
    expect(r.types.Words).toMatchObject({ members: [{ value: 'hello' }, { value: -3 }, { value: -2 }] })
  })

  it('reads the signature: optional, default, rest, destructured and `this` parameters, async and Promise returns', () => {
    const code = `class C { async m(this: C, a: number, b = 'x', c?: boolean, { d }: { d: string } = { d: '' }, ...e: number[]): Promise<string[]> { return [] } }`
    const r = resolveIn(code, 'm')
    expect(r.signature).toBe(`(this: C, a: number, b = 'x', c?: boolean, { d }: { d: string } = { d: '' }, ...e: number[]): Promise<string[]>`)
    expect(r.async).toBe(true)
    expect(r.returns).toEqual({ kind: 'array', element: { kind: 'string' } })
    expect(r.params.map((p) => [p.name, p.type.kind, p.optional, p.rest])).toEqual([
      ['a', 'number', false, false],
      ['b', 'string', true, false],
      ['c', 'boolean', true, false],
      ['arg3', 'objectType', true, false],
      ['e', 'array', false, true],
    ])
    expect(resolveIn(`const o = { n(): PromiseLike<number> { return null! } }`, 'n')).toMatchObject({ async: true, returns: { kind: 'number' } })
    expect(resolveIn(`const g = (x: number): number => x`, 'g')).toMatchObject({ async: false, returns: { kind: 'number' } })
  })

  it('never follows a local Promise or Date declaration as the builtin', () => {
    const r = resolveIn(`interface Date { day: number }\nfunction f(d: Date) {}`, 'f')
    expect(r.types.Date).toMatchObject({ kind: 'objectType', properties: [{ name: 'day' }] })
  })

  it('reads the file system by default', () => {
    const file = new URL('./fixtures/resolve/main.ts', import.meta.url).pathname
    const code = `import type { Item } from './item.js'\nexport function f(i: Item) {}`
    const ast = parse(code, { sourceType: 'module', plugins: ['typescript'] })
    const fn = ast.program.body[1]!
    if (fn.type !== 'ExportNamedDeclaration' || fn.declaration?.type !== 'FunctionDeclaration') throw new Error('fixture shape')
    const r = resolveSignature({ file, code, ast, fn: fn.declaration })
    expect(r.types.Item).toMatchObject({ kind: 'objectType', properties: [{ name: 'sku', type: { kind: 'string' } }] })
    expect(r.dependencies).toEqual([file.replace('main.ts', 'item.ts')])
  })
})

describe('resolveSignature: generics in scope', () => {
  it('treats type parameters of enclosing classes and functions as generics', () => {
    const r = resolveIn(`class Repo<T> { save(item: T, n: number) {} }`, 'save')
    expect(r.params[0]!.type).toEqual({ kind: 'unknown', reason: 'generic type parameter T', text: 'T' })
    expect(r.params[1]!.type).toEqual({ kind: 'number' })
  })
})

describe('resolveSignature on real code', () => {
  it('resolves every function of this repository without throwing, and every result compiles', async () => {
    const { readdirSync, readFileSync } = await import('node:fs')
    const { join } = await import('node:path')
    const { generateBuiltin } = await import('../../../src/generators/builtin')
    const root = new URL('../../../src/', import.meta.url).pathname
    const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => /\.tsx?$/.test(f)).map((f) => join(root, f))
    let functions = 0
    for (const file of files) {
      const code = readFileSync(file, 'utf8')
      const ast = parse(code, { sourceType: 'module', plugins: ['typescript', 'decorators'] })
      const visit = (node: unknown): void => {
        if (!node || typeof node !== 'object') return
        const n = node as { type?: string }
        if (n.type && /^(FunctionDeclaration|FunctionExpression|ArrowFunctionExpression|ClassMethod|ObjectMethod)$/.test(n.type)) {
          const r = resolveSignature({ file, code, ast, fn: n as Parameters<typeof resolveSignature>[0]['fn'] })
          const spec = { id: `${file}#${functions}`, file, name: 'f', kind: 'function' as const, async: r.async, params: r.params, returns: r.returns, types: r.types, options: {}, source: '', signature: r.signature, unresolved: r.unresolved }
          const parts = generateBuiltin(spec)
          // Syntax check only (never run): the generated bodies must parse as JavaScript.
          parse(`${parts.helpers}\nfunction perceive(args, ctx) {\n${parts.perceive ?? ''}\n}\nfunction enforce(result, ctx) {\n${parts.enforce ?? ''}\n}`, { sourceType: 'module' })
          functions++
        }
        for (const [k, child] of Object.entries(node)) {
          if (k === 'loc' || k.endsWith('Comments')) continue
          if (Array.isArray(child)) child.forEach(visit)
          else if (child && typeof child === 'object') visit(child)
        }
      }
      visit(ast.program)
    }
    expect(functions).toBeGreaterThan(100)
  })
})

describe('resolveSignature: generators', () => {
  it('does not call an async generator async (it returns its iterator at once) and leaves its result unchecked', () => {
    const r = resolveIn(`async function* stream(n: number) { yield n }`, 'stream')
    expect(r.async).toBe(false)
    expect(r.returns).toEqual({ kind: 'unknown', reason: 'generator function' })
  })
})

describe('resolveSignature: declared top types', () => {
  it('does not report `unknown` or `any` the user wrote as unresolved', () => {
    const r = resolveIn(`function f(a: unknown, b: any): unknown { return a }`, 'f')
    expect(r.unresolved).toEqual([])
    expect(r.returns).toEqual({ kind: 'unknown' })
  })
})

describe('resolveSignature: keys through aliases', () => {
  it('expands Record and Pick keys that mix aliases, enums and literals', () => {
    const r = resolveIn(
      `enum Side { Buy = 'buy', Sell = 'sell' }
       type Extra = 'fee'
       interface P { a: number; b: string; c: boolean }
       type AB = 'a' | 'b'
       function f(r: Record<Side | Extra | 'x', number>, p: Pick<P, AB | 'c'>) {}`,
      'f',
    )
    expect(r.params[0]!.type).toMatchObject({ kind: 'objectType', properties: [{ name: 'buy' }, { name: 'sell' }, { name: 'fee' }, { name: 'x' }] })
    expect(r.params[1]!.type).toMatchObject({ kind: 'objectType', properties: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] })
  })
})

describe('resolveSignature: rest parameters', () => {
  it('reports a rest parameter typed as a tuple, which is not checked', async () => {
    const m = await phasesFor(`function f(a: number, ...rest: [string, number]) {}`, 'f')
    expect(m.spec.unresolved).toContainEqual({ path: 'args[1]', text: '...rest: [string, number]', reason: 'rest parameters are checked only when typed as arrays' })
    expect(perceive(m, [1, 2, 'x'])).toBeUndefined()
    expect(perceive(m, ['x'])).toEqual([{ path: 'args[0]', expected: 'number', received: 'string' }])
  })
})

import { describe, expect, it } from 'vitest'
import { generateBuiltin, inlineRuntimeHelpers, resolvePolicy, unresolvedReport } from '../../../src/generators/builtin'
import { addIssue, addIssueReceived, collapseIssues, describeValue, literalText } from '../../../src/runtime'
import { enforce, importModule, perceive, phasesFor, specFor } from './harness'

const ORDER = `
function place(order: { id: string; items: { sku: string; price: number; qty?: number }[]; note?: string }, priority: 'low' | 'high'): boolean {
  return true
}`

describe('generateBuiltin: first cut', () => {
  it('accepts valid arguments and lists every issue with its path', async () => {
    const m = await phasesFor(ORDER, 'place')
    expect(perceive(m, [{ id: 'a', items: [{ sku: 'x', price: 1 }, { sku: 'y', price: 2, qty: 3 }] }, 'low'])).toBeUndefined()
    expect(
      perceive(m, [{ id: 7, items: [{ sku: 'x', price: 1 }, { sku: 'y', price: 2 }, { sku: 'z', price: '3', qty: 'many' }], note: null }, 'urgent']),
    ).toEqual([
      { path: 'args[0].id', expected: 'string', received: 'number' },
      { path: 'args[0].items[2].price', expected: 'number', received: 'string' },
      { path: 'args[0].items[2].qty', expected: 'number', received: 'string' },
      { path: 'args[0].note', expected: 'string', received: 'null' },
      { path: 'args[1]', expected: '"low" | "high"', received: '"urgent"' },
    ])
  })

  it('checks missing arguments', async () => {
    const m = await phasesFor('function f(a: string, b: number, c?: boolean) {}', 'f')
    expect(perceive(m, ['x'])).toEqual([{ path: 'args[1]', expected: 'number', received: 'undefined' }])
    expect(perceive(m, ['x', 1])).toBeUndefined()
    expect(perceive(m, ['x', 1, 'yes'])).toEqual([{ path: 'args[2]', expected: 'boolean', received: 'string' }])
  })

  it('checks the awaited result of async functions and Promise<T> returns', async () => {
    const m = await phasesFor('async function f(): Promise<{ total: number; lines: string[] }> { return null! }', 'f')
    expect(m.spec.async).toBe(true)
    expect(enforce(m, { total: 1, lines: ['a'] })).toBeUndefined()
    expect(enforce(m, { total: NaN, lines: ['a', 2] })).toEqual([{ path: 'result.lines[1]', expected: 'string', received: 'number' }])
    expect(enforce(m, 'nope')).toEqual([{ path: 'result', expected: 'object', received: 'string' }])
    const plain = await phasesFor('function g(): Promise<number[]> { return null! }', 'g')
    expect(plain.spec.async).toBe(true)
    expect(enforce(plain, [1, 'x'])).toEqual([{ path: 'result[1]', expected: 'number', received: 'string' }])
  })

  it('reads unions of primitives and nullable members well', async () => {
    const m = await phasesFor('function f(a: string | number, b: number | null, c: Array<boolean | undefined>) {}', 'f')
    expect(perceive(m, [true, 'x', [true, undefined, 0]])).toEqual([
      { path: 'args[0]', expected: 'string | number', received: 'boolean' },
      { path: 'args[1]', expected: 'number | null', received: 'string' },
      { path: 'args[2][2]', expected: 'boolean | undefined', received: 'number' },
    ])
  })

  it('bounds the issue list to the first 20', async () => {
    const m = await phasesFor('function f(xs: number[]) {}', 'f')
    const issues = perceive(m, [Array.from({ length: 100 }, () => 'x')])!
    expect(issues).toHaveLength(20)
    expect(issues[19]).toEqual({ path: 'args[0][19]', expected: 'number', received: 'string' })
  })

  it('accepts what it cannot resolve, and says so in the spec', async () => {
    const m = await phasesFor(`import type { Big } from 'big-lib'\nfunction f(a: Big, b: number): Map<string, number> { return null! }`, 'f')
    expect(perceive(m, [Symbol('anything'), 1])).toBeUndefined()
    expect(perceive(m, [1, 'x'])).toEqual([{ path: 'args[1]', expected: 'number', received: 'string' }])
    expect(m.enforce).toBeUndefined()
    expect(unresolvedReport([m.spec])).toEqual([
      { id: 'src/main.ts#f', path: 'args[0]', text: 'Big', reason: 'type from package "big-lib"' },
      { id: 'src/main.ts#f', path: 'result', text: 'Map<string, number>', reason: 'Map is a built-in class, which is not checked (TypeScript checks it by its members)', brief: 'built-in Map not checked' },
    ])
  })

  it('emits readable straight-line code with a comment per checked type, and no eval', async () => {
    const m = await phasesFor(ORDER, 'place')
    expect(m.source).toContain('// args[0] (order): object')
    expect(m.source).toContain('// price: number')
    expect(m.source).toContain(`// args[1] (priority): "low" | "high"`)
    expect(m.source).not.toMatch(/\beval\b|new Function/)
    expect(m.generator).toBe('builtin')
  })

  it('imports the shared issue helpers from the runtime instead of declaring them in every module', async () => {
    const m = await phasesFor(ORDER, 'place')
    expect(m.source).toContain('import { describeValue as describe, addIssueReceived as addReceived, addIssue as add, collapseIssues as collapse, addUnreadable as unreadable, literalText as literal } from "unplugin-poet/runtime"')
    expect(m.source).not.toMatch(/function (describe|addReceived|add|collapse|literal|unreadable)\(/)
    expect(perceive(m, [{ id: 'o', items: 'none' }, 'urgent'])).toEqual([
      { path: 'args[0].items', expected: 'object[]', received: 'string' },
      { path: 'args[1]', expected: '"low" | "high"', received: '"urgent"' },
    ])
  })

  it('builds no path strings on the happy path', async () => {
    const m = await phasesFor(ORDER, 'place')
    // Every path concatenation sits in the argument list of an issue-recording call.
    for (const line of m.source.split('\n').filter((l) => l.includes('"[" + '))) expect(line).toMatch(/add(Received)?\(|nest\(/)
  })
})

describe('unresolvedReport', () => {
  it('lists every unresolved type of every function, keyed by function id', () => {
    const a = specFor(`import type { X } from 'x'\nfunction a(v: X): number { return 1 }`, 'a')
    const b = specFor(`function b(v: number): number { return v }`, 'b')
    const c = specFor(`function c<T>(v: T, w: Map<string, T>): void {}`, 'c')
    expect(unresolvedReport([a, b, c])).toEqual([
      { id: 'src/main.ts#a', path: 'args[0]', text: 'X', reason: 'type from package "x"' },
      { id: 'src/main.ts#c', path: 'args[0]', text: 'T', reason: 'generic type parameter T' },
      { id: 'src/main.ts#c', path: 'args[1]', text: 'Map<string, T>', reason: 'Map is a built-in class, which is not checked (TypeScript checks it by its members)', brief: 'built-in Map not checked' },
    ])
    expect(JSON.parse(JSON.stringify(unresolvedReport([c])))).toEqual(unresolvedReport([c]))
  })
})

describe('resolvePolicy', () => {
  it('fills every default', () => {
    expect(resolvePolicy({})).toEqual({
      attempts: 3,
      timeout: 30000,
      backoff: { initial: 100, max: 5000, factor: 2, jitter: true },
      retryOn: 'any',
      repair: false,
      sample: 1,
    })
  })

  it('puts options over the pack policy over the defaults', () => {
    const pack = { name: 'p', version: '1', description: 'd', policy: { attempts: 5, timeout: 1000, retryOn: 'transient' as const, backoff: { initial: 50, max: 5000, factor: 3, jitter: false } } }
    expect(resolvePolicy({ timeout: 200, backoff: { max: 900 }, repair: true, sample: 0.5 }, pack)).toEqual({
      attempts: 5,
      timeout: 200,
      backoff: { initial: 50, max: 900, factor: 3, jitter: false },
      retryOn: 'transient',
      repair: true,
      sample: 0.5,
    })
  })

  it('lets a child pack override its parent', () => {
    const parent = { name: 'a', version: '1', description: 'd', policy: { attempts: 5, timeout: 1000 } }
    const child = { name: 'a:b', version: '1', description: 'd', parent: 'a', policy: { attempts: 2 } }
    expect(resolvePolicy({}, [parent, child])).toMatchObject({ attempts: 2, timeout: 1000 })
  })

  it('is what generateBuiltin puts in the phase parts', () => {
    const spec = specFor('function f(a: number) {}', 'f', { options: { attempts: 1 } })
    expect(generateBuiltin(spec).policy.attempts).toBe(1)
  })
})

describe('inlineRuntimeHelpers', () => {
  const VALUES: unknown[] = [null, undefined, NaN, Infinity, -Infinity, 1, 'x', 'y'.repeat(40), true, 3n, [], {}, new Date(0), new Date(NaN), Symbol('s'), () => 0, new Map(), new Set(), new Int8Array(1), new DataView(new ArrayBuffer(1))]

  it('declares in place helpers that behave exactly like the runtime ones (for the LLM sandbox)', async () => {
    const { helpers } = generateBuiltin(specFor(ORDER, 'place'))
    const inline = inlineRuntimeHelpers(helpers!)
    expect(inline).not.toContain('import')
    const m = (await importModule(`${inline}\nexport default { describe, addReceived, add, collapse, literal }`)) as unknown as Record<string, (...a: unknown[]) => unknown>
    for (const v of VALUES) {
      expect(m.describe!(v)).toBe(describeValue(v))
      expect(m.literal!(v)).toBe(literalText(v))
      expect(m.add!(undefined, 'p', 'number', v, 'r')).toEqual(addIssue(undefined, 'p', 'number', v, 'r'))
    }
    const many = (add: (...a: unknown[]) => unknown) => {
      let issues: unknown
      for (let i = 0; i < 25; i++) issues = add(issues, `p${i}`, 'string', i)
      return issues
    }
    expect(many(m.add!)).toEqual(many(addIssue as (...a: unknown[]) => unknown))
    expect((many(m.add!) as unknown[]).length).toBe(20)
    expect(m.addReceived!(undefined, 'p', 'x', '3 elements')).toEqual(addIssueReceived(undefined, 'p', 'x', '3 elements'))
    const inner = () => [{ path: 'a', expected: 'x', received: 'y' }, { path: 'b', expected: 'x', received: 'y' }]
    expect(m.collapse!(inner(), 1, 'p', 'T', 'v')).toEqual(collapseIssues(inner(), 1, 'p', 'T', 'v'))
    expect(m.collapse!(inner(), 0, 'p', 'T', 'v')).toEqual(collapseIssues(inner(), 0, 'p', 'T', 'v'))
  })

  it('leaves helpers without the runtime import as they are, and refuses an import it does not know', () => {
    expect(inlineRuntimeHelpers('const learned = {}')).toBe('const learned = {}')
    expect(() => inlineRuntimeHelpers('import { poet as add } from "unplugin-poet/runtime"\n')).toThrow('unknown runtime helper import "poet as add"')
  })
})

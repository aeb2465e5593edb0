import { describe, expect, it } from 'vitest'
import type { DomainPack } from '../../../src/generators/builtin/domain'
import { compileValidator } from '../../../src/generators/builtin/compile'
import { enforce, perceive, phasesFor } from './harness'
import { evaluate, tscVerdicts } from './oracle'

describe('compiled validators: messages', () => {
  it('gives one issue naming the discriminant of a discriminated union', async () => {
    const m = await phasesFor(
      `type Shape = { kind: 'circle'; r: number } | { kind: 'square'; side: number }
       function area(s: Shape) {}`,
      'area',
    )
    expect(perceive(m, [{ kind: 'circle', r: 1 }])).toBeUndefined()
    expect(perceive(m, [{ kind: 'triangle', r: 1 }])).toEqual([{ path: 'args[0].kind', expected: '"circle" | "square"', received: '"triangle"' }])
    expect(perceive(m, [{ kind: 'square', r: 1 }])).toEqual([{ path: 'args[0].side', expected: 'number', received: 'undefined' }])
    expect(perceive(m, ['circle'])).toEqual([{ path: 'args[0]', expected: 'Shape', received: 'string' }])
  })

  it('names the union when no member fits, and reports the closest member otherwise', async () => {
    const m = await phasesFor(`interface Point { x: number; y: number }\nfunction f(v: string | Point | number[]) {}`, 'f')
    expect(perceive(m, [true])).toEqual([{ path: 'args[0]', expected: 'string | Point | number[]', received: 'boolean' }])
    expect(perceive(m, [{ x: 1, y: '2' }])).toEqual([{ path: 'args[0].y', expected: 'number', received: 'string' }])
    expect(perceive(m, [[1, 'x']])).toEqual([{ path: 'args[0][1]', expected: 'number', received: 'string' }])
  })

  it('reads literal, Date, tuple, template and enum mismatches well', async () => {
    const m = await phasesFor(
      `enum Level { Low = 1, High = 10 }
       function f(a: 'a' | 'b', d: Date, t: [string, number], id: \`id-\${number}\`, l: Level, n: bigint | null) {}`,
      'f',
    )
    expect(perceive(m, ['a', new Date(0), ['x', 1], 'id-7', 10, 5n])).toBeUndefined()
    expect(perceive(m, ['c', '2024-01-01', ['x', 1, 2], 'id-x', NaN, 5])).toEqual([
      { path: 'args[0]', expected: '"a" | "b"', received: '"c"' },
      { path: 'args[1]', expected: 'Date', received: 'string' },
      { path: 'args[2]', expected: '[string, number]', received: '3 elements' },
      { path: 'args[3]', expected: '`id-${number}`', received: '"id-x"' },
      // Stricter than TypeScript on purpose: it lets any `number` (NaN included) into a numeric enum.
      { path: 'args[4]', expected: 'Level (1 | 10)', received: 'NaN' },
      { path: 'args[5]', expected: 'bigint | null', received: 'number' },
    ])
  })

  it('does not show long strings it received', async () => {
    const m = await phasesFor(`function f(a: 'yes' | 'no') {}`, 'f')
    expect(perceive(m, ['x'.repeat(100)])).toEqual([{ path: 'args[0]', expected: '"yes" | "no"', received: 'a string of 100 characters' }])
  })

  it('tells a missing required property from one set to undefined when the type allows undefined', async () => {
    const m = await phasesFor(`function f(o: { a: number | undefined; b?: string }) {}`, 'f')
    expect(perceive(m, [{ a: undefined }])).toBeUndefined()
    expect(perceive(m, [{}])).toEqual([{ path: 'args[0].a', expected: 'number | undefined', received: 'missing' }])
  })

  it('formats odd keys and index-signature keys in paths', async () => {
    const m = await phasesFor(`function f(o: { 'odd key': number; [k: string]: number }) {}`, 'f')
    expect(perceive(m, [{ 'odd key': 'x', good: 1, 'bad-key': 'y', ok_2: null }])).toEqual([
      { path: 'args[0]["odd key"]', expected: 'number', received: 'string' },
      { path: 'args[0]["bad-key"]', expected: 'number', received: 'string' },
      { path: 'args[0].ok_2', expected: 'number', received: 'null' },
    ])
  })

  it('quotes every key a dot would misread, and cuts a key past 100 characters, so a message stays readable and bounded', async () => {
    const m = await phasesFor(`function f(o: Record<string, number>) {}`, 'f')
    const long = 'k'.repeat(1_000_000)
    const keys = ['a.b', 'with space', 'ü', '__proto__', '0', '1e3', '', 'a"b', 'line\nbreak', long, 'x'.repeat(200)]
    const o = Object.fromEntries(keys.map((k) => [k, 'bad']))
    const paths = perceive(m, [o])!.map((i) => i.path)
    expect(paths.sort()).toEqual(
      [
        'args[0]["0"]',
        'args[0]["1e3"]',
        'args[0]["a.b"]',
        'args[0]["with space"]',
        'args[0]["ü"]',
        'args[0].__proto__',
        'args[0][""]',
        'args[0]["a\\"b"]',
        'args[0]["line\\nbreak"]',
        `args[0]["${'k'.repeat(99)}…"]`,
        `args[0]["${'x'.repeat(99)}…"]`,
      ].sort(),
    )
  })

  it('names interfaces in messages and checks a rest parameter element by element', async () => {
    const m = await phasesFor(`interface Order { id: string }\nfunction f(o: Order, ...tags: string[]) {}`, 'f')
    expect(perceive(m, [{ id: 'a' }, 'x', 'y'])).toBeUndefined()
    expect(perceive(m, [null, 'x', 3])).toEqual([
      { path: 'args[0]', expected: 'Order', received: 'null' },
      { path: 'args[2]', expected: 'string', received: 'number' },
    ])
  })

  it('accepts extra properties, as TypeScript does for any value that is not a fresh object literal', async () => {
    const m = await phasesFor(`interface Point { x: number; y: number }\nfunction f(p: Point) {}`, 'f')
    expect(perceive(m, [{ x: 1, y: 2, label: 'extra', z: null }])).toBeUndefined()
  })

  it('checks arrays, Dates, functions and primitives against object types by their properties, as TypeScript does', async () => {
    const m = await phasesFor(
      `interface Named { name: string }\ninterface Point { x: number; y: number }\nfunction f(n: Named, p: Point, w: { a?: number }, l: { length: number }, u: number | Point) {}`,
      'f',
    )
    expect(perceive(m, [function named() {}, { x: 1, y: 2 }, {}, 'abc', 1])).toBeUndefined()
    expect(perceive(m, [{ name: 1 }, [1, 2], () => 1, 7, 'x'])).toEqual([
      { path: 'args[0].name', expected: 'string', received: 'number' },
      { path: 'args[1]', expected: 'Point', received: 'array' },
      { path: 'args[2]', expected: 'object', received: 'function' },
      { path: 'args[3]', expected: 'object', received: 'number' },
      { path: 'args[4]', expected: 'number | Point', received: 'string' },
    ])
  })

  it('describes received values without revealing them', async () => {
    const m = await phasesFor(`function f(a: string, b: string, c: string, d: string, e: string, g: string, h: string, i: string, j: string) {}`, 'f')
    expect(perceive(m, [NaN, Infinity, [], {}, new Date(NaN), () => 1, new Map([['k', 'v']]), new Set(), new Float64Array(2)])!.map((i) => i.received)).toEqual([
      'NaN',
      'Infinity',
      'array',
      'object',
      'invalid Date',
      'function',
      'Map',
      'Set',
      'Float64Array',
    ])
  })

  it('refuses a Map or a Set where a record or an object of optional properties is declared, as TypeScript does', async () => {
    const m = await phasesFor(`function f(r: Record<string, number>, w: { a?: number }, n: { [i: number]: number }, t: number[]) {}`, 'f')
    expect(perceive(m, [new Map([['a', 1]]), new Set([1]), new Map(), new Uint8Array(2)])).toEqual([
      { path: 'args[0]', expected: 'Record<string, number>', received: 'Map' },
      { path: 'args[1]', expected: 'object', received: 'Set' },
      { path: 'args[2]', expected: 'object', received: 'Map' },
      { path: 'args[3]', expected: 'number[]', received: 'Uint8Array' },
    ])
    // A typed array has the numeric index signature TypeScript asks for.
    expect(perceive(m, [{ a: 1 }, {}, new Uint8Array(2), [1]])).toBeUndefined()
  })
})

describe('compiled validators: weak types (every property optional) against values other than plain objects', () => {
  // tsc takes any value but null and undefined that shares a property with a weak type (a Map's size, a Date's getTime,
  // a string's length) and checks that property; it refuses one sharing none. The verdicts come from tsc itself.
  const CASES: [string, string][] = [
    ['{ size?: number }', 'new Map()'],
    ['{ size?: number }', 'new Map([["k", 1]])'],
    ['{ size?: number }', 'new Set([1])'],
    ['{ size?: string }', 'new Map()'],
    ['{ a?: number }', 'new Map()'],
    ['{ a?: number }', 'new Set()'],
    ['{ has?: (k: string) => boolean; a?: number }', 'new Set<string>()'],
    ['{ getTime?: () => number }', 'new Date(0)'],
    ['{ a?: number }', 'new Date(0)'],
    ['{ length?: number }', '[1, 2]'],
    ['{ length?: number }', '"abc"'],
    ['{ length?: string }', '"abc"'],
    ['{ length?: number }', '() => 1'],
    ['{ toFixed?: unknown }', '5'],
    ['{ size?: number }', '5'],
    ['{ size?: number }', 'null'],
    ['{ size?: number } & { a?: string }', 'new Map()'],
    ['{ size?: number } | boolean', 'new Map()'],
    ['Record<string, number>', 'new Map()'],
    ['{ [i: number]: number }', 'new Map()'],
  ]

  it('accepts and refuses what tsc accepts and refuses', async () => {
    const { rejected, preludeErrors } = tscVerdicts(
      CASES.map(([t], i) => `function f${i}(v: ${t}) {}`).join('\n'),
      CASES.map(([, v], i) => `f${i}(${v})`),
    )
    expect(preludeErrors).toEqual([])
    const values = await evaluate('', CASES.map(([, v]) => v))
    const verdicts = await Promise.all(
      CASES.map(async ([t], i) => {
        const m = await phasesFor(`function f(v: ${t}) {}`, 'f')
        return `${t} ← ${CASES[i]![1]}: ${perceive(m, [values[i]]) === undefined ? 'accepted' : 'refused'}`
      }),
    )
    expect(verdicts).toEqual(CASES.map(([t, v], i) => `${t} ← ${v}: ${rejected.has(i) ? 'refused' : 'accepted'}`))
  })
})

describe('compiled validators: recursive types', () => {
  const TREE = `interface Tree { value: number; children: Tree[] }\nfunction f(t: Tree): Tree { return t }`

  it('checks nested values with full paths', async () => {
    const m = await phasesFor(TREE, 'f')
    const tree = { value: 1, children: [{ value: 2, children: [{ value: 3, children: [] }, { value: 'four', children: [] }] }] }
    expect(perceive(m, [tree])).toEqual([{ path: 'args[0].children[0].children[1].value', expected: 'number', received: 'string' }])
    expect(enforce(m, tree)).toEqual([{ path: 'result.children[0].children[1].value', expected: 'number', received: 'string' }])
  })

  it('accepts a cyclic value without overflowing the stack, and still finds issues in it', async () => {
    const m = await phasesFor(TREE, 'f')
    const node: { value: unknown; children: unknown[] } = { value: 1, children: [] }
    node.children.push(node)
    expect(perceive(m, [node])).toBeUndefined()
    const bad: { value: unknown; children: unknown[] } = { value: 1, children: [] }
    bad.children.push({ value: 'x', children: [bad] })
    expect(perceive(m, [bad])).toEqual([{ path: 'args[0].children[0].value', expected: 'number', received: 'string' }])
  })

  it('checks an object met again in a cycle against each type it is reached as, not only the first', async () => {
    const m = await phasesFor(`interface A { b: B; y: number }\ninterface B { a: A; x: number }\nfunction f(a: A) {}`, 'f')
    // The same object as an A (which it is) and, through \`b\`, as a B (which it is not: no \`x\`).
    const o: Record<string, unknown> = { y: 1 }
    o.a = o
    o.b = o
    expect(perceive(m, [o])).toEqual([{ path: 'args[0].b.x', expected: 'number', received: 'undefined' }])
    o.x = 2
    expect(perceive(m, [o])).toBeUndefined()
  })

  it('rejects absurdly deep values instead of overflowing the stack', async () => {
    const m = await phasesFor(`interface List { value: number; next: List | null }\nfunction f(l: List) {}`, 'f')
    let list: { value: number; next: unknown } = { value: 0, next: null }
    for (let i = 1; i < 100_000; i++) list = { value: i, next: list }
    const issues = perceive(m, [list])!
    expect(issues).toHaveLength(1)
    expect(issues[0]!.expected).toBe('at most 2000 levels of nesting')
    expect(issues[0]!.path).toMatch(/^args\[0\](\.next){2000,}$/)
  })

  it('reports a value nested deeper than the stack holds as an issue, not a RangeError', async () => {
    const m = await phasesFor(`type Json = string | number | boolean | null | Json[] | { [key: string]: Json }\nfunction f(j: Json) {}`, 'f')
    let json: unknown = 1
    for (let i = 0; i < 1990; i++) json = [{ a: json }]
    // Called from deep in the caller's own stack, as a framework would.
    const at = (depth: number): ReturnType<typeof perceive> => (depth === 0 ? perceive(m, [json]) : at(depth - 1))
    const issues = at(2000)!
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatchObject({ expected: 'nesting the stack can hold', received: 'deeper nesting' })
    expect(issues[0]!.path).toMatch(/^args\[0\](\[0\]\.a)+/)
  })

  it("reports a RangeError of the value's own getter as the value's, not as nesting too deep", async () => {
    const m = await phasesFor(`interface List { value: number; next?: List }\nfunction f(l: List) {}`, 'f')
    const mine = new RangeError('value out of range')
    const list = {
      value: 1,
      next: {
        value: 2,
        get next(): never {
          throw mine
        },
      },
    }
    expect(perceive(m, [list])).toEqual([{ path: 'args[0]', expected: 'List', received: 'object that threw when read (RangeError: value out of range)' }])
  })

  it('checks a recursive JSON type', async () => {
    const m = await phasesFor(`type Json = string | number | boolean | null | Json[] | { [key: string]: Json }\nfunction f(j: Json) {}`, 'f')
    expect(perceive(m, [{ a: [1, 'x', { b: null }], c: true }])).toBeUndefined()
    expect(perceive(m, [{ a: [1, { b: undefined }] }])).toEqual([{ path: 'args[0].a[1].b', expected: 'string | number | boolean | null | Json[] | object', received: 'undefined' }])
  })
})

describe('compiled validators: domain rules', () => {
  const pack: DomainPack = {
    name: 'money',
    version: '1',
    description: 'test pack',
    helpers: 'const MONEY_KEYS = new Set(["amount", "total"])',
    perceive: [
      {
        id: 'money.non_negative',
        description: 'amounts are not negative',
        check: (site) =>
          site.type.kind === 'number' && site.key && ['amount', 'total'].includes(site.key)
            ? `if (MONEY_KEYS.has(${JSON.stringify(site.key)}) && ${site.value} < 0) issues = add(issues, ${site.path}, "non-negative amount", ${site.value}, "money.non_negative")`
            : undefined,
      },
      {
        id: 'money.repair_strings',
        description: 'trims currency codes under repair',
        check: (site) =>
          site.repair && site.key === 'currency' && site.target
            ? `if (${site.value} !== ${site.value}.trim()) { ${site.target} = ${site.value}.trim(); (ctx.repairs ??= []).push({ path: ${site.path}, action: "trimmed", rule: "money.repair_strings" }) }`
            : undefined,
      },
      {
        id: 'money.count',
        description: 'counts lines',
        whole: (spec, phase) => (phase === 'perceive' && spec.params.length ? `ctx.stats = { lines: Array.isArray(args[0]) ? args[0].length : 0 }` : undefined),
      },
    ],
  }
  const CODE = `function pay(lines: { amount: number; currency: string }[]) {}`

  it('runs rule checks at every value site after the type check passed, with paths, and whole-input rules', async () => {
    const m = await phasesFor(CODE, 'pay', { pack })
    const ctx = { functionId: 'x', executionId: 'e', repair: false } as Parameters<NonNullable<typeof m.perceive>>[1]
    expect(m.perceive!([[{ amount: 1, currency: 'EUR' }, { amount: -2, currency: 'EUR' }, { amount: 'x', currency: 'EUR' }]], ctx)).toEqual([
      { path: 'args[0][1].amount', expected: 'non-negative amount', received: 'number', rule: 'money.non_negative' },
      { path: 'args[0][2].amount', expected: 'number', received: 'string' },
    ])
    expect(ctx.stats).toEqual({ lines: 3 })
    expect(m.source).toContain('// rule money.non_negative')
  })

  it('lets rules repair through the assignable target under repair: true', async () => {
    const m = await phasesFor(CODE, 'pay', { pack, options: { repair: true } })
    const args = [[{ amount: 1, currency: ' EUR ' }]]
    const ctx = { functionId: 'x', executionId: 'e', repair: true } as Parameters<NonNullable<typeof m.perceive>>[1]
    expect(m.perceive!(args, ctx)).toBeUndefined()
    expect(args[0]![0]!.currency).toBe('EUR')
    expect(ctx.repairs).toEqual([{ path: 'args[0][0].currency', action: 'trimmed', rule: 'money.repair_strings' }])
  })

  it('takes the policy from the pack unless the options say otherwise', async () => {
    const withPolicy = { ...pack, policy: { attempts: 7, retryOn: 'transient' as const } }
    expect((await phasesFor(CODE, 'pay', { pack: withPolicy })).policy).toMatchObject({ attempts: 7, retryOn: 'transient' })
    expect((await phasesFor(CODE, 'pay', { pack: withPolicy, options: { attempts: 2 } })).policy).toMatchObject({ attempts: 2, retryOn: 'transient' })
  })
})

describe('compileValidator', () => {
  it('compiles one type to a body and its helpers, with a comment naming the type', () => {
    const { body, helpers } = compileValidator({ kind: 'array', element: { kind: 'number' } }, { types: {}, path: 'input' })
    expect(body.split('\n')[0]).toBe('// input: number[]')
    expect(body).toContain('"input[" + ')
    expect(helpers).toBe('import { describeValue as describe, addIssueReceived as addReceived, addIssue as add, addUnreadable as unreadable } from "unplugin-poet/runtime"')
  })
})

describe('compiled validators: repair', () => {
  const CODE = `function f(price: number, o: { qty: number; tags: number[] }): { total: number } { return null! }`

  it('converts numeric strings to numbers in place under repair: true, and records each repair', async () => {
    const m = await phasesFor(CODE, 'f', { options: { repair: true } })
    const args: unknown[] = ['9.5', { qty: ' 3 ', tags: [1, '2', 'x'] }]
    const ctx = { functionId: 'x', executionId: 'e', repair: true } as Parameters<NonNullable<typeof m.perceive>>[1]
    expect(m.perceive!(args, ctx)).toEqual([{ path: 'args[1].tags[2]', expected: 'number', received: 'string' }])
    expect(args).toEqual([9.5, { qty: 3, tags: [1, 2, 'x'] }])
    expect(ctx.repairs).toEqual([
      { path: 'args[0]', action: 'numeric string → number' },
      { path: 'args[1].qty', action: 'numeric string → number' },
      { path: 'args[1].tags[1]', action: 'numeric string → number' },
    ])
    const out = { functionId: 'x', executionId: 'e', repair: true, result: { total: '12' } } as Parameters<NonNullable<typeof m.enforce>>[1]
    expect(m.enforce!(out.result, out)).toBeUndefined()
    expect(out.result).toEqual({ total: 12 })
  })

  it('repairs every element of a huge array but keeps the first 100 repairs only, as it keeps the first issues', async () => {
    const m = await phasesFor(CODE, 'f', { options: { repair: true } })
    const tags = Array.from({ length: 1_000_000 }, (_, i) => String(i))
    const ctx = { functionId: 'x', executionId: 'e', repair: true } as Parameters<NonNullable<typeof m.perceive>>[1]
    expect(m.perceive!(['1', { qty: 1, tags }], ctx)).toBeUndefined()
    expect(tags[999_999]).toBe(999_999)
    expect(ctx.repairs).toHaveLength(100)
    expect(ctx.repairs![99]).toEqual({ path: 'args[1].tags[98]', action: 'numeric string → number' })
  })

  it('changes nothing without repair', async () => {
    const m = await phasesFor(CODE, 'f')
    const args: unknown[] = ['9.5', { qty: 3, tags: [] }]
    expect(perceive(m, args)).toEqual([{ path: 'args[0]', expected: 'number', received: 'string' }])
    expect(args[0]).toBe('9.5')
    expect(m.source).not.toContain('numeric string')
  })

  it('reports what it cannot write (a frozen input, a read-only result) instead of throwing a TypeError', async () => {
    const m = await phasesFor(CODE, 'f', { options: { repair: true } })
    const ctx = { functionId: 'x', executionId: 'e', repair: true } as Parameters<NonNullable<typeof m.perceive>>[1]
    const args = Object.freeze(['9.5', Object.freeze({ qty: '3', tags: Object.freeze(['2']) })])
    expect(m.perceive!(args as unknown[], ctx)).toEqual([
      { path: 'args[0]', expected: 'number', received: 'string' },
      { path: 'args[1].qty', expected: 'number', received: 'string' },
      { path: 'args[1].tags[0]', expected: 'number', received: 'string' },
    ])
    expect(ctx.repairs).toBeUndefined()
    const result = Object.freeze({ total: '12' })
    const out = { functionId: 'x', executionId: 'e', repair: true, result } as Parameters<NonNullable<typeof m.enforce>>[1]
    expect(m.enforce!(result, out)).toEqual([{ path: 'result.total', expected: 'number', received: 'string' }])
  })

  it('does not count blank or non-finite strings as numbers', async () => {
    const m = await phasesFor(CODE, 'f', { options: { repair: true } })
    const ctx = { functionId: 'x', executionId: 'e', repair: true } as Parameters<NonNullable<typeof m.perceive>>[1]
    expect(m.perceive!([' ', { qty: 'Infinity', tags: [] }], ctx)).toEqual([
      { path: 'args[0]', expected: 'number', received: 'string' },
      { path: 'args[1].qty', expected: 'number', received: 'string' },
    ])
  })
})

describe('compiled validators: recursive types with rules', () => {
  it('gives each phase its own checker for a recursive type, so each runs its own rules', async () => {
    const pack: DomainPack = {
      name: 'p',
      version: '1',
      description: 'phase-specific rules',
      perceive: [{ id: 'p.in', description: 'in', check: (s) => (s.key === 'value' ? `if (${s.value} > 10) issues = add(issues, ${s.path}, "at most 10", ${s.value}, "p.in")` : undefined) }],
      enforce: [{ id: 'p.out', description: 'out', check: (s) => (s.key === 'value' ? `if (${s.value} < 0) issues = add(issues, ${s.path}, "non-negative", ${s.value}, "p.out")` : undefined) }],
    }
    const m = await phasesFor(`interface Tree { value: number; children: Tree[] }\nfunction f(t: Tree): Tree { return t }`, 'f', { pack })
    const tree = { value: 1, children: [{ value: 50, children: [] }, { value: -1, children: [] }] }
    expect(perceive(m, [tree])).toEqual([{ path: 'args[0].children[0].value', expected: 'at most 10', received: 'number', rule: 'p.in' }])
    expect(enforce(m, tree)).toEqual([{ path: 'result.children[1].value', expected: 'non-negative', received: 'number', rule: 'p.out' }])
  })
})

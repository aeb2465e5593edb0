// Regressions the differential tests against tsc found: per type, the verdict a user sees on a valid call and the path of a real mismatch.
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { perceive, phasesFor } from './harness'

describe('type verdicts the TypeScript compiler agrees with', () => {
  it('interface accessors `get x(): T` / `set x(v: T)` are properties of type T, not methods', async () => {
    const m = await phasesFor(
      `interface Order { readonly id: string; get total(): number; set note(v: string); get items(): { price: number }[]; set items(v: { price: number }[]) }
       function checkout(order: Order) {}`,
      'checkout',
    )
    expect(perceive(m, [new (class { id = 'c1'; note = ''; get total() { return 3 } get items() { return [{ price: 1 }, { price: 2 }] } })()])).toBeUndefined()
    expect(perceive(m, [{ id: 'o1', total: 3, note: 'gift', items: [] }])).toBeUndefined()
    expect(perceive(m, [{ id: 'o1', total: 3, note: 'gift', items: [{ price: 1 }, { price: 2 }, { price: '3' }] }])).toEqual([
      { path: 'args[0].items[2].price', expected: 'number', received: 'string' },
    ])
    expect(perceive(m, [{ id: 'o1', total: () => 3, note: 1, items: [] }])).toEqual([
      { path: 'args[0].total', expected: 'number', received: 'function' },
      { path: 'args[0].note', expected: 'string', received: 'number' },
    ])
  })

  it('Record<string, any> and `[key: string]: any` take arrays, Dates, functions and class instances, as tsc does', async () => {
    const m = await phasesFor(
      `interface Bag { [key: string]: any }
       type Meta = { id: string; [key: string]: any }
       function log(attrs: Record<string, any>, bag: Bag, meta: Meta | null, both: { tags: string[] } & Record<string, any>) {}`,
      'log',
    )
    expect(perceive(m, [[1, 2], new Date(0), Object.assign(() => 1, { id: 'f' }), { tags: ['a'] }])).toBeUndefined()
    expect(perceive(m, [new Map(), () => 1, Object.assign([1], { id: 'arr' }), Object.assign(['x'], { tags: [] })])).toBeUndefined()
    expect(perceive(m, ['abc', 1, [1], { tags: ['a', 2] }])).toEqual([
      { path: 'args[0]', expected: 'Record<string, any>', received: 'string' },
      { path: 'args[1]', expected: 'Bag', received: 'number' },
      { path: 'args[2].id', expected: 'string', received: 'undefined' },
      { path: 'args[3].tags[1]', expected: 'string', received: 'number' },
    ])
  })

  it('a numeric index signature of strings (or of {}) takes a string, also as a union member, as tsc does', async () => {
    const m = await phasesFor(`type Chars = { [index: number]: string; label?: string }
function f(v: boolean | Chars, list: (Chars | number)[], any: { [i: number]: {} }) {}`, 'f')
    expect(perceive(m, ['abc', ['xy', 1, { 0: 'a' }], 'xyz'])).toBeUndefined()
    expect(perceive(m, [null, [1, { 0: 2 }], { 0: 'a' }])).toEqual([
      { path: 'args[0]', expected: 'boolean | Chars', received: 'null' },
      { path: 'args[1][1]["0"]', expected: 'string', received: 'number' },
    ])
  })

  it('keyof a type with numeric property names (`{ 0: T }`, Record<0 | 1, T>) is those numbers, as tsc has it', async () => {
    const m = await phasesFor(
      `type Slots = { 0: string; 1?: number; name: string }
       enum Level { Low = 1, High = 2 }
       type ByLevel = Record<Level | 'none', boolean>
       function pick(slot: keyof Slots, level: keyof ByLevel, picks: { at: keyof Slots }[]) {}`,
      'pick',
    )
    expect(perceive(m, [0, 2, [{ at: 1 }, { at: 'name' }]])).toBeUndefined()
    expect(perceive(m, ['none', 'none', [{ at: 0 }, { at: '1' }]])).toEqual([
      { path: 'args[0]', expected: '0 | 1 | "name"', received: '"none"' },
      { path: 'args[2][1].at', expected: '0 | 1 | "name"', received: '"1"' },
    ])
  })

  it('`{}` in an intersection adds nothing: `string & {}` is checked as string, `{} & {}` takes primitives', async () => {
    const m = await phasesFor(
      `type Size = 'sm' | 'lg' | (string & {})
       type Loose = {} & {}
       function style(size: Size, anything: Loose, sized: { w: number } & {}) {}`,
      'style',
    )
    expect(m.spec.unresolved.filter((u) => u.path !== 'result')).toEqual([])
    expect(perceive(m, ['xl', 0, { w: 1 }])).toBeUndefined()
    expect(perceive(m, [12, null, { w: '1' }])).toEqual([
      { path: 'args[0]', expected: '"sm" | "lg" | string', received: '12' },
      { path: 'args[1]', expected: '{}', received: 'null' },
      { path: 'args[2].w', expected: 'number', received: 'string' },
    ])
  })

  it('a spread tuple `[...Head, T]` checks the spread elements and the length', async () => {
    const m = await phasesFor(
      `type Point = [x: number, y: number]
       type Stamped = [...Point, at: Date]
       type Labeled = [label: string, ...rest: Point]
       function plot(p: Stamped, l: Labeled) {}`,
      'plot',
    )
    expect(perceive(m, [[1, 2, new Date(0)], ['a', 1, 2]])).toBeUndefined()
    expect(perceive(m, [[new Date(0)], ['a', 1, '2']])).toEqual([
      { path: 'args[0]', expected: '[number, number, Date]', received: '1 elements' },
      { path: 'args[1][2]', expected: 'number', received: 'string' },
    ])
  })

  it('a discriminated union of object types takes a function or an array that has the members\' properties, as tsc does', async () => {
    const m = await phasesFor(
      `type Handler = { kind: 'sync'; run: () => void } | { kind: 'batch'; size: number }
       function register(h: Handler) {}`,
      'register',
    )
    expect(perceive(m, [Object.assign(() => 1, { kind: 'sync' as const, run: () => {} })])).toBeUndefined()
    expect(perceive(m, [Object.assign([1, 2], { kind: 'batch' as const, size: 2 })])).toBeUndefined()
    expect(perceive(m, [{ kind: 'batch', size: '2' }])).toEqual([{ path: 'args[0].size', expected: 'number', received: 'string' }])
    // A function lacking a member's properties reads as one issue at the value, as for any object type checked by its properties.
    expect(perceive(m, [Object.assign(() => 1, { kind: 'batch' as const })])).toEqual([{ path: 'args[0]', expected: 'object', received: 'function' }])
    expect(perceive(m, ['sync'])).toEqual([{ path: 'args[0]', expected: 'Handler', received: 'string' }])
  })

  it('T[] takes a sparse array (new Array<T>(n), delete xs[i]): a hole is no element, and tsc types such arrays as T[]', async () => {
    const m = await phasesFor(`type Item = { price: number }
function total(prices: number[], items: readonly Item[]) {}`, 'total')
    const items: Item[] = [{ price: 1 }, { price: 2 }, { price: 3 }]
    delete items[1]
    expect(perceive(m, [new Array<number>(3), items])).toBeUndefined()
    const stale: Item[] = [{ price: 1 }, { price: 2 }, undefined as unknown as Item, { price: '4' } as unknown as Item]
    expect(perceive(m, [[1, undefined, 3], stale])).toEqual([
      { path: 'args[0][1]', expected: 'number', received: 'undefined' },
      { path: 'args[1][2]', expected: 'Item', received: 'undefined' },
      { path: 'args[1][3].price', expected: 'number', received: 'string' },
    ])
  })

  it('a required property of type unknown or any must be present (it may hold undefined), as tsc has it', async () => {
    const m = await phasesFor(`type Envelope<T> = { id: string; payload: T; meta?: unknown }
function publish(e: Envelope<unknown>, raw: { data: any }[]) {}`, 'publish')
    expect(perceive(m, [{ id: 'e1', payload: undefined }, [{ data: null }, { data: undefined }]])).toBeUndefined()
    expect(perceive(m, [{ id: 'e1' }, [{ data: 1 }, {}]])).toEqual([
      { path: 'args[0].payload', expected: 'unknown', received: 'missing' },
      { path: 'args[1][1].data', expected: 'any', received: 'missing' },
    ])
    expect(perceive(m, [true, []])).toEqual([
      { path: 'args[0]', expected: 'Envelope<unknown>', received: 'boolean' },
    ])
  })

  it('Date takes a Date from another realm (an iframe, a vm context), and still rejects a look-alike', async () => {
    const m = await phasesFor(`type Slot = { from: Date; to: Date | null }
function book(slots: Slot[]) {}`, 'book')
    const foreign = runInNewContext('new Date(0)') as Date
    expect(foreign instanceof Date).toBe(false)
    expect(perceive(m, [[{ from: foreign, to: null }]])).toBeUndefined()
    const lookalike = { getTime: () => 0, [Symbol.toStringTag]: 'Date' }
    expect(perceive(m, [[{ from: new Date(0), to: null }, { from: lookalike, to: foreign }, { from: foreign, to: '2024-01-01' }]])).toEqual([
      { path: 'args[0][1].from', expected: 'Date', received: 'object' },
      { path: 'args[0][2].to', expected: 'Date | null', received: 'string' },
    ])
  })

  it('Omit of a type with a string index signature keeps only the index signature, as tsc computes it', async () => {
    const m = await phasesFor(
      `interface Attrs { id: string; title: string; [key: string]: string | number }
       type Patch = Omit<Attrs, 'id'>
       type Counted = Omit<{ id: string; n: number; [i: number]: boolean }, 'id'>
       function update(patch: Patch, counted: Counted) {}`,
      'update',
    )
    expect(perceive(m, [{ width: 3 }, { n: 1, 0: true }])).toBeUndefined()
    expect(perceive(m, [{ title: true, width: 3 }, { 0: true }])).toEqual([
      { path: 'args[0].title', expected: 'string | number', received: 'boolean' },
      { path: 'args[1].n', expected: 'number', received: 'undefined' },
    ])
  })

  it('Required<T> takes undefined out of optional properties, so one typed only undefined admits no value', async () => {
    const m = await phasesFor(`type Draft = { title?: string | undefined; removed?: undefined }
function save(d: Required<Draft>) {}`, 'save')
    expect(perceive(m, [{ title: 'a', removed: undefined }])).toEqual([{ path: 'args[0].removed', expected: 'never', received: 'undefined' }])
    expect(perceive(m, [{ title: undefined }])).toEqual([
      { path: 'args[0].title', expected: 'string', received: 'undefined' },
      { path: 'args[0].removed', expected: 'never', received: 'undefined' },
    ])
  })

  it('Partial<T> lets the values of T\'s index signatures be undefined too, as tsc maps them', async () => {
    const m = await phasesFor(`interface Prices { base: number; [sku: string]: number }\nfunction patch(p: Partial<Prices>) {}`, 'patch')
    expect(perceive(m, [{ base: undefined, a1: undefined, b2: 3 }])).toBeUndefined()
    expect(perceive(m, [{ a1: '3' }])).toEqual([{ path: 'args[0].a1', expected: 'number | undefined', received: 'string' }])
  })

  it('an intersection with a weak part (nothing required) takes the shapes its other parts take, as tsc does', async () => {
    const m = await phasesFor(
      `type Row = { id?: string } & { [col: number]: string | number }
       type Tagged = { tag?: string } & Record<string, any>
       type Opts = { a?: number } & { b?: string }
       function load(row: Row, tagged: Tagged, opts: Opts) {}`,
      'load',
    )
    expect(perceive(m, [['x', 1], [1], {}])).toBeUndefined()
    expect(perceive(m, ['abc', () => 1, { a: 1 }])).toBeUndefined()
    expect(perceive(m, [[true], 'tag', [1]])).toEqual([
      { path: 'args[0]["0"]', expected: 'string | number', received: 'boolean' },
      { path: 'args[1]', expected: 'Tagged', received: 'string' },
      { path: 'args[2]', expected: 'Opts', received: 'array' },
    ])
  })

  it('a branded primitive (`string & { __brand }`) is checked as its primitive, nested and generic alike, not accepted blindly', async () => {
    const m = await phasesFor(
      `type UserId = string & { readonly __brand: 'UserId' }
       type Brand<T, B extends string> = T & { readonly __brand: B }
       type Cents = Brand<number, 'cents'>
       type Key = (string | number | null) & { __key: true }
       function pay(to: UserId, amount: Cents, lines: { sku: Brand<string, 'sku'>; qty: Cents }[], key: Key) {}`,
      'pay',
    )
    expect(m.spec.unresolved.filter((u) => u.path !== 'result')).toEqual([])
    expect(perceive(m, ['u1', 120, [{ sku: 'a', qty: 1 }], 7])).toBeUndefined()
    expect(perceive(m, [42, '120', [{ sku: null, qty: NaN }], null])).toEqual([
      { path: 'args[0]', expected: 'string', received: 'number' },
      { path: 'args[1]', expected: 'number', received: 'string' },
      { path: 'args[2][0].sku', expected: 'string', received: 'null' },
      { path: 'args[3]', expected: 'string | number', received: 'null' },
    ])
  })

  it('Exclude and Extract over primitives and object types (`Exclude<T, null>`, `Extract<T, string>`) are computed, as tsc distributes them', async () => {
    const m = await phasesFor(
      `type Shape = { kind: 'circle'; r: number } | { kind: 'square'; side: number }
       type Input = string | number | null | undefined
       type Key = 'id' | 'name' | 0 | 1
       function f(a: Exclude<Input, null | undefined>, b: Exclude<Shape | undefined, undefined>, c: Extract<Key, string>, d: Exclude<boolean | string, false>, e: Extract<Shape | string, object>) {}`,
      'f',
    )
    expect(m.spec.unresolved.filter((u) => u.path !== 'result')).toEqual([])
    expect(perceive(m, ['a', { kind: 'circle', r: 1 }, 'name', true, { kind: 'square', side: 2 }])).toBeUndefined()
    expect(perceive(m, [7, { kind: 'square', side: 1 }, 'id', 'x', { kind: 'circle', r: 0 }])).toBeUndefined()
    expect(perceive(m, [null, undefined, 0, false, 'circle'])).toEqual([
      { path: 'args[0]', expected: 'string | number', received: 'null' },
      { path: 'args[1]', expected: 'Shape', received: 'undefined' },
      { path: 'args[2]', expected: '"id" | "name"', received: '0' },
      { path: 'args[3]', expected: 'true | string', received: 'false' },
      { path: 'args[4]', expected: 'Shape', received: 'string' },
    ])
  })

  it('typeof a const (`(typeof ROLES)[number]`, `keyof typeof CONFIG`, `keyof typeof Enum`) is the type tsc infers, not any value', async () => {
    const m = await phasesFor(
      `import { FLAGS } from './flags'
       const ROLES = ['admin', 'user'] as const
       const LIMITS = { max: 10, unit: 'ms', tags: ['a'] }
       const MODE = 'fast'
       const DEFAULTS: { retries: number } = { retries: 3 }
       enum Color { Red, Green = 5 }
       type Role = (typeof ROLES)[number]
       function f(role: Role, key: keyof typeof LIMITS, limits: typeof LIMITS, color: keyof typeof Color, d: typeof DEFAULTS, mode: typeof MODE, flag: (typeof FLAGS)[keyof typeof FLAGS]) {}`,
      'f',
      { files: { '/project/src/flags.ts': "export const FLAGS = { on: 'ON', off: -1 } as const" } },
    )
    expect(m.spec.unresolved.filter((u) => u.path !== 'result')).toEqual([])
    expect(perceive(m, ['user', 'max', { max: 99, unit: 'h', tags: [] }, 'Green', { retries: 0 }, 'fast', -1])).toBeUndefined()
    expect(perceive(m, ['root', 'min', { max: '99', unit: 'h', tags: [1] }, 0, {}, 'slow', 'OFF'])).toEqual([
      { path: 'args[0]', expected: '"admin" | "user"', received: '"root"' },
      { path: 'args[1]', expected: '"max" | "unit" | "tags"', received: '"min"' },
      { path: 'args[2].max', expected: 'number', received: 'string' },
      { path: 'args[2].tags[0]', expected: 'string', received: 'number' },
      { path: 'args[3]', expected: '"Red" | "Green"', received: '0' },
      { path: 'args[4].retries', expected: 'number', received: 'undefined' },
      { path: 'args[5]', expected: '"fast"', received: '"slow"' },
      { path: 'args[6]', expected: '"ON" | -1', received: '"OFF"' },
    ])
  })

  it('under exactOptionalPropertyTypes, an optional property or element that is there holds its type (no explicit undefined), as tsc has it', async () => {
    const code = `type Profile = { name: string; nick?: string; age?: number | undefined }
       function save(p: Profile, patch: Partial<{ a: number }>, pair: [string, number?], all: Required<{ x?: number | undefined }>) {}`
    const exact = await phasesFor(code, 'save', { files: { '/project/tsconfig.json': '{ "extends": "./tsconfig.base.json" }', '/project/tsconfig.base.json': '{ "compilerOptions": { "strict": true, "exactOptionalPropertyTypes": true } }' } })
    expect(perceive(exact, [{ name: 'a', age: undefined }, {}, ['a'], { x: undefined }])).toBeUndefined()
    expect(perceive(exact, [{ name: 'a', nick: undefined }, { a: undefined }, ['a', undefined], {}])).toEqual([
      { path: 'args[0].nick', expected: 'string', received: 'undefined' },
      { path: 'args[1].a', expected: 'number', received: 'undefined' },
      { path: 'args[2][1]', expected: 'number', received: 'undefined' },
      { path: 'args[3].x', expected: 'number | undefined', received: 'missing' },
    ])
    // Without the option, `?` adds undefined to the type.
    const loose = await phasesFor(code, 'save', { files: { '/project/tsconfig.json': '{ "compilerOptions": { "strict": true } }' } })
    expect(perceive(loose, [{ name: 'a', nick: undefined }, { a: undefined }, ['a', undefined], { x: 1 }])).toBeUndefined()
  })

  it('a callable type with required properties (`{ (x: number): string; label: string }`) takes only a function that has them', async () => {
    const m = await phasesFor(
      `interface Formatter { (x: number): string; label: string }
       interface Named extends Formatter { locale?: string }
       type Loose = { (x: number): string; label?: string }
       function use(f: Formatter, g: Named, h: Loose) {}`,
      'use',
    )
    const fmt = Object.assign((x: number) => String(x), { label: 'plain' })
    expect(perceive(m, [fmt, fmt, () => 'x'])).toBeUndefined()
    expect(perceive(m, [() => 'x', Object.assign(() => 'x', { label: 1 }), { label: 'l' }])).toEqual([
      // As for any object type checked by its properties, a function lacking them reads as one issue at the value.
      { path: 'args[0]', expected: 'Formatter', received: 'function' },
      { path: 'args[1]', expected: 'Named', received: 'function' },
      { path: 'args[2]', expected: 'function', received: 'object' },
    ])
  })

  it('a type parameter with a constraint (`T extends Entity`) is checked against it; one without, or bound by another, stays unresolved', async () => {
    const m = await phasesFor(
      `interface Entity { id: string }
       class Repo<T extends Entity> {
         save<K extends 'draft' | 'live', V extends readonly number[], F, G extends Wrapped<F>>(item: T, items: T[], state: K, values: V, free: F, wrapped: G) {}
       }
       type Wrapped<X> = { inner: X }`,
      'save',
    )
    expect(m.spec.unresolved.filter((u) => u.path !== 'result').map((u) => `${u.path}: ${u.reason}`)).toEqual(['args[4]: generic type parameter F', 'args[5]: generic type parameter G'])
    expect(perceive(m, [{ id: 'a', extra: 1 }, [], 'live', [1, 2], Symbol(), { inner: 1 }])).toBeUndefined()
    expect(perceive(m, [{ id: 1 }, [null], 'gone', ['1'], undefined, 3])).toEqual([
      { path: 'args[0].id', expected: 'string', received: 'number' },
      { path: 'args[1][0]', expected: 'Entity', received: 'null' },
      { path: 'args[2]', expected: '"draft" | "live"', received: '"gone"' },
      { path: 'args[3][0]', expected: 'number', received: 'string' },
    ])
  })

  it('indexed access on a union of object types (`Action["type"]`) reads the property of every member', async () => {
    const m = await phasesFor(
      `type Action = { type: 'add'; item: string } | { type: 'remove'; id: number; note?: string } | { type: 'clear'; note: string }
       function dispatch(kind: Action['type'], note: Action['note']) {}`,
      'dispatch',
    )
    expect(m.spec.unresolved.filter((u) => u.path !== 'result').map((u) => u.reason)).toEqual(['property "note" does not exist on the indexed type'])
    expect(perceive(m, ['remove', 1])).toBeUndefined()
    expect(perceive(m, ['reset', 1])).toEqual([{ path: 'args[0]', expected: '"add" | "remove" | "clear"', received: '"reset"' }])
  })

  it('a class type is checked by its public instance members (its base class\'s too), as tsc checks a value against it', async () => {
    const code = `class Entity { readonly kind = 'entity'; createdAt = new Date(); constructor(public id: string, private secret = 0) {} get label(): string { return this.id } }
       class User extends Entity { static count = 0; #token = ''; protected role = 'user'; email?: string; greet() { return 'hi' } }
       function save(user: User, users: User[]) {}`
    const m = await phasesFor(code, 'save')
    expect(m.spec.unresolved.filter((u) => u.path !== 'result')).toEqual([])
    class Entity {
      readonly kind = 'entity'
      createdAt = new Date()
      constructor(public id: string, private secret = 0) {}
      get label(): string { return this.id + this.secret }
    }
    class User extends Entity {
      email?: string
      greet() { return 'hi' }
    }
    const user = new User('u1')
    expect(perceive(m, [user, [user, { kind: 'entity', createdAt: 0, id: 'u2', label: 'x', greet: () => 'yo' }]])).toBeUndefined()
    // A field that may hold undefined and has no initializer is not on an instance compiled without useDefineForClassFields.
    const form = await phasesFor(`class Form { value: string | undefined; declare note: unknown; touched = false }\nfunction submit(f: Form) {}`, 'submit')
    expect(perceive(form, [{ touched: true }])).toBeUndefined()
    expect(perceive(form, [{ value: 1 }])).toEqual([
      { path: 'args[0].value', expected: 'string | undefined', received: 'number' },
      { path: 'args[0].touched', expected: 'boolean', received: 'undefined' },
    ])
    expect(perceive(m, [{ kind: 'user', id: 7, label: 'x', greet: 'hi', email: null }, [null]])).toEqual([
      { path: 'args[0].kind', expected: '"entity"', received: '"user"' },
      { path: 'args[0].createdAt', expected: 'any', received: 'missing' },
      { path: 'args[0].id', expected: 'string', received: 'number' },
      { path: 'args[0].email', expected: 'string', received: 'null' },
      { path: 'args[0].greet', expected: 'function', received: 'string' },
      { path: 'args[1][0]', expected: 'User', received: 'null' },
    ])
  })
})

interface Item {
  price: number
}

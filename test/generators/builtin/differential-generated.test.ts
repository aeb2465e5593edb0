// TypeScript as the oracle over generated types: random annotations of the supported subset, random values for them, the same verdict from tsc and perceive.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { generateBuiltin } from '../../../src/generators/builtin'
import { renderPhaseModule } from '../../../src/generators/render'
import { resolveSignature } from '../../../src/generators/builtin/resolve'
import type { PhaseModule } from '../../../src/runtime/types'
import { ctx, findFunction, importModule, parseTs } from './harness'
import { evaluate, ORACLE_MAIN, tscVerdicts } from './oracle'

/**
 * Declarations the generated annotations use as leaves, and the helpers values use: `nullProto` passes an object
 * without a prototype, `bare()` an empty one (not typed `{}`, which tsc would fold with a primitive beside it in an
 * array literal), a spread `{ ...{ zz: 1 }, … }` passes extra properties the way a non-literal source does (TypeScript
 * checks excess properties of fresh literals only), `Pt` an instance with a prototype getter, and `id` makes a literal
 * no longer fresh.
 */
const PRELUDE = `
function nullProto<T extends object>(x: T): T { return Object.assign(Object.create(null), x) }
function bare(): { bare?: undefined } { return Object.create(null) }
function id<T>(x: T): T { return x }
class Pt { constructor(public x: number, public y: number) {} get z(): string { return 'z' } }
interface Point { x: number; y: number; z?: string }
interface Shaped { readonly x: number; get z(): string }
enum Color { Red, Green = 5, Blue }
enum Status { Open = 'open', Closed = 'closed' }
const enum Flag { On = 'on', Off = 'off' }
type Direction = 'up' | 'down'
type Box<T> = { value: T; tag?: string }
interface Pair<A, B = string> { first: A; second: B }
interface Labeled<T> extends Pair<T, T> { label: string }
type Maybe<T> = T | null
type List<T> = { item: T; next: List<T> | null }
interface Tree { value: number; kids: Tree[] }
type Json = string | number | boolean | null | Json[] | { [key: string]: Json }
type NumKeyed = { 0: string; 1?: number }
type Base = [string, number]
const sample = { a: 1, b: 'x' }
type IsString<T> = T extends string ? 'yes' : 'no'
`

/** A type of the supported subset, kept as a model so its text and its values are written independently of the resolver. */
type Model =
  | { k: 'prim'; name: 'string' | 'number' | 'boolean' | 'bigint' | 'symbol' | 'null' | 'undefined' | 'object' | 'unknown' | 'any' | 'never' | '{}' }
  | { k: 'lit'; text: string }
  | { k: 'union'; of: Model[] }
  | { k: 'inter'; of: Obj[] }
  | { k: 'array'; of: Model; style: 'postfix' | 'Array' | 'readonly' | 'ReadonlyArray' }
  | { k: 'tuple'; els: { m: Model; opt?: boolean; rest?: boolean; name?: string }[]; ro: boolean }
  | Obj
  | { k: 'record'; keys: string[] | 'string'; m: Model }
  | { k: 'date' }
  | { k: 'enum'; name: 'Color' | 'Status' | 'Flag' }
  | { k: 'named'; m: Obj; as: 'interface' | 'alias' }
  | { k: 'generic'; text: (args: string[]) => string; args: Model[]; expand: (args: Model[]) => Model }
  | { k: 'leaf'; text: string; values: string[] }

interface Obj {
  k: 'obj'
  props: { name: string; m: Model; opt: boolean; ro: boolean }[]
  index?: { key: 'string' | 'number'; m: Model }
}

const PROP_NAMES = ['a', 'b', 'kind', 'odd key', 'with-dash', 'x']

/** Values of any kind, used as near misses anywhere. */
const POOL = ['0', '"x"', 'true', 'null', 'undefined', '[]', '{}', '1n', 'new Date(0)', 'Symbol()', '() => 1', 'bare()', '[1, "a"]', 'new Pt(1, 2)']

/** Leaves whose resolution is exact (recursive types, templates, keyof of a resolvable object) or deliberately `unknown` (reported). */
const LEAVES: Model[] = [
  { k: 'leaf', text: 'Tree', values: ['{ value: 1, kids: [] }', '{ value: 1, kids: [{ value: 2, kids: [] }] }', '{ value: 1, kids: [{ value: "2", kids: [] }] }', '{ value: 1 }'] },
  { k: 'leaf', text: 'Json', values: ['1', '"a"', 'null', '[1, [true]]', '{ a: [1, { b: null }] }', 'undefined', '{ a: undefined }', '[() => 1]'] },
  { k: 'leaf', text: 'List<number>', values: ['{ item: 1, next: null }', '{ item: 1, next: { item: 2, next: null } }', '{ item: 1, next: { item: "2", next: null } }', '{ item: 1 }'] },
  { k: 'leaf', text: '`id-${number}`', values: ['"id-1"', '"id-"', '"id-0x1F"', '"id- 1"', '"id-a"', '"id-1e3"'] },
  { k: 'leaf', text: '`${Direction}-${boolean}`', values: ['"up-true"', '"down-false"', '"up-maybe"', '"left-true"'] },
  { k: 'leaf', text: '`${Color}`', values: ['"0"', '"5"', '"3"', '0'] },
  { k: 'leaf', text: 'keyof Point', values: ['"x"', '"z"', '"w"', '0'] },
  { k: 'leaf', text: 'keyof NumKeyed', values: ['0', '1', '"0"', '2'] },
  { k: 'leaf', text: 'Point["x"]', values: ['1', '"1"'] },
  { k: 'leaf', text: '[...Base, boolean]', values: ['["a", 1, true]', '["a", 1]', '[true]', '["a", 1, true, false]'] },
  { k: 'leaf', text: 'Shaped', values: ['new Pt(1, 2)', '{ x: 1, z: "a" }', '{ x: 1, z: 1 }', '{ x: 1 }'] },
  { k: 'leaf', text: 'typeof sample', values: ['{ a: 1, b: "y" }', '{ a: "1", b: "y" }', '1'] },
  { k: 'leaf', text: '{ [K in "a" | "b"]: number }', values: ['{ a: 1, b: 2 }', '{ a: 1 }', '1'] },
  { k: 'leaf', text: 'IsString<string>', values: ['"yes"', '"no"'] },
]

const str = fc.constantFrom('""', '"a"', '"kind"', '"x y"', '"0"')
const num = fc.constantFrom('0', '1', '-1.5', 'NaN', 'Infinity', '-Infinity', '-0', '1e21')

const prim = fc.constantFrom(...(['string', 'number', 'boolean', 'bigint', 'symbol', 'null', 'undefined', 'object', 'unknown', 'any', 'never', '{}'] as const)).map((name): Model => ({ k: 'prim', name }))
const lit = fc.constantFrom('"a"', '"b"', '"odd key"', '0', '1', '-1', '2.5', 'true', 'false', '10n').map((text): Model => ({ k: 'lit', text }))

const models = fc.letrec<{ model: Model; obj: Obj }>((tie) => ({
  model: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: prim },
    { weight: 3, arbitrary: lit },
    { weight: 1, arbitrary: fc.constant<Model>({ k: 'date' }) },
    { weight: 1, arbitrary: fc.constantFrom<Model>({ k: 'enum', name: 'Color' }, { k: 'enum', name: 'Status' }, { k: 'enum', name: 'Flag' }) },
    { weight: 2, arbitrary: fc.constantFrom(...LEAVES) },
    { weight: 3, arbitrary: fc.array(tie('model') as fc.Arbitrary<Model>, { minLength: 2, maxLength: 3 }).map((of): Model => ({ k: 'union', of })) },
    { weight: 2, arbitrary: discriminated(tie('obj') as fc.Arbitrary<Obj>) },
    { weight: 1, arbitrary: fc.array(tie('obj') as fc.Arbitrary<Obj>, { minLength: 2, maxLength: 2 }).map((of): Model => ({ k: 'inter', of })) },
    { weight: 3, arbitrary: fc.record({ of: tie('model') as fc.Arbitrary<Model>, style: fc.constantFrom('postfix', 'Array', 'readonly', 'ReadonlyArray') as fc.Arbitrary<'postfix'> }).map((a): Model => ({ k: 'array', ...a })) },
    { weight: 2, arbitrary: tuple(tie('model') as fc.Arbitrary<Model>) },
    { weight: 4, arbitrary: tie('obj') },
    { weight: 1, arbitrary: fc.record({ keys: fc.oneof(fc.constant('string' as const), fc.uniqueArray(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 3 })), m: tie('model') as fc.Arbitrary<Model> }).map((r): Model => ({ k: 'record', ...r })) },
    { weight: 2, arbitrary: fc.record({ m: tie('obj') as fc.Arbitrary<Obj>, as: fc.constantFrom('interface', 'alias') as fc.Arbitrary<'interface'> }).map((n): Model => ({ k: 'named', ...n })) },
    { weight: 2, arbitrary: generic(tie('model') as fc.Arbitrary<Model>) },
    { weight: 2, arbitrary: utility(tie('obj') as fc.Arbitrary<Obj>) },
  ),
  obj: fc
    .record({
      props: fc.uniqueArray(
        fc.record({ name: fc.constantFrom(...PROP_NAMES), m: tie('model') as fc.Arbitrary<Model>, opt: fc.boolean(), ro: fc.boolean() }),
        { maxLength: 3, selector: (p) => p.name },
      ),
      index: fc.option(fc.record({ key: fc.constantFrom('string', 'number') as fc.Arbitrary<'string'>, m: tie('model') as fc.Arbitrary<Model> }), { freq: 5, nil: undefined }),
    })
    // A string index signature must admit every property's type: only `any` and `unknown` are sure to.
    .map((o): Obj => ({ k: 'obj', props: o.props, ...(o.index ? { index: o.index.key === 'string' ? { key: 'string', m: { k: 'prim', name: o.index.m.k === 'prim' && o.index.m.name === 'any' ? 'any' : 'unknown' } } : o.index } : {}) })),
}))

function discriminated(obj: fc.Arbitrary<Obj>): fc.Arbitrary<Model> {
  return fc.array(obj, { minLength: 2, maxLength: 3 }).map((objs): Model => ({
    k: 'union',
    of: objs.map((o, i) => ({ ...o, props: [{ name: 'kind', m: { k: 'lit', text: `"k${i}"` }, opt: false, ro: false }, ...o.props.filter((p) => p.name !== 'kind')] })),
  }))
}

function tuple(model: fc.Arbitrary<Model>): fc.Arbitrary<Model> {
  const el = fc.record({ m: model, opt: fc.boolean(), name: fc.option(fc.constantFrom('p', 'q', 'r', 's'), { nil: undefined }) })
  return fc
    .record({ head: fc.array(el, { maxLength: 3 }), rest: fc.option(model, { nil: undefined }), tail: fc.array(model, { maxLength: 1 }), ro: fc.boolean() })
    .map(({ head, rest, tail, ro }): Model => {
      // TypeScript's tuple grammar: optional elements only before the rest element and after the required ones; no optional after a rest.
      const firstOpt = head.findIndex((e) => e.opt)
      const els: { m: Model; opt?: boolean; rest?: boolean; name?: string }[] = head.map((e, i) => ({ m: e.m, opt: firstOpt >= 0 && i >= firstOpt, ...(e.name ? { name: e.name } : {}) }))
      const named = els.length > 0 && els.every((e) => e.name)
      if (rest) els.push({ m: { k: 'array', of: rest, style: 'postfix' }, rest: true })
      if (rest && firstOpt < 0) els.push(...tail.map((m) => ({ m })))
      // Either every element is named or none is.
      const uniqueNames = new Set(els.map((e) => e.name)).size === els.length
      return { k: 'tuple', els: els.map((e, i) => (named && uniqueNames ? { ...e, name: e.name ?? `n${i}` } : { ...e, name: undefined })), ro }
    })
}

/** Partial, Required, Readonly, Pick, Omit, keyof and indexed access over a generated object type (declared as an alias). */
function utility(obj: fc.Arbitrary<Obj>): fc.Arbitrary<Model> {
  const picked = (o: Obj, keys: string[]) => o.props.filter((p) => keys.includes(p.name))
  return fc
    .record({ o: obj, fn: fc.constantFrom('Partial', 'Required', 'Readonly', 'Pick', 'Omit', 'keyof', 'index'), keys: fc.subarray(PROP_NAMES, { minLength: 1, maxLength: 2 }) })
    // Pick asks for keys the type has; keyof and indexed access need a property to be interesting.
    .filter(({ o, fn, keys }) => (fn === 'Pick' ? picked(o, keys).length > 0 : !['keyof', 'index'].includes(fn) || o.props.length > 0))
    .map((u) => (u.fn === 'Pick' ? { ...u, keys: picked(u.o, u.keys).map((p) => p.name) } : u))
    .map(({ o, fn, keys }): Model => {
      const named: Model = { k: 'named', m: o, as: 'alias' }
      const own = o.props.map((p) => p.name)
      switch (fn) {
        case 'keyof':
          // A string index adds string | number, a numeric one number: the literal names stay the interesting values.
          return { k: 'generic', text: ([t]) => `keyof ${t}`, args: [named], expand: () => ({ k: 'union', of: own.map((n): Model => ({ k: 'lit', text: JSON.stringify(n) })) }) }
        case 'index': {
          const key = own[0]!
          return { k: 'generic', text: ([t]) => `${t}[${JSON.stringify(key)}]`, args: [named], expand: () => o.props[0]!.m }
        }
        case 'Pick':
        case 'Omit': {
          const kept = fn === 'Pick' ? picked(o, keys) : o.props.filter((p) => !keys.includes(p.name))
          return { k: 'generic', text: ([t]) => `${fn}<${t}, ${keys.map((k) => JSON.stringify(k)).join(' | ')}>`, args: [named], expand: () => ({ k: 'obj', props: kept, ...(fn === 'Omit' && o.index ? { index: o.index } : {}) }) }
        }
        default:
          return { k: 'generic', text: ([t]) => `${fn}<${t}>`, args: [named], expand: () => ({ ...o, props: o.props.map((p) => ({ ...p, opt: fn === 'Partial' ? true : fn === 'Required' ? false : p.opt })) }) }
      }
    })
}

function generic(model: fc.Arbitrary<Model>): fc.Arbitrary<Model> {
  return fc.oneof(
    model.map((a): Model => ({ k: 'generic', text: ([t]) => `Box<${t}>`, args: [a], expand: ([t]) => ({ k: 'obj', props: [{ name: 'value', m: t!, opt: false, ro: false }, { name: 'tag', m: { k: 'prim', name: 'string' }, opt: true, ro: false }] }) })),
    model.map((a): Model => ({ k: 'generic', text: ([t]) => `Maybe<${t}>`, args: [a], expand: ([t]) => ({ k: 'union', of: [t!, { k: 'prim', name: 'null' }] }) })),
    model.map((a): Model => ({ k: 'generic', text: ([t]) => `Pair<${t}>`, args: [a], expand: ([t]) => ({ k: 'obj', props: [{ name: 'first', m: t!, opt: false, ro: false }, { name: 'second', m: { k: 'prim', name: 'string' }, opt: false, ro: false }] }) })),
    model.map((a): Model => ({
      k: 'generic',
      text: ([t]) => `Labeled<${t}>`,
      args: [a],
      expand: ([t]) => ({ k: 'obj', props: [{ name: 'first', m: t!, opt: false, ro: false }, { name: 'second', m: t!, opt: false, ro: false }, { name: 'label', m: { k: 'prim', name: 'string' }, opt: false, ro: false }] }),
    })),
  )
}

/** The annotation text of a model; named declarations it needs are appended to `decls`. */
function text(m: Model, decls: string[], prefix: string): string {
  switch (m.k) {
    case 'prim':
      return m.name
    case 'lit':
      return m.text
    case 'union':
      return m.of.map((x) => `(${text(x, decls, prefix)})`).join(' | ')
    case 'inter':
      return m.of.map((x) => `(${text(x, decls, prefix)})`).join(' & ')
    case 'array': {
      const el = text(m.of, decls, prefix)
      return m.style === 'postfix' ? `(${el})[]` : m.style === 'readonly' ? `readonly (${el})[]` : `${m.style}<${el}>`
    }
    case 'tuple':
      return `${m.ro ? 'readonly ' : ''}[${m.els
        .map((e) => {
          const t = e.rest ? `...${text(e.m, decls, prefix)}` : text(e.m, decls, prefix)
          if (e.name) return e.rest ? `...${e.name}: ${text(e.m, decls, prefix)}` : `${e.name}${e.opt ? '?' : ''}: ${t}`
          return e.opt ? `(${t})?` : t
        })
        .join(', ')}]`
    case 'obj': {
      const props = m.props.map((p) => `${p.ro ? 'readonly ' : ''}${JSON.stringify(p.name)}${p.opt ? '?' : ''}: ${text(p.m, decls, prefix)}`)
      if (m.index) props.push(`[key: ${m.index.key}]: ${text(m.index.m, decls, prefix)}`)
      return `{ ${props.join('; ')} }`
    }
    case 'record':
      return `Record<${m.keys === 'string' ? 'string' : m.keys.map((k) => JSON.stringify(k)).join(' | ')}, ${text(m.m, decls, prefix)}>`
    case 'date':
      return 'Date'
    case 'enum':
      return m.name
    case 'named': {
      const name = `${prefix}_${decls.length}`
      decls.push('')
      const body = text(m.m, decls, prefix)
      decls[Number(name.split('_').pop())] = m.as === 'interface' ? `interface ${name} ${body}` : `type ${name} = ${body}`
      return name
    }
    case 'generic':
      return m.text(m.args.map((a) => text(a, decls, prefix)))
    case 'leaf':
      return m.text
  }
}

const pool = fc.constantFrom(...POOL)

/** Values for a model: mostly well formed, with near misses at every level, so both verdicts are well represented. */
function values(m: Model, depth = 0): fc.Arbitrary<string> {
  const miss = (a: fc.Arbitrary<string>) => fc.oneof({ weight: 8, arbitrary: a }, { weight: 1, arbitrary: pool })
  if (depth > 6) return pool
  switch (m.k) {
    case 'prim':
      switch (m.name) {
        case 'string':
          return miss(str)
        case 'number':
          return miss(num)
        case 'boolean':
          return miss(fc.constantFrom('true', 'false'))
        case 'bigint':
          return miss(fc.constantFrom('0n', '-3n'))
        case 'null':
          return miss(fc.constant('null'))
        case 'undefined':
          return miss(fc.constant('undefined'))
        default:
          return fc.oneof(pool, fc.constantFrom('[1, , 3]', 'new Date(NaN)'))
      }
    case 'lit': {
      const near = m.text.startsWith('"') ? [m.text.slice(0, -1) + 'x"', '"A"'] : m.text === 'true' || m.text === 'false' ? ['true', 'false'] : m.text.endsWith('n') ? ['10', '11n'] : [String(Number(m.text) + 1), `"${m.text}"`, '-0']
      return fc.oneof({ weight: 3, arbitrary: fc.constant(m.text) }, { weight: 2, arbitrary: fc.constantFrom(...near) }, { weight: 1, arbitrary: pool })
    }
    case 'union':
      return fc.oneof(...m.of.map((x) => values(x, depth + 1)))
    case 'inter':
      return values({ k: 'obj', props: m.of.flatMap((o) => o.props).filter((p, i, all) => all.findIndex((q) => q.name === p.name) === i), ...(m.of.find((o) => o.index) ?? {}).index ? { index: m.of.find((o) => o.index)!.index } : {} }, depth)
    case 'array':
      return miss(fc.array(values(m.of, depth + 1), { maxLength: 3 }).map((xs) => `[${xs.join(', ')}]`))
    case 'tuple': {
      const parts = m.els.map((e) => {
        if (e.rest) return fc.array(values((e.m as Extract<Model, { k: 'array' }>).of, depth + 1), { maxLength: 2 })
        const one = values(e.m, depth + 1).map((x) => [x])
        return e.opt ? fc.oneof(one, fc.constant([] as string[]), fc.constant(['undefined'])) : fc.oneof({ weight: 8, arbitrary: one }, { weight: 1, arbitrary: fc.constant([] as string[]) })
      })
      const extra = fc.oneof({ weight: 8, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: pool.map((x) => [x]) })
      return miss(fc.tuple(...parts, extra).map((chunks) => `[${chunks.flat().join(', ')}]`))
    }
    case 'obj': {
      const props = m.props.map((p) =>
        fc.oneof(
          { weight: p.opt ? 2 : 12, arbitrary: values(p.m, depth + 1).map((x) => [`${JSON.stringify(p.name)}: ${x}`]) },
          { weight: 1, arbitrary: fc.constant([] as string[]) },
          ...(p.opt ? [{ weight: 1, arbitrary: fc.constant([`${JSON.stringify(p.name)}: undefined`]) }] : []),
        ),
      )
      const index = m.index
        ? fc.uniqueArray(fc.tuple(m.index.key === 'number' ? fc.constantFrom('0', '1', '7') : fc.constantFrom('k1', 'other key'), values(m.index.m, depth + 1)), { maxLength: 2, selector: (e) => e[0] }).map((es) => es.map(([k, x]) => `${JSON.stringify(k)}: ${x}`))
        : fc.constant([] as string[])
      const shape = fc.record({ props: fc.tuple(...props), index, extra: fc.constantFrom(false, false, false, true), wrap: fc.constantFrom('', '', '', '', '', 'nullProto') }).map(({ props, index, extra, wrap }) => {
        const body = `{ ${[...(extra ? ['...{ zz: 1 }'] : []), ...props.flat(), ...index].join(', ')} }`
        // Only at the top and around no array literal: in a generic call's argument, tsc types an array literal by its
        // elements alone and folds a primitive into an object type beside it ([1n, {}] becomes {}[]), accepting it.
        return wrap && depth === 0 && body !== '{  }' && !body.includes('[') ? `${wrap}(${body})` : body
      })
      return miss(shape)
    }
    case 'record': {
      const entries = m.keys === 'string' ? fc.uniqueArray(fc.tuple(fc.constantFrom('a', 'k2', 'odd key'), values(m.m, depth + 1)), { maxLength: 3, selector: (e) => e[0] }) : fc.tuple(...m.keys.map((k) => fc.option(values(m.m, depth + 1), { freq: 8, nil: undefined }).map((x) => [k, x] as const))).map((es) => es.filter((e): e is readonly [string, string] => e[1] !== undefined))
      return miss(entries.map((es) => `{ ${es.map(([k, x]) => `${JSON.stringify(k)}: ${x}`).join(', ')} }`))
    }
    case 'date':
      return miss(fc.constantFrom('new Date(0)', 'new Date(NaN)', '"2024-01-01"'))
    case 'enum':
      // Raw strings equal to a string member are the same values at run time, though TypeScript rejects them: not tried.
      return fc.oneof(
        fc.constantFrom(...{ Color: ['Color.Red', 'Color.Blue', '5', '7', 'Flag.On'], Status: ['Status.Open', 'Status.Closed', '"openx"', 'Flag.On'], Flag: ['Flag.On', 'Flag.Off', '"onx"', 'Status.Open'] }[m.name]),
        pool.filter((x) => x !== '"x"' || m.name !== 'Flag'),
      )
    case 'named':
      return values(m.m, depth)
    case 'generic':
      return values(m.expand(m.args), depth)
    case 'leaf':
      return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...m.values) }, { weight: 1, arbitrary: pool })
  }
}

/**
 * tsc's reasons that judge a static type rather than the value: excess properties of a fresh object literal, a source
 * sharing no property with a weak type (all optional), a class instance or an `object` lacking an implicit index
 * signature. The same value from another source (a variable of another type, a spread, a literal) is accepted, and
 * perceive sees only the value, so it accepts it: a rejection for these reasons alone is no disagreement.
 */
const STATIC_ONLY = /Object literal may only specify known properties|has no properties in common with type|Index signature for type '[^']+' is missing in type/

/**
 * Values whose static type tsc judges apart from their contents: a `Pt` instance's `x` is a `number` to tsc even when it
 * holds the 1 a literal type asks for, `bare()` and `nullProto(…)` are typed from their arguments, a spread's extra
 * properties and a literal's hole (`[1, , 3]`, an `undefined` to tsc, no element at run time) only exist for tsc.
 * They are there to catch false rejections; a tsc rejection of them is no disagreement.
 */
const STATIC_VALUE = /new Pt\(|bare\(\)|nullProto\(|\.\.\.\{ zz|, ,/

/**
 * Whether a type has a weak object type (properties, all optional) anywhere: tsc rejects a source sharing none of its
 * properties, but in a union it names another member as the reason, so such a rejection cannot be told from a real one.
 */
function hasWeakType(m: Model): boolean {
  switch (m.k) {
    case 'obj':
      return (m.props.length > 0 && !m.index && m.props.every((p) => p.opt)) || m.props.some((p) => hasWeakType(p.m)) || (!!m.index && hasWeakType(m.index.m))
    case 'union':
    case 'inter':
      return m.of.some(hasWeakType)
    case 'array':
      return hasWeakType(m.of)
    case 'tuple':
      return m.els.some((e) => hasWeakType(e.m))
    case 'record':
    case 'named':
      return hasWeakType(m.m)
    case 'generic':
      return hasWeakType(m.expand(m.args))
    default:
      return false
  }
}

/** Deterministic by default; `POET_DIFF_TYPES=2000 POET_DIFF_SEED=7 npx vitest run …differential-generated` explores further. */
const TYPES = Number(process.env.POET_DIFF_TYPES ?? 40)
const VALUES_PER_TYPE = Number(process.env.POET_DIFF_VALUES ?? 25)
const SEED = Number(process.env.POET_DIFF_SEED ?? 4242)
/** How many disagreements a failure lists (`POET_DIFF_SHOW=300` when exploring). */
const SHOW = Number(process.env.POET_DIFF_SHOW ?? 20)

interface Entry {
  annotation: string
  validator: PhaseModule
  /** What the resolver could not check (then accepting what tsc rejects is the documented gap, reported by `poet status`). */
  unresolved: string[]
}

async function buildEntries(annotations: string[], decls: string[]): Promise<Entry[]> {
  const prelude = `${PRELUDE}\n${decls.join('\n')}`
  const code = `${prelude}\n${annotations.map((a, i) => `function f${i}(v: ${a}) {}`).join('\n')}\n`
  const ast = parseTs(code)
  return Promise.all(
    annotations.map(async (annotation, i) => {
      const r = resolveSignature({ file: ORACLE_MAIN, code, ast, fn: findFunction(ast, `f${i}`), readFile: () => undefined })
      const spec = { id: `main.ts#f${i}`, file: ORACLE_MAIN, name: `f${i}`, kind: 'function' as const, async: false, params: r.params, returns: r.returns, types: r.types, options: {}, source: '', signature: r.signature, unresolved: r.unresolved }
      const validator = await importModule(renderPhaseModule(spec.id, generateBuiltin(spec)).source)
      return { annotation, validator, unresolved: r.unresolved.filter((u) => u.path !== 'result').map((u) => u.reason) }
    }),
  )
}

describe('differential over generated types: generated validators vs the TypeScript compiler', () => {
  it('never rejects what tsc accepts, and accepts what tsc rejects only where the type is reported unresolved', async () => {
    const generated = fc.sample(models.model, { numRuns: TYPES, seed: SEED })
    const decls: string[] = []
    const annotations = generated.map((m, i) => text(m, decls, `D${i}`))
    const entries = await buildEntries(annotations, decls)
    const owners: { entry: number; value: string }[] = []
    generated.forEach((m, i) => {
      for (const value of fc.sample(values(m), { numRuns: VALUES_PER_TYPE, seed: SEED + i })) owners.push({ entry: i, value })
    })
    const prelude = `${PRELUDE}\n${decls.join('\n')}`
    const statement = (o: { entry: number; value: string }, n: number, wrap = '') => `const v${n}: ${annotations[o.entry]} = ${wrap}(${o.value});`
    const { rejected, preludeErrors } = tscVerdicts(prelude, owners.map((o, n) => statement(o, n)))
    expect(preludeErrors).toEqual([])
    const runtime = await evaluate(prelude, owners.map((o) => o.value))

    const falseRejections: string[] = []
    const accepted: number[] = []
    const suspects: number[] = []
    owners.forEach(({ entry, value }, n) => {
      const e = entries[entry]!
      const issues = e.validator.perceive?.([runtime[n]], { ...ctx })
      if (!rejected.has(n)) accepted.push(n)
      if (!rejected.has(n) && issues) falseRejections.push(`${e.annotation} = ${value}: tsc accepts, perceive rejects ${JSON.stringify(issues)}`)
      if (rejected.has(n) && !issues && e.unresolved.length === 0 && !STATIC_ONLY.test(rejected.get(n)!) && !STATIC_VALUE.test(value)) suspects.push(n)
    })
    // The declarations the annotations name, shown with a failure.
    const context = decls.join('\n')
    expect(falseRejections.slice(0, SHOW), context).toEqual([])
    // A fresh literal is also rejected for excess properties, which a union reports under another member's name: the
    // same value passed through a generic identity (no longer fresh) tells a real disagreement from that.
    const again = tscVerdicts(prelude, suspects.map((n, k) => statement(owners[n]!, k, 'id')))
    const falseAcceptances = suspects
      .filter((n, k) => again.rejected.has(k) && !STATIC_ONLY.test(again.rejected.get(k)!) && !hasWeakType(generated[owners[n]!.entry]!))
      .map((n) => `${annotations[owners[n]!.entry]} = ${owners[n]!.value}: tsc rejects (${rejected.get(n)!.replace(/\s+/g, ' ')}), perceive accepts`)
    expect(falseAcceptances.slice(0, SHOW), context).toEqual([])
    // Both verdicts are well represented, so the comparison means something.
    expect(accepted.length).toBeGreaterThan(owners.length / 4)
    expect(owners.length - accepted.length).toBeGreaterThan(owners.length / 4)
  })

  it('accepts the run-time values a typed call passes that no literal writes: NaN, holes, instances, null prototypes, frozen, getters', async () => {
    const cases: [annotation: string, value: string][] = [
      ['number', 'NaN'],
      ['number', '-Infinity'],
      ['number', '-0'],
      ['number[]', 'new Array<number>(3)'],
      ['Box<number>[]', 'new Array<Box<number>>(2).concat([{ value: 1 }])'],
      ['readonly number[]', 'Object.freeze([1, 2])'],
      ['readonly [string, number]', 'Object.freeze(["a", 1] as const)'],
      ['Point', 'new Pt(1, 2)'],
      ['Point', 'nullProto({ x: 1, y: 2 })'],
      ['Point', 'Object.freeze({ x: 1, y: 2 })'],
      ['Point', '{ ...{ extra: true, nested: { deep: 1 } }, x: 1, y: 2 }'],
      ['Point', '{ get x() { return 1 }, y: 2 }'],
      ['Shaped', 'new Pt(1, 2)'],
      ['Date', 'new Date(NaN)'],
      ['Maybe<Date>', 'new Date(8.64e15 + 1)'],
      ['Record<string, number>', 'nullProto({ a: 1, b: NaN })'],
      ['Record<string, any>', '[1, "a"]'],
      ['Record<string, any>', 'new Date()'],
      ['Record<string, any>', 'new Map()'],
      ['{ [key: string]: any }', '() => 1'],
      ['{ length: number }', '"abc"'],
      ['{ length: number }', '[1, 2]'],
      ['object', '() => 1'],
      ['Function', 'Pt'],
      ['() => number', 'Object.assign(() => 1, { extra: 1 })'],
      ['Pair<number>', 'nullProto({ first: Infinity, second: "" })'],
      ['Json', '{ a: [1, { b: null }], c: -0 }'],
    ]
    const { rejected, preludeErrors } = tscVerdicts(PRELUDE, cases.map(([t, v], n) => `const v${n}: ${t} = ${v};`))
    expect(preludeErrors).toEqual([])
    expect(cases.filter((_, n) => rejected.has(n))).toEqual([])
    const entries = await buildEntries(cases.map(([t]) => t), [])
    const runtime = await evaluate(PRELUDE, cases.map(([, v]) => v))
    const rejections = cases.flatMap(([t, v], n) => {
      const issues = entries[n]!.validator.perceive?.([runtime[n]], { ...ctx })
      return issues ? [`${t} = ${v}: ${JSON.stringify(issues)}`] : []
    })
    expect(rejections).toEqual([])
  })

  it('reports typeof a function, mapped, conditional and intrinsic string types as unresolved and checks nothing for them, rather than something wrong', async () => {
    const opaque = ['typeof id', '{ [K in "a" | "b"]: number }', 'IsString<string>', 'Uppercase<"a">', 'ReturnType<() => number>']
    const entries = await buildEntries([...opaque, '{ list: (typeof id)[] }'], [])
    expect(entries.filter((e) => e.unresolved.length === 0).map((e) => e.annotation)).toEqual([])
    const anything = [1, 'A', undefined, { a: 1, b: 'x' }]
    expect(entries.slice(0, opaque.length).filter((e) => anything.some((v) => e.validator.perceive?.([v], { ...ctx }) !== undefined)).map((e) => e.annotation)).toEqual([])
    // Around the unresolved part, the type is still checked.
    const nested = entries[opaque.length]!.validator
    expect(nested.perceive?.([{ list: [{ a: 'no' }, 7] }], { ...ctx })).toBeUndefined()
    expect(nested.perceive?.([{ list: 'no' }], { ...ctx })).toEqual([{ path: 'args[0].list', expected: 'unknown[]', received: 'string' }])
  })
})

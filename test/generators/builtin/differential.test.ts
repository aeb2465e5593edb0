// TypeScript as the oracle: for many generated values per annotation, the generated validator must accept exactly what `tsc` accepts.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { PhaseModule } from '../../../src/runtime/types'
import type { TypeIR } from '../../../src/generators/spec'
import { generateBuiltin } from '../../../src/generators/builtin'
import { renderPhaseModule } from '../../../src/generators/render'
import { resolveSignature } from '../../../src/generators/builtin/resolve'
import { ctx, findFunction, importModule, parseTs } from './harness'
import { ORACLE_MAIN as MAIN, tscVerdicts } from './oracle'

const ROOT = '/project/src'

/** Files the main file imports from: re-exports, `import type`, `.js` specifiers, index files. */
const FILES: Record<string, string> = {
  [`${ROOT}/models.ts`]: `
export interface Money { amount: number; currency: 'EUR' | 'USD' }
export type Line = { sku: string; price: Money; qty?: number }
export enum Status { Open = 'open', Closed = 'closed' }
export const enum Level { Low = 1, Mid, High = 10 }
export interface Audited { createdAt: Date; by?: string }
`,
  [`${ROOT}/shapes/index.ts`]: `
export type Shape = { kind: 'circle'; radius: number } | { kind: 'square'; side: number } | { kind: 'rect'; w: number; h: number }
`,
  [`${ROOT}/barrel.ts`]: `
export * from './models.js'
export { Shape as AnyShape } from './shapes'
export type { Node as TreeNode } from './tree.js'
`,
  [`${ROOT}/tree.ts`]: `
export interface Node { value: number; children: Node[] }
`,
}

/** Declarations in the main file, shared by the corpus. */
const PRELUDE = `
import type { Money, Line, Audited } from './models.js'
import { Status, Level } from './barrel.js'
import type { AnyShape, TreeNode } from './barrel'
import * as M from './models'

interface Named { name: string }
interface Person extends Named { age: number; email?: string; readonly id: string }
interface Employee extends Person, Audited { role: 'dev' | 'ops' }
type Point = { x: number; y: number }
type Point3 = Point & { z: number }
type Id = string | number
type Direction = 'up' | 'down' | 'left' | 'right'
enum Color { Red, Green = 5, Blue }
enum Mixed { A = 'a', B = 2 }
const enum Flag { On = 'on', Off = 'off' }
type Pair = [string, number]
type OptTuple = [string, number?, boolean?]
type RestTuple = [string, ...number[]]
type MidRest = [boolean, ...string[], number]
type Dict = { [key: string]: number }
type NumDict = { [index: number]: string }
type WithIndex = { label: string; [key: string]: string }
type Event = { type: 'click'; x: number; y: number } | { type: 'key'; key: string } | { type: 'scroll'; delta?: number }
type Result = { ok: true; value: number } | { ok: false; error: string }
type Json = string | number | boolean | null | Json[] | { [key: string]: Json }
interface LinkedList { value: string; next: LinkedList | null }
type Expr = { op: 'num'; n: number } | { op: 'add'; left: Expr; right: Expr } | { op: 'neg'; arg: Expr }
type Settings = { theme: 'dark' | 'light'; size: number; tags: string[] }
type Email = \`\${string}@\${string}\`
type Version = \`v\${number}.\${number}\`
type Cls = \`btn-\${'sm' | 'lg'}\`
type Flagged = \`\${boolean}-\${Direction}\`
interface Box<T> { value: T; label?: string }
type Maybe<T> = T | null
type RO = { readonly xs: readonly number[]; readonly p: Readonly<Point> }
type Keys = keyof Settings
type Theme = Settings['theme']
type NotNull = NonNullable<string | null | undefined>
type Small = Exclude<Direction, 'left' | 'right'>
`

/** At least 60 annotations covering every construct the resolver supports. */
const CORPUS: string[] = [
  // primitives and literals
  'string', 'number', 'boolean', 'bigint', 'null', 'undefined', 'object', '{}',
  '"a"', '42', 'true', '-1', '10n', '"a" | "b" | 3',
  // unions, nullables, optionals
  'string | number', 'string | null', 'number | undefined', 'Id | boolean', 'Direction', 'Maybe<Point>',
  // arrays
  'number[]', 'Array<string>', 'ReadonlyArray<boolean>', 'readonly Point[]', '(string | number)[]', 'number[][]', 'Direction[]',
  // tuples
  'Pair', 'OptTuple', 'RestTuple', 'MidRest', '[]', 'readonly [Id, Id]', '[x: number, y?: string]',
  // objects, interfaces, extends, intersections
  'Point', 'Point3', '{ a: number; b?: string; c: boolean | null }', 'Named', 'Person', 'Employee',
  '{ p: Point } & { q?: Point }', 'Point & Named', '{ "odd key": number; "with-dash"?: string }', '{ nested: { deeper: { leaf: string } } }',
  // records and index signatures
  'Dict', 'NumDict', 'WithIndex', 'Record<string, boolean>', 'Record<"x" | "y", number>', 'Record<Direction, Point | null>', 'Record<number, string>',
  // enums
  'Color', 'Mixed', 'Flag', 'Status', 'Level', 'Color.Green',
  // discriminated and other unions of objects
  'Event', 'Result', 'AnyShape', 'Point | Named', 'string | Point | number[]',
  // Date, bigint, readonly
  'Date', 'Date | string', 'bigint | number', 'RO',
  // utilities
  'Partial<Person>', 'Required<{ a?: number; b?: string }>', 'Pick<Person, "name" | "age">', 'Omit<Person, "email" | "id">', 'Readonly<Settings>',
  'Partial<Pick<Settings, "theme">>', 'Keys', 'Theme', 'NotNull', 'Small', 'Box<number>', 'Box<Point[]>',
  // template literal types
  'Email', 'Version', 'Cls', 'Flagged', '`id-${number}`', '`${bigint}n`',
  // top, bottom, symbols and functions
  'unknown', 'any', 'never', 'symbol', '() => void',
  // more nesting: unions inside arrays, tuples inside unions, template keys, imported enums through a namespace
  '{ kind: "a"; v: number }[] | null', '[number, number] | [string]', '{ [key: `data-${string}`]: number }', 'M.Status', 'Record<`${Direction}-id`, boolean>',
  '{ a?: number | undefined; b: string | undefined }', '`${number}`', '`${bigint}`', '`${number}px` | `${number}%`', '`a${string}b${string}c`', '`${Direction}:${number}`',
  // structural checks of exotic objects, keys through aliases
  '{ length: number }', '{ name: string; length?: number }', 'Record<Status | "x", number>', 'Pick<Person, "name"> & { extra?: Date }',
  // recursive
  'Json', 'LinkedList', 'Expr', 'TreeNode',
  // imported
  'Money', 'Line', 'Line[]', 'M.Money', 'Audited',
]

/** Deterministic by default; `POET_DIFF_RUNS=1000 POET_DIFF_SEED=7 npx vitest run …differential` explores further. */
const VALUES_PER_TYPE = Number(process.env.POET_DIFF_RUNS ?? 100)
const SEED = Number(process.env.POET_DIFF_SEED ?? 1000)

interface Val {
  /** TypeScript source text of the value. */
  js: string
  /** The same value at run time. */
  value: unknown
}

const ENUMS: Record<string, Record<string, string | number>> = {
  Color: { Red: 0, Green: 5, Blue: 6 },
  Mixed: { A: 'a', B: 2 },
  Flag: { On: 'on', Off: 'off' },
  Status: { Open: 'open', Closed: 'closed' },
  Level: { Low: 1, Mid: 2, High: 10 },
}

const v = (js: string, value: unknown): Val => ({ js, value })

const TRICKY: Record<'string' | 'number' | 'bigint', string[]> = {
  string: ['', '.', '@', 'a.b', '1'],
  number: ['0', '-1', ' ', ' 1 ', '\n2', '0x1F', '0b101', '0o7', '1e3', '1e999', '-0', '.5', '5.', '1_000', 'Infinity', 'NaN', '+3', '--1', '0.1.2', ''],
  bigint: ['0', '-5', '10', '01', '0x1F', '1.5', '1e3', '-0', ' 1', '+1', '1n', ''],
}

/**
 * Values of every kind, used as near misses anywhere. Only literals: `NaN` and `Infinity` are identifiers of type
 * `number`, which TypeScript lets into numeric enums; the validators deliberately do not (see compile.test.ts).
 */
const POOL: Val[] = [
  v('0', 0), v('1', 1), v('-2.5', -2.5), v('""', ''), v('"x"', 'x'), v('"a"', 'a'), v('true', true), v('false', false),
  v('null', null), v('undefined', undefined), v('[]', []), v('{}', {}), v('1n', 1n), v('new Date(0)', new Date(0)), v('[1, "a"]', [1, 'a']),
  v('Symbol()', Symbol()), v('() => 1', () => 1),
]
const pool = fc.constantFrom(...POOL)

const str = fc.string({ unit: fc.constantFrom('a', 'b', 'x', '-', '1', '@', '.', ' ', 'v'), maxLength: 6 }).map((s) => v(JSON.stringify(s), s))
const num = fc.oneof(
  fc.integer({ min: -5, max: 20 }),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.constant(-0),
).map((n) => v(numberText(n), n))

function numberText(n: number): string {
  if (Number.isNaN(n)) return 'NaN'
  if (n === Infinity) return 'Infinity'
  if (n === -Infinity) return '-Infinity'
  if (Object.is(n, -0)) return '-0'
  return String(n)
}

function literalVal(x: string | number | boolean | bigint): Val {
  if (typeof x === 'bigint') return v(`${x}n`, x)
  if (typeof x === 'number') return v(numberText(x), x)
  return v(JSON.stringify(x), x)
}

function objectVal(entries: [string, Val][]): Val {
  const value: Record<string, unknown> = {}
  for (const [k, x] of entries) value[k] = x.value
  return v(`{ ${entries.map(([k, x]) => `${JSON.stringify(k)}: ${x.js}`).join(', ')} }`, value)
}

function arrayVal(items: Val[]): Val {
  return v(`[${items.map((x) => x.js).join(', ')}]`, items.map((x) => x.value))
}

/**
 * Values for a type, mostly well-formed with near misses mixed in at every level (wrong kinds,
 * missing properties, wrong lengths, other literals), so both verdicts are well represented.
 */
function arbitraryFor(t: TypeIR, types: Record<string, TypeIR>, depth = 0): fc.Arbitrary<Val> {
  const miss = (a: fc.Arbitrary<Val>) => fc.oneof({ weight: 10, arbitrary: a }, { weight: 1, arbitrary: pool })
  const deref = (x: TypeIR): TypeIR => (x.kind === 'ref' ? deref(types[x.name]!) : x)
  const tooDeep = depth > 3
  if (depth > 10) return pool
  switch (t.kind) {
    case 'ref':
      return arbitraryFor(types[t.name]!, types, depth + 1)
    case 'string':
      return miss(str)
    case 'number':
      return miss(num)
    case 'boolean':
      return miss(fc.boolean().map((b) => v(String(b), b)))
    case 'bigint':
      return miss(fc.bigInt({ min: -5n, max: 5n }).map((b) => v(`${b}n`, b)))
    case 'null':
      return fc.oneof({ weight: 3, arbitrary: fc.constant(v('null', null)) }, { weight: 1, arbitrary: pool })
    case 'undefined':
      return fc.oneof({ weight: 3, arbitrary: fc.constant(v('undefined', undefined)) }, { weight: 1, arbitrary: pool })
    case 'unknown':
    case 'any':
    case 'never':
    case 'void':
    case 'symbol':
      return pool
    case 'object':
      return fc.oneof(pool, fc.constant(v('() => 1', () => 1)))
    case 'function':
      return fc.oneof(pool, fc.constant(v('() => 1', () => 1)))
    case 'literal': {
      const x = t.value
      const near =
        typeof x === 'string' ? [x + 'x', x.slice(1), x.toUpperCase()] : typeof x === 'number' ? [x + 1, -x, String(x)] : typeof x === 'bigint' ? [x + 1n, Number(x)] : [!x, String(x)]
      return fc.oneof({ weight: 4, arbitrary: fc.constant(literalVal(x)) }, { weight: 2, arbitrary: fc.constantFrom(...near.map(literalVal)) }, { weight: 1, arbitrary: pool })
    }
    case 'date':
      return miss(fc.integer({ min: 0, max: 1e12 }).map((ms) => v(`new Date(${ms})`, new Date(ms))))
    case 'enum': {
      const members = Object.entries(ENUMS[t.name]!)
      const good = fc.constantFrom(...members.map(([k, val]) => v(`${t.name}.${k}`, val)))
      // Raw numbers are valid for numeric enums; raw strings never are (string enums are nominal), so only other strings are tried.
      const raw = fc.constantFrom(...members.flatMap(([, val]) => (typeof val === 'number' ? [literalVal(val), literalVal(val + 100)] : [literalVal(val + 'z')])))
      // Likewise a pool value equal to a string member would be the same value at run time but rejected by tsc.
      const others = fc.constantFrom(...POOL.filter((p) => !members.some(([, val]) => typeof val === 'string' && val === p.value)))
      return fc.oneof({ weight: 4, arbitrary: good }, { weight: 2, arbitrary: raw }, { weight: 1, arbitrary: others })
    }
    case 'template': {
      const matching = fc.stringMatching(new RegExp(t.pattern), { size: 'xsmall' }).map((s) => v(JSON.stringify(s), s))
      const parts = t.parts
      // Holes filled with the strings where TypeScript's rules are subtle: blanks, hex, overflow, separators, signs.
      const filled = parts
        ? fc.tuple(...parts.holes.map((h) => fc.oneof(fc.constantFrom(...TRICKY[h]), str.map((x) => x.value as string)))).map((fills) => {
            const s = parts.texts.map((text, i) => text + (fills[i] ?? '')).join('')
            return v(JSON.stringify(s), s)
          })
        : matching
      return fc.oneof({ weight: 3, arbitrary: matching }, { weight: 3, arbitrary: filled }, { weight: 2, arbitrary: str }, { weight: 1, arbitrary: pool })
    }
    case 'array':
      return miss(tooDeep ? fc.constant(arrayVal([])) : fc.array(arbitraryFor(t.element, types, depth + 1), { maxLength: 4 }).map(arrayVal))
    case 'tuple': {
      const parts: fc.Arbitrary<Val[]>[] = t.elements.map((e) => {
        if (e.rest) {
          const rest = deref(e.type)
          return fc.array(arbitraryFor(rest.kind === 'array' ? rest.element : rest, types, depth + 1), { maxLength: 3 })
        }
        const one = arbitraryFor(e.type, types, depth + 1).map((x) => [x])
        return e.optional ? fc.oneof(one, fc.constant([] as Val[])) : fc.oneof({ weight: 8, arbitrary: one }, { weight: 1, arbitrary: fc.constant([] as Val[]) })
      })
      const extra = fc.oneof({ weight: 8, arbitrary: fc.constant([] as Val[]) }, { weight: 1, arbitrary: pool.map((x) => [x]) })
      return miss(fc.tuple(...parts, extra).map((chunks) => arrayVal(chunks.flat())))
    }
    case 'objectType': {
      const props = t.properties.map((p) => {
        if (p.optional && tooDeep) return fc.constant([] as [string, Val][])
        const value = arbitraryFor(p.type, types, depth + 1)
        const present = p.optional ? 1 : 25
        return fc.oneof({ weight: present, arbitrary: value.map((x) => [[p.name, x]] as [string, Val][]) }, { weight: 1, arbitrary: fc.constant([] as [string, Val][]) })
      })
      const index = (t.indexSignatures ?? []).map((s) => indexEntries(s.key, s.value, types, depth, t.properties.map((p) => p.name)))
      const shape = fc.tuple(...props, ...index).map((chunks) => objectVal(chunks.flat()))
      return t.properties.length === 0 && !t.indexSignatures ? pool : miss(shape)
    }
    case 'record':
      return miss(indexEntries(t.key, t.value, types, depth, []).map(objectVal))
    case 'union': {
      const members = tooDeep ? t.types.filter((m) => !mentionsRef(m)) : t.types
      return fc.oneof(...(members.length ? members : t.types.slice(0, 1)).map((m) => arbitraryFor(m, types, depth + 1)))
    }
    case 'intersection': {
      const merged = mergeObjects(t.types.map(deref), types)
      return merged ? arbitraryFor(merged, types, depth) : pool
    }
  }
}

/** Extra keys valid for an index signature's key type (TypeScript rejects other keys in a literal), with values. */
function indexEntries(key: TypeIR, value: TypeIR, types: Record<string, TypeIR>, depth: number, declared: string[]): fc.Arbitrary<[string, Val][]> {
  const deref = (x: TypeIR): TypeIR => (x.kind === 'ref' ? deref(types[x.name]!) : x)
  if (depth > 3) return fc.constant([])
  const k = deref(key)
  const keys: fc.Arbitrary<string> =
    k.kind === 'number' ? fc.constantFrom('0', '1', '2', '10') : k.kind === 'template' ? fc.stringMatching(new RegExp(k.pattern), { size: 'xsmall' }) : fc.constantFrom('k1', 'k2', 'other key', '3')
  return fc.uniqueArray(fc.tuple(keys.filter((x) => !declared.includes(x)), arbitraryFor(value, types, depth + 1)), { maxLength: 3, selector: (e) => e[0] })
}

function mergeObjects(parts: TypeIR[], types: Record<string, TypeIR>): TypeIR | undefined {
  const deref = (x: TypeIR): TypeIR => (x.kind === 'ref' ? deref(types[x.name]!) : x)
  const properties: Extract<TypeIR, { kind: 'objectType' }>['properties'] = []
  for (const part of parts.map(deref)) {
    if (part.kind === 'intersection') {
      const inner = mergeObjects(part.types, types)
      if (!inner || inner.kind !== 'objectType') return undefined
      properties.push(...inner.properties)
    } else if (part.kind === 'objectType') properties.push(...part.properties)
    else return undefined
  }
  return { kind: 'objectType', properties }
}

function mentionsRef(t: TypeIR): boolean {
  return JSON.stringify(t, (_k, x) => (typeof x === 'bigint' ? String(x) : x)).includes('"kind":"ref"')
}

interface Entry {
  annotation: string
  validator: PhaseModule
  types: Record<string, TypeIR>
  type: TypeIR
  unresolved: { path: string; reason: string }[]
}

async function buildEntries(): Promise<Entry[]> {
  const code = `${PRELUDE}\n${CORPUS.map((a, i) => `function f${i}(v: ${a}) {}`).join('\n')}\n`
  const ast = parseTs(code)
  return Promise.all(
    CORPUS.map(async (annotation, i) => {
      const r = resolveSignature({ file: MAIN, code, ast, fn: findFunction(ast, `f${i}`), readFile: (p) => FILES[p] })
      const spec = { id: `main.ts#f${i}`, file: MAIN, name: `f${i}`, kind: 'function' as const, async: false, params: r.params, returns: r.returns, types: r.types, options: {}, source: '', signature: r.signature, unresolved: r.unresolved }
      const validator = await importModule(renderPhaseModule(spec.id, generateBuiltin(spec)).source)
      return { annotation, validator, types: r.types, type: r.params[0]!.type, unresolved: r.unresolved.filter((u) => u.path !== 'result') }
    }),
  )
}

describe('differential: generated validators vs the TypeScript compiler', () => {
  it('resolves every annotation of the corpus', async () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(60)
    const entries = await buildEntries()
    const unresolved = entries.filter((e) => e.unresolved.length > 0 || (e.type.kind === 'unknown' && e.type.reason !== undefined)).map((e) => `${e.annotation}: ${JSON.stringify(e.unresolved)}`)
    expect(unresolved).toEqual([])
  })

  it('accepts exactly the values tsc accepts, for every annotation', async () => {
    const entries = await buildEntries()
    const samples = entries.map((e, i) => fc.sample(arbitraryFor(e.type, e.types), { numRuns: VALUES_PER_TYPE, seed: SEED + i }))
    const statements: string[] = []
    const owners: { entry: number; value: Val }[] = []
    samples.forEach((values, i) => {
      for (const value of values) {
        statements.push(`const v${statements.length}: ${entries[i]!.annotation} = ${value.js};`)
        owners.push({ entry: i, value })
      }
    })
    const { rejected, preludeErrors } = tscVerdicts(PRELUDE, statements, FILES)
    expect(preludeErrors).toEqual([])

    const disagreements: string[] = []
    const verdicts = entries.map(() => ({ accepted: 0, rejected: 0 }))
    owners.forEach(({ entry, value }, n) => {
      const tsAccepts = !rejected.has(n)
      const issues = entries[entry]!.validator.perceive?.([value.value], { ...ctx })
      verdicts[entry]![tsAccepts ? 'accepted' : 'rejected']++
      if (tsAccepts !== (issues === undefined)) {
        disagreements.push(`${entries[entry]!.annotation} = ${value.js}: tsc ${tsAccepts ? 'accepts' : 'rejects'}, validator ${issues ? `rejects (${JSON.stringify(issues)})` : 'accepts'}`)
      }
    })
    expect(disagreements.slice(0, 30)).toEqual([])
    // Every annotation saw both verdicts, so the comparison means something.
    const everything = ['unknown', 'any']
    const nothing = ['never']
    const oneSided = entries
      .filter((e, i) => (verdicts[i]!.accepted === 0 && !nothing.includes(e.annotation)) || (verdicts[i]!.rejected === 0 && !everything.includes(e.annotation)))
      .map((e) => e.annotation)
    expect(oneSided).toEqual([])
  })
})
